#include "dxpy/protocol/message.h"

#include <cstring>
#include <limits>
#include <type_traits>

#include "dxpy/core/codec_visit.h"
#include "dxpy/util/bytes.h"

namespace dxpy::protocol {

// --- the layout, pinned ------------------------------------------------------------------

namespace w = wire;
static_assert(sizeof(w::Prefix) == 12);
static_assert(offsetof(w::Prefix, magic) == 0 && offsetof(w::Prefix, version) == 4 && offsetof(w::Prefix, type) == 5 &&
              offsetof(w::Prefix, flags) == 6 && offsetof(w::Prefix, payload_length) == 8);

static_assert(sizeof(w::TestHeader) == 32);
static_assert(offsetof(w::TestHeader, prefix) == 0 && offsetof(w::TestHeader, timeout_ms) == 12 &&
              offsetof(w::TestHeader, sequence) == 16 && offsetof(w::TestHeader, worker_id) == 24 &&
              offsetof(w::TestHeader, attempt) == 26 && offsetof(w::TestHeader, reserved) == 28);

static_assert(sizeof(w::TestResultHeader) == 40);
static_assert(offsetof(w::TestResultHeader, prefix) == 0 && offsetof(w::TestResultHeader, status) == 12 &&
              offsetof(w::TestResultHeader, reserved) == 13 && offsetof(w::TestResultHeader, worker_id) == 14 &&
              offsetof(w::TestResultHeader, sequence) == 16 && offsetof(w::TestResultHeader, duration_ns) == 24 &&
              offsetof(w::TestResultHeader, assertions_passed) == 32 &&
              offsetof(w::TestResultHeader, assertions_failed) == 36);

static_assert(sizeof(w::HelloHeader) == 24);
static_assert(offsetof(w::HelloHeader, pid) == 12 && offsetof(w::HelloHeader, worker_id) == 16 &&
              offsetof(w::HelloHeader, reserved16) == 18 && offsetof(w::HelloHeader, reserved32) == 20);

static_assert(sizeof(w::ShutdownHeader) == 16);
static_assert(offsetof(w::ShutdownHeader, grace_ms) == 12);

static_assert(sizeof(w::LogHeader) == 24);
static_assert(offsetof(w::LogHeader, level) == 12 && offsetof(w::LogHeader, reserved) == 13 &&
              offsetof(w::LogHeader, worker_id) == 14 && offsetof(w::LogHeader, sequence) == 16);

static_assert(sizeof(w::CollectErrorHeader) == 24);
static_assert(offsetof(w::CollectErrorHeader, worker_id) == 12 && offsetof(w::CollectErrorHeader, reserved) == 14 &&
              offsetof(w::CollectErrorHeader, sequence) == 16);

static_assert(sizeof(w::ChunkHeader) == 24);
static_assert(offsetof(w::ChunkHeader, index) == 12 && offsetof(w::ChunkHeader, total_length) == 16);

namespace {

// --- little-endian fields at the layout's offsets ----------------------------------------

template <class T>
void put_le(std::string& buf, size_t offset, T value) {
  static_assert(std::is_unsigned_v<T>);
  for (size_t i = 0; i < sizeof(T); ++i)
    buf[offset + i] = static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xff);
}

template <class T>
T get_le(std::string_view buf, size_t offset) {
  static_assert(std::is_unsigned_v<T>);
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(buf[offset + i])) << (8 * i);
  return static_cast<T>(v);
}

// The field's type and offset both come from the layout struct.
#define DXPY_PUT(buf, Layout, field, value) \
  put_le<decltype(Layout::field)>(buf, offsetof(Layout, field), static_cast<decltype(Layout::field)>(value))
#define DXPY_GET(buf, Layout, field) get_le<decltype(Layout::field)>(buf, offsetof(Layout, field))

constexpr uint16_t allowed_flags(MessageType t) {
  switch (t) {
    case MessageType::kTest: return kFlagLastOfModule;
    case MessageType::kTestResult: return kFlagOutputTruncated;
    case MessageType::kShutdown: return kFlagInterrupted;
    case MessageType::kChunk: return kFlagFinalChunk;
    default: return 0;
  }
}

std::string context(MessageType t) { return std::string(to_string(t)) + " message: "; }

Unexpected<Error> fail(MessageType t, Errc code, const std::string& what) {
  return make_error(code, context(t) + what);
}

