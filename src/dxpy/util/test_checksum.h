#pragma once
/// Tests' own computation of a cache file's checksum (.dxti, .dxig), written from the
/// format comments (XXH3-128 of the header's first bytes and XXH3-128 of the body, in the
/// checksum field's first 16 bytes, the other 16 zero) rather than shared with the writer,
/// so that it also checks those comments.

#include <cstddef>
#include <cstring>
#include <string>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dxpy::testing {

inline void reseal_checksum(std::string& bytes, size_t header_size, size_t checksummed_header_bytes,
                            size_t checksum_offset) {
  XXH128_canonical_t body;
  XXH128_canonicalFromHash(&body, XXH3_128bits(bytes.data() + header_size, bytes.size() - header_size));
  std::string buf = bytes.substr(0, checksummed_header_bytes);
  buf.append(reinterpret_cast<const char*>(body.digest), sizeof body.digest);
  XXH128_canonical_t sum;
  XXH128_canonicalFromHash(&sum, XXH3_128bits(buf.data(), buf.size()));
  std::memcpy(bytes.data() + checksum_offset, sum.digest, sizeof sum.digest);
  std::memset(bytes.data() + checksum_offset + sizeof sum.digest, 0, 32 - sizeof sum.digest);
}

}  // namespace dxpy::testing
