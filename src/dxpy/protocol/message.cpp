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

template <size_t N>
using UInt = std::conditional_t<N == 1, uint8_t,
             std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>;

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

/// A header field: offset and size come from the layout struct, so they cannot disagree
/// with it; the visitors check that the C++ member has the same size.
template <size_t Offset, size_t Size>
struct Field {
  const char* name;
};
#define DXPY_FIELD(Layout, field) Field<offsetof(Layout, field), sizeof(Layout::field)>{#field}

constexpr uint8_t enum_limit(LogLevel*) { return kLogLevelLimit; }

template <class T>
using WireInt = typename std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>, std::type_identity<T>>::type;

/// Writes header fields into a buffer that starts zeroed (so reserved fields are zero).
class HeaderWriter {
 public:
  explicit HeaderWriter(std::string& buf) : buf_(buf) {}
  template <size_t O, size_t N, class T>
  void operator()(Field<O, N>, const T& v) {
    static_assert(sizeof(T) == N && std::is_unsigned_v<WireInt<T>>);
    put_le(buf_, O, static_cast<WireInt<T>>(v));
  }
  template <size_t O, size_t N>
  void reserved(Field<O, N>) {}
  void flag(uint16_t bit, const bool& on) {
    if (on) flags |= bit;
  }
  uint16_t flags = 0;

 private:
  std::string& buf_;
};

/// Reads header fields, checking enum ranges and that reserved fields are zero.
class HeaderReader {
 public:
  HeaderReader(std::string_view buf, uint16_t flags) : buf_(buf), flags_(flags) {}
  template <size_t O, size_t N, class T>
  void operator()(Field<O, N> f, T& v) {
    static_assert(sizeof(T) == N && std::is_unsigned_v<WireInt<T>>);
    const auto raw = get_le<WireInt<T>>(buf_, O);
    if constexpr (std::is_enum_v<T>) {
      if (raw >= enum_limit(static_cast<T*>(nullptr)))
        return fail(std::string("unknown ") + f.name + " " + std::to_string(raw));
    }
    v = static_cast<T>(raw);
  }
  template <size_t O, size_t N>
  void reserved(Field<O, N> f) {
    const uint64_t raw = get_le<UInt<N>>(buf_, O);
    if (raw != 0) fail(std::string("reserved field ") + f.name + " is " + std::to_string(raw));
  }
  void flag(uint16_t bit, bool& on) { on = (flags_ & bit) != 0; }
  const std::string& error() const { return error_; }

 private:
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  std::string_view buf_;
  uint16_t flags_;
  std::string error_;
};

// --- each message: its type, its header fields, its payload fields ------------------------
// One visitor per part serves both encode and decode, so the two cannot drift apart.

constexpr MessageType type_of(const TestMessage*) { return MessageType::kTest; }
template <class V>
void visit_header(V& v, TestMessage& m) {
  using L = w::TestHeader;
  v(DXPY_FIELD(L, timeout_ms), m.timeout_ms);
  v(DXPY_FIELD(L, sequence), m.sequence);
  v(DXPY_FIELD(L, worker_id), m.worker_id);
  v(DXPY_FIELD(L, attempt), m.attempt);
  v.reserved(DXPY_FIELD(L, reserved));
  v.flag(kFlagLastOfModule, m.last_of_module);
}
template <class V>
void visit_payload(V& v, TestMessage& m) { v(m.test); }

// status, duration and assertion counts travel in the header; the strings in the payload.
constexpr MessageType type_of(const TestResultMessage*) { return MessageType::kTestResult; }
template <class V>
void visit_header(V& v, TestResultMessage& m) {
  using L = w::TestResultHeader;
  v(DXPY_FIELD(L, status), m.result.status);
  v.reserved(DXPY_FIELD(L, reserved));
  v(DXPY_FIELD(L, worker_id), m.worker_id);
  v(DXPY_FIELD(L, sequence), m.sequence);
  v(DXPY_FIELD(L, duration_ns), m.result.duration_ns);
  v(DXPY_FIELD(L, assertions_passed), m.result.assertions.passed);
  v(DXPY_FIELD(L, assertions_failed), m.result.assertions.failed);
  v.flag(kFlagOutputTruncated, m.output_truncated);
  v.flag(kFlagMoreResults, m.more_results);
}
template <class V>
void visit_payload(V& v, TestResultMessage& m) {
  TestResult& r = m.result;
  v(r.id); v(r.message); v(r.traceback); v(r.stdout_text); v(r.stderr_text); v(r.properties); v(r.suite_properties);
  v(r.worker_warnings);
}

