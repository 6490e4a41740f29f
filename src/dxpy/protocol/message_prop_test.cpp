// Property 4 (header sizes and layout), Property 5 (round trip of every message) and
// Property 6 (malformed input is an error, never a crash or an out-of-bounds read).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstring>

#include "dxpy/protocol/message.h"
#include "dxpy/protocol/test_arbitrary.h"

namespace dxpy::protocol {
namespace {

uint64_t le(std::string_view b, size_t off, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[off + i])) << (8 * i);
  return v;
}

void set_le(std::string& b, size_t off, size_t n, uint64_t v) {
  for (size_t i = 0; i < n; ++i) b[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

/// Decodes `bytes` with the decoder of type `t`, keeping only success or failure.
Expected<void> decode_as(MessageType t, std::string_view bytes, uint32_t max = kDefaultMaxPayload) {
  auto keep = [](const auto& r) -> Expected<void> {
    if (!r) return Unexpected<Error>{r.error()};
    return {};
  };
  switch (t) {
    case MessageType::kHello: return keep(decode_hello(bytes, max));
    case MessageType::kTest: return keep(decode_test(bytes, max));
    case MessageType::kTestResult: return keep(decode_test_result(bytes, max));
    case MessageType::kCollectError: return keep(decode_collect_error(bytes, max));
    case MessageType::kLog: return keep(decode_log(bytes, max));
    case MessageType::kShutdown: return keep(decode_shutdown(bytes, max));
    case MessageType::kChunk: return keep(decode_chunk(bytes, max));
  }
  return make_error(Errc::kInternal, "bad type");
}

/// rapidcheck's size parameter grows to 100 over a run, which makes test cases of
/// kilobytes; `size` >= 0 caps it.
template <class T>
T arbitrary(int size) {
  return size < 0 ? *rc::gen::arbitrary<T>() : *rc::gen::resize(size, rc::gen::arbitrary<T>());
}

/// A valid encoded message of a random type, and that type.
std::pair<MessageType, std::string> any_encoded(int size = -1) {
  const auto type = static_cast<MessageType>(*rc::gen::inRange<uint8_t>(1, kMessageTypeLimit));
  switch (type) {
    case MessageType::kHello: return {type, encode(arbitrary<HelloMessage>(size))};
    case MessageType::kTest: return {type, encode(arbitrary<TestMessage>(size))};
    case MessageType::kTestResult: return {type, encode(arbitrary<TestResultMessage>(size))};
    case MessageType::kCollectError: return {type, encode(arbitrary<CollectErrorMessage>(size))};
    case MessageType::kLog: return {type, encode(arbitrary<LogMessage>(size))};
    case MessageType::kShutdown: return {type, encode(arbitrary<ShutdownMessage>(size))};
    case MessageType::kChunk: {
      const auto data = arbitrary<std::string>(size);
      const auto extra = *rc::gen::inRange<uint64_t>(0, 1000);
      return {type, encode(ChunkView{data.size() + extra, *rc::gen::arbitrary<uint32_t>(), extra == 0, data})};
    }
  }
  return {type, ""};
}

// --- Property 4: the headers are 32 and 40 bytes, every field where the layout says ------

RC_GTEST_PROP(ProtocolLayout, TestMessageHeaderIs32Bytes, (const TestMessage& m)) {
  const std::string b = encode(m);
  RC_ASSERT(kTestHeaderSize == 32u);
  RC_ASSERT(b.size() >= 32u);
  RC_ASSERT(std::memcmp(b.data(), "DXPM", 4) == 0);
  RC_ASSERT(le(b, 4, 1) == kVersion);
  RC_ASSERT(le(b, 5, 1) == static_cast<uint8_t>(MessageType::kTest));
  RC_ASSERT(le(b, 6, 2) == (m.last_of_module ? kFlagLastOfModule : 0u));
  RC_ASSERT(b.size() == 32 + le(b, 8, 4));
  RC_ASSERT(le(b, 12, 4) == m.timeout_ms);
  RC_ASSERT(le(b, 16, 8) == m.sequence);
  RC_ASSERT(le(b, 24, 2) == m.worker_id);
  RC_ASSERT(le(b, 26, 2) == m.attempt);
  RC_ASSERT(le(b, 28, 4) == 0u);
}

RC_GTEST_PROP(ProtocolLayout, TestResultHeaderIs40Bytes, (const TestResultMessage& m)) {
  const std::string b = encode(m);
  RC_ASSERT(kTestResultHeaderSize == 40u);
  RC_ASSERT(b.size() >= 40u);
  RC_ASSERT(std::memcmp(b.data(), "DXPM", 4) == 0);
  RC_ASSERT(le(b, 5, 1) == static_cast<uint8_t>(MessageType::kTestResult));
  RC_ASSERT(le(b, 6, 2) == ((m.output_truncated ? kFlagOutputTruncated : 0u) | (m.more_results ? kFlagMoreResults : 0u)));
  RC_ASSERT(b.size() == 40 + le(b, 8, 4));
  RC_ASSERT(le(b, 12, 1) == static_cast<uint8_t>(m.result.status));
  RC_ASSERT(le(b, 13, 1) == 0u);
  RC_ASSERT(le(b, 14, 2) == m.worker_id);
  RC_ASSERT(le(b, 16, 8) == m.sequence);
  RC_ASSERT(le(b, 24, 8) == m.result.duration_ns);
  RC_ASSERT(le(b, 32, 4) == m.result.assertions.passed);
  RC_ASSERT(le(b, 36, 4) == m.result.assertions.failed);
}

RC_GTEST_PROP(ProtocolLayout, EveryHeaderHasItsSize, ()) {
  auto [type, b] = any_encoded();
  auto h = read_header(b);
  RC_ASSERT(h.has_value());
  RC_ASSERT(h->type == type);
  RC_ASSERT(h->header_size == header_size(type));
  RC_ASSERT(h->total_size() == b.size());
}

// --- Property 5: decode(encode(m)) == m ---------------------------------------------------

template <class M, class Decode>
void check_round_trip(const M& m, Decode decode) {
  const std::string bytes = encode(m);
  auto back = decode(bytes, kDefaultMaxPayload);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == m);
}

RC_GTEST_PROP(ProtocolRoundTrip, TestMessage, (const TestMessage& m)) { check_round_trip(m, decode_test); }
RC_GTEST_PROP(ProtocolRoundTrip, TestResultMessage, (const TestResultMessage& m)) {
  check_round_trip(m, decode_test_result);
}
RC_GTEST_PROP(ProtocolRoundTrip, HelloMessage, (const HelloMessage& m)) { check_round_trip(m, decode_hello); }
RC_GTEST_PROP(ProtocolRoundTrip, ShutdownMessage, (const ShutdownMessage& m)) { check_round_trip(m, decode_shutdown); }
RC_GTEST_PROP(ProtocolRoundTrip, LogMessage, (const LogMessage& m)) { check_round_trip(m, decode_log); }
RC_GTEST_PROP(ProtocolRoundTrip, CollectErrorMessage, (const CollectErrorMessage& m)) {
  check_round_trip(m, decode_collect_error);
}
RC_GTEST_PROP(ProtocolRoundTrip, Chunk, (const std::string& data, uint32_t index, bool final, uint16_t extra)) {
  ChunkView c{data.size() + extra, index, final, data};
  const std::string bytes = encode(c);
  RC_ASSERT(bytes.substr(0, kChunkHeaderSize) == encode_chunk_header(c));
  auto back = decode_chunk(bytes);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == c);
}

