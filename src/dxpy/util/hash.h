#pragma once
/// BLAKE3 content hashes (the C implementation from the blake3 sdist).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace dxpy {

using Hash256 = std::array<uint8_t, 32>;

Hash256 blake3(std::string_view data);
/// The first 8 bytes of the BLAKE3 hash, little-endian: a compact id for maps and tables.
uint64_t blake3_u64(std::string_view data);
std::string to_hex(const Hash256& h);

}  // namespace dxpy
