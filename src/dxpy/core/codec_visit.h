#pragma once
/// The machinery behind codec.h, for components that encode their own types the same way:
/// write `template <class V> void visit_fields(V& v, MyType& x) { v(x.a); v(x.b); }` and an
/// `enum_limit(MyEnum*)` for each enum, in MyType's namespace, then call
/// encode_tagged/decode_tagged with a tag of your own.

#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/util/bytes.h"
#include "dxpy/util/expected.h"

namespace dxpy {

// --- the one visitor per type ------------------------------------------------------------

template <class V> void visit_fields(V& v, TestId& x) { v(x.path); v(x.classes); v(x.name); v(x.param); }
template <class V> void visit_fields(V& v, Marker& x) { v(x.name); v(x.args); v(x.kwargs); }
template <class V> void visit_fields(V& v, FixtureId& x) { v(x.name); v(x.path); v(x.line); }
template <class V> void visit_fields(V& v, AssertionStats& x) { v(x.passed); v(x.failed); }
template <class V>
void visit_fields(V& v, TestCase& x) {
  v(x.id); v(x.file); v(x.line); v(x.kind); v(x.is_async); v(x.expand_at_runtime); v(x.markers); v(x.fixtures);
}
template <class V>
void visit_fields(V& v, TestResult& x) {
  v(x.id); v(x.status); v(x.duration_ns); v(x.message); v(x.traceback); v(x.stdout_text); v(x.stderr_text);
  v(x.assertions); v(x.properties); v(x.suite_properties); v(x.worker_warnings);
}

template <class V>
void visit_fields(V& v, FixtureDef& x) { v(x.id); v(x.scope); v(x.autouse); v(x.params); v(x.requests); }
template <class V>
void visit_fields(V& v, ImportRef& x) { v(x.module); v(x.names); v(x.aliases); v(x.alias); v(x.level); v(x.line); v(x.nested); }
// FileRecord and FileRecordHead share their leading fields through this one function, so a
// head decodes from the front of a record's bytes.
template <class V, class R>
void visit_record_head(V& v, R& x) {
  v(x.path); v(x.size); v(x.mtime_ns); v(x.content_hash); v(x.error); v(x.error_line); v(x.depends_on);
}
template <class V>
void visit_fields(V& v, FileRecord& x) {
  visit_record_head(v, x);
  v(x.tests); v(x.fixtures); v(x.imports); v(x.outline);
}
template <class V>
void visit_fields(V& v, FileRecordHead& x) { visit_record_head(v, x); }

// Exclusive upper bound of each enum's valid values.
constexpr uint8_t enum_limit(TestStatus*) { return kTestStatusCount; }
constexpr uint8_t enum_limit(TestKind*) { return 3; }
constexpr uint8_t enum_limit(FixtureScope*) { return kFixtureScopeCount; }

class Encoder {
 public:
  explicit Encoder(ByteWriter& w) : w_(w) {}
  void operator()(std::string& s) { w_.str(s); }
  void operator()(bool& b) { w_.u8(b ? 1 : 0); }
  template <class I>
    requires std::is_integral_v<I>
  void operator()(I& i) {
    if constexpr (std::is_signed_v<I>)  // zigzag, so small negatives stay short
      w_.varint((static_cast<uint64_t>(i) << 1) ^ static_cast<uint64_t>(i >> (sizeof(I) * 8 - 1)));
    else
      w_.varint(static_cast<uint64_t>(i));
  }
  template <class E>
    requires std::is_enum_v<E>
  void operator()(E& e) { w_.u8(static_cast<uint8_t>(e)); }
  template <class A, class B>
  void operator()(std::pair<A, B>& p) { (*this)(p.first); (*this)(p.second); }
  template <size_t N>
  void operator()(std::array<uint8_t, N>& a) { w_.raw(std::string_view(reinterpret_cast<const char*>(a.data()), N)); }
  // A presence byte, then the value: an empty value differs from none.
  template <class T>
  void operator()(std::optional<T>& o) {
    w_.u8(o ? 1 : 0);
    if (o) (*this)(*o);
  }
  template <class T>
  void operator()(std::vector<T>& xs) {
    w_.varint(xs.size());
    for (auto& x : xs) (*this)(x);
  }
  template <class T>
    requires std::is_class_v<T>
  void operator()(T& x) { visit_fields(*this, x); }

 private:
  ByteWriter& w_;
};

class Decoder {
 public:
  explicit Decoder(ByteReader& r) : r_(r) {}
  bool ok() const { return !failed_; }
  const Error& error() const { return error_; }
  /// For visit_fields of recursive types: stop decoding with an error.
  void fail(Errc code, std::string msg) {
    if (failed_) return;
    failed_ = true;
    error_ = Error{code, std::move(msg)};
  }
  /// Nesting depth of recursive types, which visit_fields maintains.
  int depth = 0;