// --- encoding ----------------------------------------------------------------------------

/// A buffer holding `header` zero bytes (reserved fields stay zero) for the payload to follow.
ByteWriter start(size_t header) {
  ByteWriter w;
  w.raw(std::string(header, '\0'));
  return w;
}

std::string finish(ByteWriter& w, MessageType type, uint16_t flags) {
  std::string buf = w.take();
  const size_t payload = buf.size() - header_size(type);
  // The worker truncates captured output long before this; a 4 GiB payload is a bug.
  DXPY_CHECK(payload <= std::numeric_limits<uint32_t>::max());
  std::memcpy(buf.data(), kMagic, sizeof(kMagic));
  DXPY_PUT(buf, w::Prefix, version, kVersion);
  DXPY_PUT(buf, w::Prefix, type, static_cast<uint8_t>(type));
  DXPY_PUT(buf, w::Prefix, flags, flags);
  DXPY_PUT(buf, w::Prefix, payload_length, payload);
  return buf;
}

// The payload of a result: what the header does not carry.
template <class V>
void visit_result_payload(V& v, TestResult& r) {
  v(r.id); v(r.message); v(r.traceback); v(r.stdout_text); v(r.stderr_text);
}

template <class V>
void visit_collect_error_payload(V& v, CollectErrorMessage& m) {
  v(m.file); v(m.message); v(m.traceback);
}

// --- decoding ----------------------------------------------------------------------------

/// The checked header of `bytes`, which must be exactly one message of type `want`.
Expected<MessageHeader> expect(std::string_view bytes, MessageType want, uint32_t max_payload) {
  DXPY_TRY(MessageHeader h, read_header(bytes, max_payload));
  if (h.type != want)
    return fail(want, Errc::kCorrupt, "the header says " + std::string(to_string(h.type)));
  if (bytes.size() < h.total_size())
    return fail(want, Errc::kTruncated, "truncated: " + std::to_string(bytes.size()) + " bytes of " +
                                            std::to_string(h.total_size()));
  if (bytes.size() > h.total_size())
    return fail(want, Errc::kCorrupt, std::to_string(bytes.size() - h.total_size()) + " bytes after the payload");
  return h;
}

Expected<void> expect_zero(MessageType t, uint64_t value, const char* field) {
  if (value != 0) return fail(t, Errc::kCorrupt, std::string("reserved field ") + field + " is " + std::to_string(value));
  return {};
}

/// Runs `visit(decoder)` over the payload, which must be used up exactly.
template <class F>
Expected<void> decode_payload(std::string_view bytes, const MessageHeader& h, F&& visit) {
  ByteReader r(bytes.substr(h.header_size));
  Decoder dec(r);
  visit(dec);
  if (!dec.ok()) return fail(h.type, dec.error().code, "payload: " + dec.error().message);
  if (!r.at_end())
    return fail(h.type, Errc::kCorrupt, "payload: " + std::to_string(r.remaining()) + " bytes left over");
  return {};
}

}  // namespace

std::string_view to_string(MessageType t) {
  switch (t) {
    case MessageType::kHello: return "hello";
    case MessageType::kTest: return "test";
    case MessageType::kTestResult: return "test-result";
    case MessageType::kCollectError: return "collect-error";
    case MessageType::kLog: return "log";
    case MessageType::kShutdown: return "shutdown";
    case MessageType::kChunk: return "chunk";
  }
  return "unknown";
}

size_t header_size(MessageType t) {
  switch (t) {
    case MessageType::kHello: return sizeof(w::HelloHeader);
    case MessageType::kTest: return sizeof(w::TestHeader);
    case MessageType::kTestResult: return sizeof(w::TestResultHeader);
    case MessageType::kCollectError: return sizeof(w::CollectErrorHeader);
    case MessageType::kLog: return sizeof(w::LogHeader);
    case MessageType::kShutdown: return sizeof(w::ShutdownHeader);
    case MessageType::kChunk: return sizeof(w::ChunkHeader);
  }
  return 0;
}

