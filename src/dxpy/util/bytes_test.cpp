#include "dxpy/util/bytes.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace dxpy {
namespace {

TEST(Bytes, FixedWidthIsLittleEndian) {
  ByteWriter w;
  w.u16(0x0102);
  w.u32(0x03040506);
  EXPECT_EQ(w.bytes(), std::string("\x02\x01\x06\x05\x04\x03", 6));
}

TEST(Bytes, WriterReusesABuffer) {
  ByteWriter w;
  w.str("hello");
  w.varint(300);
  w.raw("!");
  const std::string first = w.bytes();
  EXPECT_EQ(w.view(), first);
  w.u8(7);  // still writable after bytes()
  EXPECT_EQ(w.size(), first.size() + 1);
  std::string buf = w.take_buffer();
  EXPECT_GE(buf.size(), first.size() + 1);
  ByteWriter again = ByteWriter::reusing(std::move(buf));
  EXPECT_EQ(again.size(), 0u);
  again.str("hi");
  EXPECT_EQ(again.take(), std::string("\x02hi", 3));
  ByteWriter appending(std::string("ab"));
  appending.raw("cd");
  EXPECT_EQ(appending.take(), "abcd");
  ByteWriter big;
  big.reserve(4);
  std::string long_text(1000, 'x');
  big.str(long_text);  // a two-byte length
  EXPECT_EQ(big.size(), 1002u);
}

TEST(Bytes, ReadPastEndIsAnError) {
  ByteReader r(std::string_view("\x01\x02", 2));
  auto v = r.u32();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kTruncated);
  EXPECT_EQ(r.position(), 0u);  // nothing consumed on failure
}

TEST(Bytes, StringLongerThanInputIsAnError) {
  ByteWriter w;
  w.varint(100);
  w.raw("abc");
  ByteReader r(w.bytes());
  EXPECT_FALSE(r.str());
}

TEST(Bytes, OverlongVarintIsCorrupt) {
  std::string eleven(11, '\xff');
  ByteReader r(eleven);
  auto v = r.varint();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kCorrupt);
}

RC_GTEST_PROP(Bytes, VarintRoundTrips, (uint64_t v)) {
  ByteWriter w;
  w.varint(v);
  RC_ASSERT(w.size() <= 10u);
  ByteReader r(w.bytes());
  auto got = r.varint();
  RC_ASSERT(got.has_value());
  RC_ASSERT(*got == v);
  RC_ASSERT(r.at_end());
}

RC_GTEST_PROP(Bytes, FixedAndStringsRoundTrip, (uint8_t a, uint16_t b, uint32_t c, uint64_t d, const std::string& s)) {
  ByteWriter w;
  w.u8(a);
  w.u16(b);
  w.u32(c);
  w.u64(d);
  w.str(s);
  ByteReader r(w.bytes());
  RC_ASSERT(*r.u8() == a);
  RC_ASSERT(*r.u16() == b);
  RC_ASSERT(*r.u32() == c);
  RC_ASSERT(*r.u64() == d);
  RC_ASSERT(*r.str() == s);
  RC_ASSERT(r.at_end());
}

}  // namespace
}  // namespace dxpy