  void operator()(std::string& s) {
    if (failed_) return;
    auto v = r_.str();
    if (take(v)) s.assign(*v);
  }
  void operator()(bool& b) {
    if (failed_) return;
    auto v = r_.u8();
    if (!take(v)) return;
    if (*v > 1) return fail(Errc::kCorrupt, "bool byte " + std::to_string(*v));
    b = *v == 1;
  }
  template <class I>
    requires std::is_integral_v<I>
  void operator()(I& i) {
    if (failed_) return;
    auto v = r_.varint();
    if (!take(v)) return;
    if constexpr (std::is_signed_v<I>) {
      static_assert(sizeof(I) == 8, "only int64_t is signed on the wire");
      i = static_cast<I>((*v >> 1) ^ (~(*v & 1) + 1));
    } else {
      if (*v > static_cast<uint64_t>(std::numeric_limits<I>::max()))
        return fail(Errc::kCorrupt, "integer " + std::to_string(*v) + " out of range");
      i = static_cast<I>(*v);
    }
  }
  template <class E>
    requires std::is_enum_v<E>
  void operator()(E& e) {
    if (failed_) return;
    auto v = r_.u8();
    if (!take(v)) return;
    if (*v >= enum_limit(static_cast<E*>(nullptr))) return fail(Errc::kCorrupt, "enum value " + std::to_string(*v));
    e = static_cast<E>(*v);
  }
  template <class A, class B>
  void operator()(std::pair<A, B>& p) { (*this)(p.first); (*this)(p.second); }
  template <size_t N>
  void operator()(std::array<uint8_t, N>& a) {
    if (failed_) return;
    auto v = r_.raw(N);
    if (take(v)) std::memcpy(a.data(), v->data(), N);
  }
  template <class T>
  void operator()(std::optional<T>& o) {
    if (failed_) return;
    auto v = r_.u8();
    if (!take(v)) return;
    if (*v > 1) return fail(Errc::kCorrupt, "presence byte " + std::to_string(*v));
    if (*v == 0) {
      o.reset();
      return;
    }
    (*this)(o.emplace());
  }
  template <class T>
  void operator()(std::vector<T>& xs) {
    if (failed_) return;
    auto n = r_.varint();
    if (!take(n)) return;
    // Every item takes at least one byte, so a count beyond the bytes left is corrupt;
    // this also bounds the allocation below.
    if (*n > r_.remaining()) return fail(Errc::kCorrupt, "count " + std::to_string(*n) + " exceeds the input");
    xs.clear();
    xs.reserve(static_cast<size_t>(*n));
    for (uint64_t k = 0; k < *n && !failed_; ++k) (*this)(xs.emplace_back());
  }
  template <class T>
    requires std::is_class_v<T>
  void operator()(T& x) { visit_fields(*this, x); }

 private:
  template <class X>
  bool take(const Expected<X>& v) {
    if (v) return true;
    failed_ = true;
    error_ = v.error();
    return false;
  }
  ByteReader& r_;
  bool failed_ = false;
  Error error_;
};

/// `{u8 tag, u8 version, fields...}`.
template <class T>
std::string encode_tagged(const T& v, uint8_t tag, uint8_t version) {
  ByteWriter w;
  w.u8(tag);
  w.u8(version);
  Encoder enc(w);
  enc(const_cast<T&>(v));  // the encoder only reads
  return w.take();
}

/// Decodes a T from the front of `bytes`; with `whole`, no bytes may follow it.
template <class T>
Expected<T> decode_tagged(std::string_view bytes, uint8_t want_tag, uint8_t want_version, bool whole = true) {
  ByteReader r(bytes);
  DXPY_TRY(uint8_t tag, r.u8());
  if (tag != want_tag)
    return make_error(Errc::kCorrupt, "wrong tag " + std::to_string(tag) + ", expected " + std::to_string(want_tag));
  DXPY_TRY(uint8_t version, r.u8());
  if (version != want_version)
    return make_error(Errc::kVersion, "codec version " + std::to_string(version) + ", expected " +
                                          std::to_string(want_version));
  T value{};
  Decoder dec(r);
  dec(value);
  if (!dec.ok()) return Unexpected<Error>{dec.error()};
  if (whole && !r.at_end()) return make_error(Errc::kCorrupt, std::to_string(r.remaining()) + " trailing bytes");
  return value;
}

}  // namespace dxpy
