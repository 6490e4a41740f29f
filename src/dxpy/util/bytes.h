#pragma once
/// Little-endian byte buffers: ByteWriter appends, ByteReader reads with bounds checks.
/// Variable-length integers are LEB128 (at most 10 bytes for a u64). A reader never reads
/// out of bounds: every read returns an Error once the input is exhausted or malformed.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "dxpy/util/expected.h"

namespace dxpy {

class ByteWriter {
 public:
  void u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { fixed(v, 2); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void varint(uint64_t v) {
    if (v < 0x80) buf_.push_back(static_cast<char>(v));
    else varint_slow(v);
  }
  void str(std::string_view s) {  // varint length, then the bytes
    varint(s.size());
    buf_.append(s);
  }
  void raw(std::string_view s) { buf_.append(s); }

  const std::string& bytes() const { return buf_; }
  std::string take() { return std::move(buf_); }
  size_t size() const { return buf_.size(); }

 private:
  void varint_slow(uint64_t v);
  void fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string buf_;
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
