#include "dxpy/util/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

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

TEST(Hash, ManyAtOnceEqualsOneByOne) {
  // Sizes around every boundary BLAKE3 has: blocks (64), chunks (1024), the tree's levels,
  // and past 16 chunks, where an input gets a call of its own.
  std::vector<size_t> sizes = {0, 1, 63, 64, 65, 127, 128, 1023, 1024, 1025, 1088, 2020, 2047, 2048, 2049,
                               3072, 4095, 4096, 4097, 5000, 8192, 8193, 16384, 17407, 17408, 17409, 40000, 100000};
  for (size_t s = 0; s < 3000; s += 37) sizes.push_back(s);
  std::string data(100000, '\0');
  for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<char>((k * 2654435761u) >> 13);
  std::vector<std::string_view> inputs;
  for (size_t k = 0; k < sizes.size(); ++k) inputs.push_back(std::string_view(data).substr(k % 7, std::min(sizes[k], data.size() - k % 7)));
  std::vector<Hash256> many(inputs.size());
  blake3_many(inputs.data(), inputs.size(), many.data());
  for (size_t k = 0; k < inputs.size(); ++k) EXPECT_EQ(to_hex(many[k]), to_hex(blake3(inputs[k]))) << inputs[k].size() << " bytes";
  // One at a time, and none.
  for (size_t k = 0; k < inputs.size(); k += 11) {
    Hash256 one;
    blake3_many(&inputs[k], 1, &one);
    EXPECT_EQ(one, blake3(inputs[k]));
  }
  blake3_many(nullptr, 0, nullptr);
}

TEST(Hash, PiecesEqualTheWhole) {
  std::string data(5000, 'x');
  for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<char>(k * 7);
  Blake3 h;
  h.update(std::string_view(data).substr(0, 10));
  h.update(std::string_view(data).substr(10, 2000));
  h.update("");
  h.update(std::string_view(data).substr(2010));
  EXPECT_EQ(h.finish(), blake3(data));
}

// Two threads hashing at once (collection does, on both cores) share BLAKE3's cached CPU
// features: set before main, so the sanitizers' TSan run of this test sees no race.
TEST(Hash, ThreadsHashAtOnce) {
  std::vector<std::string> data(64);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::string(100 + 300 * i, static_cast<char>('a' + i % 26));
  std::vector<std::string_view> views(data.begin(), data.end());
  auto work = [&](std::vector<Hash256>& out) {
    out.resize(views.size());
    blake3_many(views.data(), views.size(), out.data());
  };
  std::vector<Hash256> a, b;
  std::thread t1(work, std::ref(a)), t2(work, std::ref(b));
  t1.join();
  t2.join();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[5], blake3(data[5]));
}

}  // namespace
}  // namespace dxpy

namespace dxpy {
namespace {

// The cache files' checksum: the body in pieces gives the whole body's checksum, every
// byte of the checksummed header and of the body counts, the header's bytes after
// `header_bytes` do not, and the second half of the 32 bytes is zero.
TEST(Hash, HeaderBodyChecksumCoversHeaderAndBody) {
  std::string header(64, '\0'), body;
  for (int i = 0; i < 64; ++i) header[static_cast<size_t>(i)] = static_cast<char>(i * 7);
  for (int i = 0; i < 5000; ++i) body.push_back(static_cast<char>(i * 31 + i / 7));
  const Hash256 whole = header_body_checksum(header, 32, body);
  for (size_t k = 16; k < 32; ++k) EXPECT_EQ(whole[k], 0) << k;
  EXPECT_NE(whole, Hash256{});

  for (size_t cut1 : {size_t{0}, size_t{1}, size_t{17}, size_t{2500}}) {
    for (size_t cut2 : {cut1, cut1 + 1, size_t{4999}, size_t{5000}}) {
      std::string_view b(body);
      std::string_view pieces[] = {b.substr(0, cut1), b.substr(cut1, cut2 - cut1), b.substr(cut2)};
      EXPECT_EQ(header_body_checksum(header, 32, pieces, 3), whole) << cut1 << " " << cut2;
    }
  }
  for (size_t at : {size_t{0}, size_t{31}}) {
    std::string h = header;
    h[at] ^= 1;
    EXPECT_NE(header_body_checksum(h, 32, body), whole) << at;
  }
  std::string h = header;
  h[40] ^= 1;  // where the checksum itself is stored: not covered
  EXPECT_EQ(header_body_checksum(h, 32, body), whole);
  for (size_t at : {size_t{0}, size_t{2048}, size_t{4999}}) {
    std::string b = body;
    b[at] ^= 0x80;
    EXPECT_NE(header_body_checksum(header, 32, b), whole) << at;
  }
}

}  // namespace
}  // namespace dxpy