constexpr MessageType type_of(const HelloMessage*) { return MessageType::kHello; }
template <class V>
void visit_header(V& v, HelloMessage& m) {
  using L = w::HelloHeader;
  v(DXPY_FIELD(L, pid), m.pid);
  v(DXPY_FIELD(L, worker_id), m.worker_id);
  v.reserved(DXPY_FIELD(L, reserved16));
  v.reserved(DXPY_FIELD(L, reserved32));
}
template <class V>
void visit_payload(V& v, HelloMessage& m) { v(m.python_version); }

constexpr MessageType type_of(const ShutdownMessage*) { return MessageType::kShutdown; }
template <class V>
void visit_header(V& v, ShutdownMessage& m) {
  v(DXPY_FIELD(w::ShutdownHeader, grace_ms), m.grace_ms);
  v.flag(kFlagInterrupted, m.interrupted);
}
template <class V>
void visit_payload(V&, ShutdownMessage&) {}

constexpr MessageType type_of(const LogMessage*) { return MessageType::kLog; }
template <class V>
void visit_header(V& v, LogMessage& m) {
  using L = w::LogHeader;
  v(DXPY_FIELD(L, level), m.level);
  v.reserved(DXPY_FIELD(L, reserved));
  v(DXPY_FIELD(L, worker_id), m.worker_id);
  v(DXPY_FIELD(L, sequence), m.sequence);
}
template <class V>
void visit_payload(V& v, LogMessage& m) { v(m.text); }

constexpr MessageType type_of(const CollectErrorMessage*) { return MessageType::kCollectError; }
template <class V>
void visit_header(V& v, CollectErrorMessage& m) {
  using L = w::CollectErrorHeader;
  v(DXPY_FIELD(L, worker_id), m.worker_id);
  v.reserved(DXPY_FIELD(L, reserved));
  v(DXPY_FIELD(L, sequence), m.sequence);
}
template <class V>
void visit_payload(V& v, CollectErrorMessage& m) { v(m.file); v(m.message); v(m.traceback); }

// --- the generic codec -------------------------------------------------------------------

constexpr uint16_t allowed_flags(MessageType t) {
  switch (t) {
    case MessageType::kTest: return kFlagLastOfModule;
    case MessageType::kTestResult: return kFlagOutputTruncated | kFlagMoreResults;
    case MessageType::kShutdown: return kFlagInterrupted;
    case MessageType::kChunk: return kFlagFinalChunk;
    default: return 0;
  }
}

Unexpected<Error> fail(MessageType t, Errc code, const std::string& what) {
  return make_error(code, std::string(to_string(t)) + " message: " + what);
}

/// The prefix, once the header and payload of `buf` are in place.
void put_prefix(std::string& buf, MessageType type, uint16_t flags, size_t payload) {
  // The worker truncates captured output long before this; a 4 GiB payload is a bug.
  DXPY_CHECK(payload <= std::numeric_limits<uint32_t>::max());
  std::memcpy(buf.data(), kMagic, sizeof(kMagic));
  put_le(buf, offsetof(w::Prefix, version), kVersion);
  put_le(buf, offsetof(w::Prefix, type), static_cast<uint8_t>(type));
  put_le(buf, offsetof(w::Prefix, flags), flags);
  put_le(buf, offsetof(w::Prefix, payload_length), static_cast<uint32_t>(payload));
}

template <class M>
std::string encode_message(const M& m_in) {
  constexpr MessageType type = type_of(static_cast<const M*>(nullptr));
  M& m = const_cast<M&>(m_in);  // the encoding visitors only read
  const size_t header = header_size(type);
  ByteWriter out;
  out.raw(std::string(header, '\0'));
  Encoder enc(out);
  visit_payload(enc, m);
  std::string buf = out.take();
  HeaderWriter hw(buf);
  visit_header(hw, m);
  put_prefix(buf, type, hw.flags, buf.size() - header);
  return buf;
}

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

