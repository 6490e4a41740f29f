#include "dxpy/discovery/outline_codec.h"

#include "dxpy/core/codec_visit.h"

namespace dxpy::discovery {

constexpr uint8_t enum_limit(DefKind*) { return 3; }

template <class V> void visit_fields(V& v, Decorator& x) { v(x.text); v(x.line); }
template <class V> void visit_fields(V& v, Assignment& x) { v(x.name); v(x.value); v(x.line); }
template <class V> void visit_fields(V& v, SyntaxIssue& x) { v(x.line); v(x.message); }
template <class V>
void visit_fields(V& v, Def& x) {
  if constexpr (std::is_same_v<V, Decoder>) {
    if (++v.depth > kMaxOutlineDepth) return v.fail(Errc::kLimit, "outline nested too deeply");
  }
  v(x.kind); v(x.name); v(x.line); v(x.decorators); v(x.params); v(x.bases); v(x.body); v(x.assignments);
  v(x.conditional);
  if constexpr (std::is_same_v<V, Decoder>) --v.depth;
}
template <class V>
void visit_fields(V& v, Outline& x) { v(x.defs); v(x.assignments); v(x.imports); v(x.errors); }

namespace {
constexpr uint8_t kOutlineTag = 0x4f;  // 'O'
constexpr uint8_t kOutlineVersion = 1;
}  // namespace

std::string encode_outline(const Outline& o) { return encode_tagged(o, kOutlineTag, kOutlineVersion); }

Expected<Outline> decode_outline(std::string_view bytes) {
  return decode_tagged<Outline>(bytes, kOutlineTag, kOutlineVersion);
}

}  // namespace dxpy::discovery