// --- Property 6: malformed input ----------------------------------------------------------

RC_GTEST_PROP(ProtocolMalformed, RandomBytesNeverCrash, (const std::string& junk)) {
  // Without the magic it is always an error; behind a valid prefix, an error or a value.
  if (junk.size() < 4 || junk.compare(0, 4, "DXPM") != 0) RC_ASSERT(!validate(junk).has_value());
  const auto type = *rc::gen::inRange<uint8_t>(0, 10);
  std::string framed = std::string("DXPM") + static_cast<char>(kVersion) + static_cast<char>(type) + junk;
  (void)validate(framed);
  for (uint8_t t = 1; t < kMessageTypeLimit; ++t) (void)decode_as(static_cast<MessageType>(t), framed);
}

RC_GTEST_PROP(ProtocolMalformed, EveryTruncationIsAnError, ()) {
  auto [type, b] = any_encoded(25);  // every cut decodes the rest: quadratic in the size
  for (size_t cut = 0; cut < b.size(); ++cut) {
    const std::string_view prefix = std::string_view(b).substr(0, cut);
    auto r = decode_as(type, prefix);
    RC_ASSERT(!r.has_value());
    RC_ASSERT(r.error().code == Errc::kTruncated);
    RC_ASSERT(!validate(prefix).has_value());
  }
  RC_ASSERT(decode_as(type, b).has_value());
  RC_ASSERT(!decode_as(type, b + '\0').has_value());  // and a trailing byte
}

