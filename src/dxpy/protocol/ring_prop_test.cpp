// The SPSC ring on its own, in one thread: records come out as they went in, whatever the
// wrap-around, and garbage in the shared words is an error rather than a wild access.
#include "dxpy/protocol/ring.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <memory>
#include <vector>

namespace dxpy::protocol {
namespace {

struct TestRing {
  explicit TestRing(uint32_t bytes, uint64_t start = 0) : data(bytes + 64, '\xee'), capacity(bytes) {
    ctl.write_pos = start;
    ctl.read_pos = start;
    writer = RingWriter(&ctl, data.data(), bytes);
    reader = RingReader(&ctl, data.data(), bytes);
  }
  RingControl ctl;
  std::string data;  // 64 guard bytes past the end must stay untouched
  uint32_t capacity;
  RingWriter writer;
  RingReader reader;
};

std::string payload(size_t n, uint64_t tag) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((tag * 37 + i) & 0xff);
  return s;
}

// The model: a FIFO of records and a count of the bytes they take.
RC_GTEST_PROP(Ring, FifoAcrossWrapAround, ()) {
  const uint32_t capacity = *rc::gen::element<uint32_t>(1024, 2048, 4096);
  // Start anywhere, also just below 2^64, so both the offset and the position wrap.
  const uint64_t start = *rc::gen::oneOf(rc::gen::arbitrary<uint64_t>(),
                                         rc::gen::inRange<uint64_t>(~uint64_t{0} - 8192, ~uint64_t{0}));
  TestRing ring(capacity, start);
  std::deque<std::pair<RecordKind, std::string>> model;
  uint64_t used = 0;
  uint64_t tag = 0;
  const auto steps = *rc::gen::inRange(1, 300);
  for (int step = 0; step < steps; ++step) {
    if (*rc::gen::inRange(0, 3) != 0) {
      const auto size = *rc::gen::inRange<size_t>(0, ring.writer.max_body() + 1);
      const auto split = *rc::gen::inRange<size_t>(0, size + 1);
      const auto kind = *rc::gen::element(RecordKind::kWhole, RecordKind::kChunk);
      const std::string body = payload(size, ++tag);
      auto wrote = ring.writer.try_write(kind, std::string_view(body).substr(0, split), std::string_view(body).substr(split));
      RC_ASSERT(wrote.has_value());
      const bool fits = used + kRecordHeaderSize + size <= capacity;
      RC_ASSERT(*wrote == fits);
      if (fits) {
        model.emplace_back(kind, body);
        used += kRecordHeaderSize + size;
      }
    } else {
      RecordKind kind{};
      std::string body;
      auto got = ring.reader.try_read(kind, body);
      RC_ASSERT(got.has_value());
      RC_ASSERT(*got == !model.empty());
      RC_ASSERT(ring.reader.empty() == (model.size() <= 1));
      if (*got) {
        RC_ASSERT(kind == model.front().first);
        RC_ASSERT(body == model.front().second);
        used -= kRecordHeaderSize + body.size();
        model.pop_front();
      }
    }
  }
  RC_ASSERT(ring.data.substr(capacity) == std::string(64, '\xee'));
}

// A corrupted peer may leave any values in the control words and the data: the reader
// reports an error or reads a record that lies within the ring, never outside it.
RC_GTEST_PROP(Ring, GarbageControlWordsAreErrors, (uint64_t read_pos, uint64_t write_pos)) {
  TestRing ring(1024);
  ring.ctl.read_pos = read_pos;
  ring.ctl.write_pos = write_pos;
  auto junk = *rc::gen::container<std::string>(1024, rc::gen::arbitrary<char>());
  std::copy(junk.begin(), junk.end(), ring.data.begin());
  RingReader reader(&ring.ctl, ring.data.data(), 1024);
  RingWriter writer(&ring.ctl, ring.data.data(), 1024);
  for (int i = 0; i < 4; ++i) {
    RecordKind kind{};
    std::string body;
    auto got = reader.try_read(kind, body);
    if (!got) {
      RC_ASSERT(got.error().code == Errc::kCorrupt);
      break;
    }
    if (*got) RC_ASSERT(body.size() <= writer.max_body());
  }
  ring.ctl.read_pos = write_pos + 2048;  // the consumer claims to be ahead of the producer
  RingWriter writer2(&ring.ctl, ring.data.data(), 1024);
  auto wrote = writer2.try_write(RecordKind::kWhole, "", std::string(100, 'x'));
  RC_ASSERT(!wrote.has_value());
  RC_ASSERT(ring.data.substr(1024) == std::string(64, '\xee'));
}

TEST(Ring, WakeFlagsFollowTheAnnouncements) {
  TestRing ring(1024);
  EXPECT_TRUE(ring.reader.arm());  // empty: may sleep
  EXPECT_EQ(*ring.writer.try_write(RecordKind::kWhole, "", "x"), true);
  EXPECT_TRUE(ring.writer.consumer_needs_wake());
  ring.reader.disarm();
  EXPECT_FALSE(ring.writer.consumer_needs_wake());
  EXPECT_FALSE(ring.reader.arm());  // data is there: no sleeping

  // Fill the ring; the producer may then sleep for room, and a read wakes it.
  while (*ring.writer.try_write(RecordKind::kWhole, "", std::string(100, 'y'))) {
  }
  EXPECT_TRUE(*ring.writer.arm(100));
  RecordKind kind{};
  std::string body;
  ASSERT_TRUE(*ring.reader.try_read(kind, body));
  EXPECT_TRUE(ring.reader.producer_needs_wake());
  ring.writer.disarm();
  EXPECT_FALSE(ring.reader.producer_needs_wake());
  EXPECT_FALSE(*ring.writer.arm(0));  // room for an empty record now
}

TEST(Ring, SizesAreChecked) {
  EXPECT_TRUE(valid_ring_bytes(1024));
  EXPECT_TRUE(valid_ring_bytes(1u << 20));
  EXPECT_FALSE(valid_ring_bytes(512));
  EXPECT_FALSE(valid_ring_bytes(3000));
  EXPECT_FALSE(valid_ring_bytes(uint64_t{1} << 31));
}

}  // namespace
}  // namespace dxpy::protocol
