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

std::string encode_outline(const Outline& o) {
  // Encoded into a buffer each thread keeps, then copied out at its exact size: no
  // reallocation as it grows, and no slack kept in the record.
  thread_local std::string scratch;
  ByteWriter w = ByteWriter::reusing(std::move(scratch));
  w.u8(kOutlineTag);
  w.u8(kOutlineVersion);
  Encoder enc(w);
  enc(const_cast<Outline&>(o));  // the encoder only reads
  std::string out(w.view());
  scratch = w.take_buffer();
  return out;
}

std::string encode_outline_for_record(const Outline& o) {
  for (const Def& d : o.defs)
    if (d.kind == DefKind::kClass) return encode_outline(o);
  thread_local std::string scratch;
  ByteWriter w = ByteWriter::reusing(std::move(scratch));
  w.u8(kOutlineTag);
  w.u8(kOutlineVersion);
  Encoder enc(w);
  std::vector<Def> no_defs;
  Outline& x = const_cast<Outline&>(o);  // the encoder only reads
  // visit_fields(Outline)'s order, with no defs.
  enc(no_defs);
  enc(x.assignments);
  enc(x.imports);
  enc(x.errors);
  std::string out(w.view());
  scratch = w.take_buffer();
  return out;
}

Expected<Outline> decode_outline(std::string_view bytes) {
  return decode_tagged<Outline>(bytes, kOutlineTag, kOutlineVersion);
}

}  // namespace dxpy::discovery
