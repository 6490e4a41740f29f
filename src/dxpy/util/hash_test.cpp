#include "dxpy/util/hash.h"

#include <gtest/gtest.h>

namespace dxpy {
namespace {

// Test vectors from the BLAKE3 specification.
TEST(Hash, Blake3KnownVectors) {
  EXPECT_EQ(to_hex(blake3("")), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  EXPECT_EQ(to_hex(blake3("abc")), "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
}

TEST(Hash, U64IsPrefixOfHash) {
  Hash256 h = blake3("abc");
  EXPECT_EQ(blake3_u64("abc") & 0xff, h[0]);
  EXPECT_NE(blake3_u64("abc"), blake3_u64("abd"));
}

}  // namespace
}  // namespace dxpy