Expected<MessageHeader> read_header(std::string_view bytes, uint32_t max_payload) {
  if (bytes.size() < kPrefixSize)
    return make_error(Errc::kTruncated, "message of " + std::to_string(bytes.size()) + " bytes is shorter than the " +
                                            std::to_string(kPrefixSize) + "-byte prefix");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    return make_error(Errc::kCorrupt, "bad magic: not a dx-py protocol message");
  const uint8_t version = DXPY_GET(bytes, w::Prefix, version);
  if (version != kVersion)
    return make_error(Errc::kVersion, "protocol version " + std::to_string(version) + ", expected " +
                                          std::to_string(kVersion));
  const uint8_t type = DXPY_GET(bytes, w::Prefix, type);
  if (type == 0 || type >= kMessageTypeLimit)
    return make_error(Errc::kCorrupt, "unknown message type " + std::to_string(type));
  MessageHeader h;
  h.type = static_cast<MessageType>(type);
  h.header_size = static_cast<uint32_t>(header_size(h.type));
  h.flags = DXPY_GET(bytes, w::Prefix, flags);
  h.payload_length = DXPY_GET(bytes, w::Prefix, payload_length);
  if (bytes.size() < h.header_size)
    return fail(h.type, Errc::kTruncated, "header truncated: " + std::to_string(bytes.size()) + " bytes of " +
                                              std::to_string(h.header_size));
  if (h.flags & ~allowed_flags(h.type))
    return fail(h.type, Errc::kCorrupt, "undefined flags " + std::to_string(h.flags & ~allowed_flags(h.type)));
  if (h.payload_length > max_payload)
    return fail(h.type, Errc::kLimit, "payload of " + std::to_string(h.payload_length) + " bytes exceeds the limit of " +
                                          std::to_string(max_payload));
  return h;
}

// --- kTest -------------------------------------------------------------------------------

std::string encode(const TestMessage& m) {
  ByteWriter out = start(sizeof(w::TestHeader));
  Encoder enc(out);
  enc(const_cast<TestCase&>(m.test));  // the encoder only reads
  std::string buf = finish(out, MessageType::kTest, m.last_of_module ? kFlagLastOfModule : 0);
  DXPY_PUT(buf, w::TestHeader, timeout_ms, m.timeout_ms);
  DXPY_PUT(buf, w::TestHeader, sequence, m.sequence);
  DXPY_PUT(buf, w::TestHeader, worker_id, m.worker_id);
  DXPY_PUT(buf, w::TestHeader, attempt, m.attempt);
  return buf;
}

Expected<TestMessage> decode_test(std::string_view bytes, uint32_t max_payload) {
  constexpr auto kType = MessageType::kTest;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  DXPY_TRY_VOID(expect_zero(kType, DXPY_GET(bytes, w::TestHeader, reserved), "reserved"));
  TestMessage m;
  m.timeout_ms = DXPY_GET(bytes, w::TestHeader, timeout_ms);
  m.sequence = DXPY_GET(bytes, w::TestHeader, sequence);
  m.worker_id = DXPY_GET(bytes, w::TestHeader, worker_id);
  m.attempt = DXPY_GET(bytes, w::TestHeader, attempt);
  m.last_of_module = (h.flags & kFlagLastOfModule) != 0;
  DXPY_TRY_VOID(decode_payload(bytes, h, [&](Decoder& d) { d(m.test); }));
  return m;
}

// --- kTestResult -------------------------------------------------------------------------

std::string encode(const TestResultMessage& m) {
  ByteWriter out = start(sizeof(w::TestResultHeader));
  Encoder enc(out);
  visit_result_payload(enc, const_cast<TestResult&>(m.result));
  std::string buf = finish(out, MessageType::kTestResult, m.output_truncated ? kFlagOutputTruncated : 0);
  DXPY_PUT(buf, w::TestResultHeader, status, static_cast<uint8_t>(m.result.status));
  DXPY_PUT(buf, w::TestResultHeader, worker_id, m.worker_id);
  DXPY_PUT(buf, w::TestResultHeader, sequence, m.sequence);
  DXPY_PUT(buf, w::TestResultHeader, duration_ns, m.result.duration_ns);
  DXPY_PUT(buf, w::TestResultHeader, assertions_passed, m.result.assertions.passed);
  DXPY_PUT(buf, w::TestResultHeader, assertions_failed, m.result.assertions.failed);
  return buf;
}

