#pragma once
/// Little-endian byte buffers: ByteWriter appends, ByteReader reads with bounds checks.
/// Variable-length integers are LEB128 (at most 10 bytes for a u64). A reader never reads
/// out of bounds: every read returns an Error once the input is exhausted or malformed.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "dxpy/util/expected.h"

namespace dxpy {

/// The little-endian integer at `p`: a fixed field of a cache file's header (.dxti, .dxig).
template <class T>
T load_le(const char* p) {
  static_assert(std::is_integral_v<T>);
  uint64_t v = 0;
  for (size_t k = 0; k < sizeof(T); ++k) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[k])) << (8 * k);
  return static_cast<T>(static_cast<std::make_unsigned_t<T>>(v));
}

template <class T>
void store_le(char* p, T value) {
  static_assert(std::is_integral_v<T>);
  auto v = static_cast<uint64_t>(static_cast<std::make_unsigned_t<T>>(value));
  for (size_t k = 0; k < sizeof(T); ++k) p[k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

class ByteWriter {
 public:
  ByteWriter() = default;
  /// Appends to `buf`'s bytes (and reuses its capacity); take() gives it back.
  explicit ByteWriter(std::string buf) : buf_(std::move(buf)), len_(buf_.size()) {}
  /// Writes from the start of `buf`, over its bytes: a buffer kept from one use to the next
  /// (see take_buffer) is neither trimmed nor filled again.
  static ByteWriter reusing(std::string buf) {
    ByteWriter w(std::move(buf));
    w.len_ = 0;
    return w;
  }

  void reserve(size_t n) {
    if (n > buf_.size()) buf_.resize(n);
  }
  // The fast paths are inline and write through a pointer: encoding a large index writes
  // millions of small fields. buf_ is kept longer than the bytes written (len_).
  void u8(uint8_t v) {
    if (len_ == buf_.size()) expand(1);
    buf_[len_++] = static_cast<char>(v);
  }
  void u16(uint16_t v) { fixed(v, 2); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void varint(uint64_t v) {
    if (v < 0x80) u8(static_cast<uint8_t>(v));
    else varint_slow(v);
  }
  void str(std::string_view s) {  // varint length, then the bytes
    const size_t n = s.size();
    if (n < 0x80 && buf_.size() - len_ > n) {
      char* p = buf_.data() + len_;
      *p = static_cast<char>(n);
      if (n) std::memcpy(p + 1, s.data(), n);
      len_ += 1 + n;
      return;
    }
    str_slow(s);
  }
  void raw(std::string_view s) {
    if (s.empty()) return;
    if (buf_.size() - len_ < s.size()) expand(s.size());
    std::memcpy(buf_.data() + len_, s.data(), s.size());
    len_ += s.size();
  }

  /// The bytes written. (It trims the buffer it keeps: like the writing calls, not for
  /// two threads at once.)
  const std::string& bytes() const {
    buf_.resize(len_);
    return buf_;
  }
  std::string take() {
    buf_.resize(len_);
    len_ = 0;
    return std::move(buf_);
  }
  size_t size() const { return len_; }
  /// The bytes written so far, in place.
  std::string_view view() const { return std::string_view(buf_.data(), len_); }
  /// The buffer for a later reusing(), its bytes left as they are; the writer is then empty.
  std::string take_buffer() {
    len_ = 0;
    return std::move(buf_);
  }

 private:
  void varint_slow(uint64_t v);
  void str_slow(std::string_view s);
  void expand(size_t more);  // room for `more` bytes after len_, at least
  void fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) u8(static_cast<uint8_t>((v >> (8 * i)) & 0xff));
  }
  mutable std::string buf_;  // bytes() trims it to len_
  size_t len_ = 0;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  // The fast paths are inline: decoding a large index reads millions of small fields.
  Expected<uint8_t> u8() {
    if (pos_ < data_.size()) return static_cast<uint8_t>(data_[pos_++]);
    return truncated(1);
  }
  Expected<uint16_t> u16();
  Expected<uint32_t> u32();
  Expected<uint64_t> u64();
  Expected<uint64_t> varint() {
    if (pos_ < data_.size() && !(static_cast<uint8_t>(data_[pos_]) & 0x80))
      return static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_++]));
    return varint_slow();
  }
  /// A varint length then that many bytes, viewed in place (valid while the input lives).
  Expected<std::string_view> str() {
    if (pos_ < data_.size()) {
      auto n = static_cast<uint8_t>(data_[pos_]);
      if (!(n & 0x80) && n < data_.size() - pos_) {
        std::string_view s = data_.substr(pos_ + 1, n);
        pos_ += 1 + n;
        return s;
      }
    }
    return str_slow();
  }
  Expected<std::string_view> raw(size_t n);

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  Expected<uint64_t> fixed(int n);
  Expected<uint64_t> varint_slow();
  Expected<std::string_view> str_slow();
  Unexpected<Error> truncated(size_t need) const;
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace dxpy