RC_GTEST_PROP(ProtocolMalformed, FlippedMagicVersionOrTypeIsAnError, (uint8_t mask)) {
  auto [type, b] = any_encoded();
  const auto at = *rc::gen::inRange<size_t>(0, 6);  // magic, version, type
  b[at] = static_cast<char>(b[at] ^ (mask | 1));
  auto r = decode_as(type, b);
  RC_ASSERT(!r.has_value());
  if (at < 4) RC_ASSERT(r.error().code == Errc::kCorrupt);
  if (at == 4) RC_ASSERT(r.error().code == Errc::kVersion);
}

RC_GTEST_PROP(ProtocolMalformed, PayloadLengthBeyondTheLimitIsAnError, ()) {
  auto [type, b] = any_encoded();
  const auto limit = *rc::gen::inRange<uint32_t>(0, 1u << 20);
  const auto length = *rc::gen::inRange<uint64_t>(uint64_t{limit} + 1, uint64_t{1} << 32);
  set_le(b, 8, 4, length);
  auto h = read_header(b, limit);
  RC_ASSERT(!h.has_value());
  RC_ASSERT(h.error().code == Errc::kLimit);
  auto r = decode_as(type, b, limit);
  RC_ASSERT(!r.has_value());
  RC_ASSERT(r.error().code == Errc::kLimit);
}

RC_GTEST_PROP(ProtocolMalformed, WrongPayloadLengthIsAnError, ()) {
  auto [type, b] = any_encoded();
  const uint64_t actual = le(b, 8, 4);
  const auto claimed = *rc::gen::inRange<uint64_t>(0, actual + 100);
  RC_PRE(claimed != actual);
  set_le(b, 8, 4, claimed);
  RC_ASSERT(!decode_as(type, b).has_value());
}

RC_GTEST_PROP(ProtocolMalformed, NonZeroReservedOrUndefinedFlagsAreErrors, (uint8_t value)) {
  RC_PRE(value != 0);
  std::string b = encode(arbitrary<TestResultMessage>(20));
  b[13] = static_cast<char>(value);  // reserved
  RC_ASSERT(!decode_test_result(b).has_value());
  std::string t = encode(arbitrary<TestMessage>(20));
  set_le(t, 6, 2, le(t, 6, 2) | (uint64_t{value} << 1));  // a flag beyond kFlagLastOfModule
  RC_ASSERT(!decode_test(t).has_value());
}

RC_GTEST_PROP(ProtocolMalformed, ByteFlipsAnywhereNeverCrash, (uint8_t mask)) {
  auto [type, b] = any_encoded();
  RC_PRE(!b.empty());
  const auto at = *rc::gen::inRange<size_t>(0, b.size());
  b[at] = static_cast<char>(b[at] ^ (mask | 1));
  (void)decode_as(type, b);
  (void)validate(b);
}

}  // namespace
}  // namespace dxpy::protocol