Expected<TestResultMessage> decode_test_result(std::string_view bytes, uint32_t max_payload) {
  constexpr auto kType = MessageType::kTestResult;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  DXPY_TRY_VOID(expect_zero(kType, DXPY_GET(bytes, w::TestResultHeader, reserved), "reserved"));
  const uint8_t status = DXPY_GET(bytes, w::TestResultHeader, status);
  if (status >= kTestStatusCount) return fail(kType, Errc::kCorrupt, "unknown test status " + std::to_string(status));
  TestResultMessage m;
  m.sequence = DXPY_GET(bytes, w::TestResultHeader, sequence);
  m.worker_id = DXPY_GET(bytes, w::TestResultHeader, worker_id);
  m.output_truncated = (h.flags & kFlagOutputTruncated) != 0;
  m.result.status = static_cast<TestStatus>(status);
  m.result.duration_ns = DXPY_GET(bytes, w::TestResultHeader, duration_ns);
  m.result.assertions.passed = DXPY_GET(bytes, w::TestResultHeader, assertions_passed);
  m.result.assertions.failed = DXPY_GET(bytes, w::TestResultHeader, assertions_failed);
  DXPY_TRY_VOID(decode_payload(bytes, h, [&](Decoder& d) { visit_result_payload(d, m.result); }));
  return m;
}

// --- kHello ------------------------------------------------------------------------------

std::string encode(const HelloMessage& m) {
  ByteWriter out = start(sizeof(w::HelloHeader));
  out.str(m.python_version);
  std::string buf = finish(out, MessageType::kHello, 0);
  DXPY_PUT(buf, w::HelloHeader, pid, m.pid);
  DXPY_PUT(buf, w::HelloHeader, worker_id, m.worker_id);
  return buf;
}

Expected<HelloMessage> decode_hello(std::string_view bytes, uint32_t max_payload) {
  constexpr auto kType = MessageType::kHello;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  DXPY_TRY_VOID(expect_zero(kType, DXPY_GET(bytes, w::HelloHeader, reserved16), "reserved16"));
  DXPY_TRY_VOID(expect_zero(kType, DXPY_GET(bytes, w::HelloHeader, reserved32), "reserved32"));
  HelloMessage m;
  m.pid = DXPY_GET(bytes, w::HelloHeader, pid);
  m.worker_id = DXPY_GET(bytes, w::HelloHeader, worker_id);
  DXPY_TRY_VOID(decode_payload(bytes, h, [&](Decoder& d) { d(m.python_version); }));
  return m;
}

// --- kShutdown ---------------------------------------------------------------------------

std::string encode(const ShutdownMessage& m) {
  ByteWriter out = start(sizeof(w::ShutdownHeader));
  std::string buf = finish(out, MessageType::kShutdown, m.interrupted ? kFlagInterrupted : 0);
  DXPY_PUT(buf, w::ShutdownHeader, grace_ms, m.grace_ms);
  return buf;
}

Expected<ShutdownMessage> decode_shutdown(std::string_view bytes, uint32_t max_payload) {
  constexpr auto kType = MessageType::kShutdown;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  if (h.payload_length != 0)
    return fail(kType, Errc::kCorrupt, "payload of " + std::to_string(h.payload_length) + " bytes, expected none");
  ShutdownMessage m;
  m.grace_ms = DXPY_GET(bytes, w::ShutdownHeader, grace_ms);
  m.interrupted = (h.flags & kFlagInterrupted) != 0;
  return m;
}

// --- kLog --------------------------------------------------------------------------------

std::string encode(const LogMessage& m) {
  ByteWriter out = start(sizeof(w::LogHeader));
  out.str(m.text);
  std::string buf = finish(out, MessageType::kLog, 0);
  DXPY_PUT(buf, w::LogHeader, level, static_cast<uint8_t>(m.level));
  DXPY_PUT(buf, w::LogHeader, worker_id, m.worker_id);
  DXPY_PUT(buf, w::LogHeader, sequence, m.sequence);
  return buf;
}

Expected<LogMessage> decode_log(std::string_view bytes, uint32_t max_payload) {
  constexpr auto kType = MessageType::kLog;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  DXPY_TRY_VOID(expect_zero(kType, DXPY_GET(bytes, w::LogHeader, reserved), "reserved"));
  const uint8_t level = DXPY_GET(bytes, w::LogHeader, level);
  if (level >= kLogLevelLimit) return fail(kType, Errc::kCorrupt, "unknown log level " + std::to_string(level));
  LogMessage m;
  m.level = static_cast<LogLevel>(level);
  m.worker_id = DXPY_GET(bytes, w::LogHeader, worker_id);
  m.sequence = DXPY_GET(bytes, w::LogHeader, sequence);
  DXPY_TRY_VOID(decode_payload(bytes, h, [&](Decoder& d) { d(m.text); }));
  return m;
}