template <class M>
Expected<M> decode_message(std::string_view bytes, uint32_t max_payload) {
  constexpr MessageType type = type_of(static_cast<const M*>(nullptr));
  DXPY_TRY(MessageHeader h, expect(bytes, type, max_payload));
  M m{};
  HeaderReader hr(bytes, h.flags);
  visit_header(hr, m);
  if (!hr.error().empty()) return fail(type, Errc::kCorrupt, hr.error());
  // The payload must be used up exactly.
  ByteReader r(bytes.substr(h.header_size));
  Decoder dec(r);
  visit_payload(dec, m);
  if (!dec.ok()) return fail(type, dec.error().code, "payload: " + dec.error().message);
  if (!r.at_end()) return fail(type, Errc::kCorrupt, "payload: " + std::to_string(r.remaining()) + " bytes left over");
  return m;
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
  const auto version = get_le<uint8_t>(bytes, offsetof(w::Prefix, version));
  if (version != kVersion)
    return make_error(Errc::kVersion, "protocol version " + std::to_string(version) + ", expected " +
                                          std::to_string(kVersion));
  const auto type = get_le<uint8_t>(bytes, offsetof(w::Prefix, type));
  if (type == 0 || type >= kMessageTypeLimit)
    return make_error(Errc::kCorrupt, "unknown message type " + std::to_string(type));
  MessageHeader h;
  h.type = static_cast<MessageType>(type);
  h.header_size = static_cast<uint32_t>(header_size(h.type));
  h.flags = get_le<uint16_t>(bytes, offsetof(w::Prefix, flags));
  h.payload_length = get_le<uint32_t>(bytes, offsetof(w::Prefix, payload_length));
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

// --- the message types ---------------------------------------------------------------------

std::string encode(const TestMessage& m) { return encode_message(m); }
std::string encode(const TestResultMessage& m) { return encode_message(m); }
std::string encode(const HelloMessage& m) { return encode_message(m); }
std::string encode(const ShutdownMessage& m) { return encode_message(m); }
std::string encode(const LogMessage& m) { return encode_message(m); }
std::string encode(const CollectErrorMessage& m) { return encode_message(m); }

Expected<TestMessage> decode_test(std::string_view bytes, uint32_t max_payload) {
  return decode_message<TestMessage>(bytes, max_payload);
}
Expected<TestResultMessage> decode_test_result(std::string_view bytes, uint32_t max_payload) {
  return decode_message<TestResultMessage>(bytes, max_payload);
}
Expected<HelloMessage> decode_hello(std::string_view bytes, uint32_t max_payload) {
  return decode_message<HelloMessage>(bytes, max_payload);
}
Expected<ShutdownMessage> decode_shutdown(std::string_view bytes, uint32_t max_payload) {
  return decode_message<ShutdownMessage>(bytes, max_payload);
}
Expected<LogMessage> decode_log(std::string_view bytes, uint32_t max_payload) {
  return decode_message<LogMessage>(bytes, max_payload);
}
Expected<CollectErrorMessage> decode_collect_error(std::string_view bytes, uint32_t max_payload) {
  return decode_message<CollectErrorMessage>(bytes, max_payload);
}

// A chunk's payload is raw bytes, viewed in place rather than decoded.
std::string encode_chunk_header(const ChunkView& m) {
  DXPY_CHECK(m.data.size() <= std::numeric_limits<uint32_t>::max());
  using L = w::ChunkHeader;
  std::string buf(sizeof(L), '\0');
  put_le(buf, offsetof(L, index), m.index);
  put_le(buf, offsetof(L, total_length), m.total_length);
  put_prefix(buf, MessageType::kChunk, m.final ? kFlagFinalChunk : 0, m.data.size());
  return buf;
}

std::string encode(const ChunkView& m) {
  std::string buf = encode_chunk_header(m);
  buf.append(m.data);
  return buf;
}

Expected<ChunkView> decode_chunk(std::string_view bytes, uint32_t max_payload) {
  using L = w::ChunkHeader;
  constexpr auto kType = MessageType::kChunk;
  DXPY_TRY(MessageHeader h, expect(bytes, kType, max_payload));
  ChunkView m;
  m.index = get_le<uint32_t>(bytes, offsetof(L, index));
  m.total_length = get_le<uint64_t>(bytes, offsetof(L, total_length));
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
