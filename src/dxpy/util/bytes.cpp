#include "dxpy/util/bytes.h"

#include <algorithm>

namespace dxpy {

void ByteWriter::varint_slow(uint64_t v) {
  while (v >= 0x80) {
    u8(static_cast<uint8_t>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  u8(static_cast<uint8_t>(v));
}

void ByteWriter::str_slow(std::string_view s) {
  varint(s.size());
  raw(s);
}

void ByteWriter::expand(size_t more) {
  // Doubling, and up to the capacity the string already has (a reused buffer's).
  size_t want = std::max({len_ + more, 2 * buf_.size(), buf_.capacity(), size_t{64}});
  buf_.resize(want);
}

Expected<uint64_t> ByteReader::fixed(int n) {
  if (remaining() < static_cast<size_t>(n))
    return make_error(Errc::kTruncated, "truncated: need " + std::to_string(n) + " bytes at offset " +
                                            std::to_string(pos_) + ", have " + std::to_string(remaining()));
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
  pos_ += static_cast<size_t>(n);
  return v;
}

Unexpected<Error> ByteReader::truncated(size_t need) const {
  return make_error(Errc::kTruncated, "truncated: need " + std::to_string(need) + " bytes at offset " +
                                          std::to_string(pos_) + ", have " + std::to_string(remaining()));
}
Expected<uint16_t> ByteReader::u16() {
  DXPY_TRY(uint64_t v, fixed(2));
  return static_cast<uint16_t>(v);
}
Expected<uint32_t> ByteReader::u32() {
  DXPY_TRY(uint64_t v, fixed(4));
  return static_cast<uint32_t>(v);
}
Expected<uint64_t> ByteReader::u64() { return fixed(8); }

Expected<uint64_t> ByteReader::varint_slow() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at_end()) return make_error(Errc::kTruncated, "truncated varint at offset " + std::to_string(pos_));
    auto byte = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && byte > 1) return make_error(Errc::kCorrupt, "varint overflows 64 bits");
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return v;
  }
  return make_error(Errc::kCorrupt, "varint longer than 10 bytes");
}

Expected<std::string_view> ByteReader::raw(size_t n) {
  if (n > remaining())
    return make_error(Errc::kTruncated, "truncated: string of " + std::to_string(n) + " bytes at offset " +
                                            std::to_string(pos_) + ", have " + std::to_string(remaining()));
  auto s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

Expected<std::string_view> ByteReader::str_slow() {
  DXPY_TRY(uint64_t n, varint());
  return raw(n);
}

}  // namespace dxpy