// --- kCollectError -----------------------------------------------------------------------

std::string encode(const CollectErrorMessage& m) {
  ByteWriter out = start(sizeof(w::CollectErrorHeader));
  Encoder enc(out);
  visit_collect_error_payload(enc, const_cast<CollectErrorMessage&>(m));
  std::string buf = finish(out, MessageType::kCollectError, 0);
  DXPY_PUT(buf, w::CollectErrorHeader, worker_id, m.worker_id);
  DXPY_PUT(buf, w::CollectErrorHeader, sequence, m.sequence);
  return buf;
}

Expected<CollectErrorMessage> decode_collect_error(std::string_view bytes, uint32_t max_payload) {
  constexpr auto kType = MessageType::kCollectError;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  DXPY_TRY_VOID(expect_zero(kType, DXPY_GET(bytes, w::CollectErrorHeader, reserved), "reserved"));
  CollectErrorMessage m;
  m.worker_id = DXPY_GET(bytes, w::CollectErrorHeader, worker_id);
  m.sequence = DXPY_GET(bytes, w::CollectErrorHeader, sequence);
  DXPY_TRY_VOID(decode_payload(bytes, h, [&](Decoder& d) { visit_collect_error_payload(d, m); }));
  return m;
}

// --- kChunk ------------------------------------------------------------------------------

std::string encode_chunk_header(const ChunkView& m) {
  DXPY_CHECK(m.data.size() <= std::numeric_limits<uint32_t>::max());
  ByteWriter out = start(sizeof(w::ChunkHeader));
  std::string buf = finish(out, MessageType::kChunk, m.final ? kFlagFinalChunk : 0);
  DXPY_PUT(buf, w::Prefix, payload_length, m.data.size());
  DXPY_PUT(buf, w::ChunkHeader, index, m.index);
  DXPY_PUT(buf, w::ChunkHeader, total_length, m.total_length);
  return buf;
}

std::string encode(const ChunkView& m) {
  std::string buf = encode_chunk_header(m);
  buf.append(m.data);
  return buf;
}

Expected<ChunkView> decode_chunk(std::string_view bytes, uint32_t max_payload) {
  constexpr auto kType = MessageType::kChunk;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  ChunkView m;
  m.index = DXPY_GET(bytes, w::ChunkHeader, index);
  m.total_length = DXPY_GET(bytes, w::ChunkHeader, total_length);
  m.final = (h.flags & kFlagFinalChunk) != 0;
  m.data = bytes.substr(h.header_size);
  if (m.data.size() > m.total_length)
    return fail(kType, Errc::kCorrupt, "slice of " + std::to_string(m.data.size()) + " bytes exceeds the total of " +
                                           std::to_string(m.total_length));
  return m;
}

// --- any ---------------------------------------------------------------------------------

Expected<MessageType> validate(std::string_view bytes, uint32_t max_payload) {
  DXPY_TRY(MessageHeader h, read_header(bytes, max_payload));
  auto check = [&](const auto& decoded) -> Expected<MessageType> {
    if (!decoded) return Unexpected<Error>{decoded.error()};
    return h.type;
  };
  switch (h.type) {
    case MessageType::kHello: return check(decode_hello(bytes, max_payload));
    case MessageType::kTest: return check(decode_test(bytes, max_payload));
    case MessageType::kTestResult: return check(decode_test_result(bytes, max_payload));
    case MessageType::kCollectError: return check(decode_collect_error(bytes, max_payload));
    case MessageType::kLog: return check(decode_log(bytes, max_payload));
    case MessageType::kShutdown: return check(decode_shutdown(bytes, max_payload));
    case MessageType::kChunk: return check(decode_chunk(bytes, max_payload));
  }
  return make_error(Errc::kInternal, "unreachable");
}

std::string qualname(const TestId& id) {
  std::string out;
  for (const auto& c : id.classes) {
    out += c;
    out += '.';
  }
  out += id.name;
  return out;
}

}  // namespace dxpy::protocol
