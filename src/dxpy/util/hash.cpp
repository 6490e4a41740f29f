#include "dxpy/util/hash.h"

#include <blake3.h>

namespace dxpy {

Hash256 blake3(std::string_view data) {
  blake3_hasher h;
  blake3_hasher_init(&h);
  blake3_hasher_update(&h, data.data(), data.size());
  Hash256 out;
  blake3_hasher_finalize(&h, out.data(), out.size());
  return out;
}

uint64_t blake3_u64(std::string_view data) {
  Hash256 h = blake3(data);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(h[static_cast<size_t>(i)]) << (8 * i);
  return v;
}

std::string to_hex(const Hash256& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : h) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

}  // namespace dxpy
