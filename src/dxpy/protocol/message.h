#pragma once
/// The messages between the orchestrator and a worker. Every integer is little-endian and
/// every header is read and written field by field at the offsets of the layout structs
/// below (never a memcpy of a struct), so the format does not depend on the compiler.
///
/// Every message is `{header, payload}`; the header starts with the same 12 bytes:
///
///   offset size field
///   0      4    magic "DXPM"
///   4      1    version (kVersion)
///   5      1    type (MessageType)
///   6      2    flags, per type; undefined bits must be zero
///   8      4    payload length in bytes (at most the receiver's limit, 64 MiB by default)
///
/// and goes on by type (reserved fields must be zero, so they can gain a meaning later):
///
///   kTest        32 bytes  12 u32 timeout_ms | 16 u64 sequence | 24 u16 worker_id
///                          26 u16 attempt | 28 u32 reserved
///                          payload: a core TestCase (codec_visit fields, no tag)
///   kTestResult  40 bytes  12 u8 status | 13 u8 reserved | 14 u16 worker_id | 16 u64 sequence
///                          flags: bit 0 output truncated, bit 1 more results follow
///                          24 u64 duration_ns | 32 u32 assertions passed | 36 u32 failed
///                          payload: TestId, message, traceback, stdout, stderr, properties,
///                          suite properties (each a list of name, value)
///   kHello       24 bytes  12 u32 pid | 16 u16 worker_id | 18 u16 reserved | 20 u32 reserved
///                          payload: python version
///   kShutdown    16 bytes  12 u32 grace_ms; no payload
///   kLog         24 bytes  12 u8 level | 13 u8 reserved | 14 u16 worker_id | 16 u64 sequence
///                          payload: text
///   kCollectError 24 bytes 12 u16 worker_id | 14 u16 reserved | 16 u64 sequence
///                          payload: file, message, traceback
///   kChunk       24 bytes  12 u32 index | 16 u64 total length; payload: raw bytes
///
/// Payload strings are LEB128-length-prefixed as in core/codec.h; a payload must be used
/// up exactly. Decoding checks all of the above and never reads out of bounds: a
/// malformed message is an Error whose message says what is wrong.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dxpy/core/types.h"
#include "dxpy/util/expected.h"

namespace dxpy::protocol {

inline constexpr char kMagic[4] = {'D', 'X', 'P', 'M'};
/// 2: TestId's param is optional (core codec 2); a result carries its JUnit properties.
inline constexpr uint8_t kVersion = 2;
/// The receiver's default bound on a payload: a test printing more is truncated by the
/// worker (TestResultMessage::output_truncated) rather than flooding the orchestrator.
inline constexpr uint32_t kDefaultMaxPayload = 64u << 20;
/// `sequence` of a log line written while no test runs.
inline constexpr uint64_t kNoSequence = ~uint64_t{0};

enum class MessageType : uint8_t {
  kHello = 1,         // worker -> orchestrator: ready
  kTest = 2,          // orchestrator -> worker: run one test
  kTestResult = 3,    // worker -> orchestrator: what running it gave
  kCollectError = 4,  // worker -> orchestrator: a module could not be imported
  kLog = 5,           // worker -> orchestrator: a log line, or a heartbeat
  kShutdown = 6,      // orchestrator -> worker: exit
  kChunk = 7,         // a slice of a message too large for one ring record (channel.h)
};
inline constexpr uint8_t kMessageTypeLimit = 8;  // exclusive upper bound
std::string_view to_string(MessageType t);

// Flag bits, per type.
inline constexpr uint16_t kFlagLastOfModule = 1u << 0;     // kTest
inline constexpr uint16_t kFlagOutputTruncated = 1u << 0;  // kTestResult
inline constexpr uint16_t kFlagMoreResults = 1u << 1;      // kTestResult: not the last for this test
inline constexpr uint16_t kFlagInterrupted = 1u << 0;      // kShutdown
inline constexpr uint16_t kFlagFinalChunk = 1u << 0;       // kChunk

/// Wire layouts. Never instantiated: the codec takes offsets and sizes from them, and the
/// static_asserts in message.cpp pin them, so a reordered field fails to compile.
namespace wire {
struct Prefix {
  uint8_t magic[4];
  uint8_t version;
  uint8_t type;
  uint16_t flags;
  uint32_t payload_length;
};
struct TestHeader {
  Prefix prefix;
  uint32_t timeout_ms;
  uint64_t sequence;
  uint16_t worker_id;
  uint16_t attempt;
  uint32_t reserved;
};
struct TestResultHeader {
  Prefix prefix;
  uint8_t status;
  uint8_t reserved;
  uint16_t worker_id;
  uint64_t sequence;
  uint64_t duration_ns;
  uint32_t assertions_passed;
  uint32_t assertions_failed;
};
struct HelloHeader {
  Prefix prefix;
  uint32_t pid;
  uint16_t worker_id;
  uint16_t reserved16;
  uint32_t reserved32;
};
struct ShutdownHeader {
  Prefix prefix;
  uint32_t grace_ms;
};
struct LogHeader {
  Prefix prefix;
  uint8_t level;
  uint8_t reserved;
  uint16_t worker_id;
  uint64_t sequence;
};
struct CollectErrorHeader {
  Prefix prefix;
  uint16_t worker_id;
  uint16_t reserved;
  uint64_t sequence;
};
struct ChunkHeader {
  Prefix prefix;
  uint32_t index;
  uint64_t total_length;
};
}  // namespace wire

inline constexpr size_t kPrefixSize = sizeof(wire::Prefix);
inline constexpr size_t kTestHeaderSize = sizeof(wire::TestHeader);
inline constexpr size_t kTestResultHeaderSize = sizeof(wire::TestResultHeader);
inline constexpr size_t kChunkHeaderSize = sizeof(wire::ChunkHeader);
/// The header size of a message type; 0 for a value that is not a MessageType.
size_t header_size(MessageType t);

/// What every message's first bytes say, checked.
struct MessageHeader {
  MessageType type = MessageType::kHello;
  uint16_t flags = 0;
  uint32_t header_size = 0;
  uint32_t payload_length = 0;
  uint64_t total_size() const { return uint64_t{header_size} + payload_length; }
};

/// Reads and checks the header (magic, version, type, flags, payload length against
/// `max_payload`). `bytes` may be only the header: a stream reader learns the total size.
Expected<MessageHeader> read_header(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);

/// Orchestrator -> worker: run `test`. `sequence` names this request in the run; the
/// result echoes it.
struct TestMessage {
  uint64_t sequence = 0;
  uint32_t timeout_ms = 0;  // 0: none
  uint16_t worker_id = 0;
  uint16_t attempt = 0;      // 0 first; counts reruns after a worker crash
  bool last_of_module = false;  // no other test of this module is queued for this worker:
                                // module-scoped state may go (pytest's `nextitem`)
  TestCase test;
  friend bool operator==(const TestMessage&, const TestMessage&) = default;
};

/// Worker -> orchestrator. `result.status`, `duration_ns` and `assertions` travel in the
/// header, so the orchestrator can count outcomes without decoding the payload.
struct TestResultMessage {
  uint64_t sequence = 0;
  uint16_t worker_id = 0;
  bool output_truncated = false;  // captured output was cut to fit the payload limit
  /// More results for the same `sequence` follow: a test the worker expanded into several
  /// (parametrize it could only evaluate at run time, parametrized fixtures). Each has its
  /// own TestId; the last comes without this flag.
  bool more_results = false;
  TestResult result;
  friend bool operator==(const TestResultMessage&, const TestResultMessage&) = default;
};

struct HelloMessage {
  uint32_t pid = 0;
  uint16_t worker_id = 0;
  std::string python_version;  // sys.version, first line
  friend bool operator==(const HelloMessage&, const HelloMessage&) = default;
};

struct ShutdownMessage {
  uint32_t grace_ms = 0;     // how long the worker may take to exit before it is killed
  bool interrupted = false;  // Ctrl-C or SIGTERM rather than the end of the run
  friend bool operator==(const ShutdownMessage&, const ShutdownMessage&) = default;
};

enum class LogLevel : uint8_t { kHeartbeat = 0, kDebug = 1, kInfo = 2, kWarning = 3, kError = 4 };
inline constexpr uint8_t kLogLevelLimit = 5;

struct LogMessage {
  LogLevel level = LogLevel::kHeartbeat;
  uint16_t worker_id = 0;
  uint64_t sequence = kNoSequence;  // the test running when it was written
  std::string text;                 // empty for a heartbeat
  friend bool operator==(const LogMessage&, const LogMessage&) = default;
};

/// Importing a module failed: every test of `file` on this worker is an error.
struct CollectErrorMessage {
  uint16_t worker_id = 0;
  uint64_t sequence = 0;  // the test whose import failed
  std::string file;
  std::string message;
  std::string traceback;
  friend bool operator==(const CollectErrorMessage&, const CollectErrorMessage&) = default;
};

/// A slice of a message larger than a ring record. A view: `data` points into the bytes it
/// was decoded from (or that the caller passes to encode).
struct ChunkView {
  uint64_t total_length = 0;  // of the whole message
  uint32_t index = 0;         // 0, 1, 2 ... in order
  bool final = false;
  std::string_view data;
  friend bool operator==(const ChunkView&, const ChunkView&) = default;
};

std::string encode(const TestMessage& m);
std::string encode(const TestResultMessage& m);
std::string encode(const HelloMessage& m);
std::string encode(const ShutdownMessage& m);
std::string encode(const LogMessage& m);
std::string encode(const CollectErrorMessage& m);
std::string encode(const ChunkView& m);
/// The header of `encode(m)` alone, so a sender can write the slice without copying it.
std::string encode_chunk_header(const ChunkView& m);

/// Decoders: the bytes must be exactly one message of the named type.
Expected<TestMessage> decode_test(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);
Expected<TestResultMessage> decode_test_result(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);
Expected<HelloMessage> decode_hello(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);
Expected<ShutdownMessage> decode_shutdown(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);
Expected<LogMessage> decode_log(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);
Expected<CollectErrorMessage> decode_collect_error(std::string_view bytes,
                                                   uint32_t max_payload = kDefaultMaxPayload);
Expected<ChunkView> decode_chunk(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);

/// Decodes `bytes` as whatever type its header names and discards the value: for a
/// receiver that logs and drops what it cannot read, and for the fuzzer.
Expected<MessageType> validate(std::string_view bytes, uint32_t max_payload = kDefaultMaxPayload);

/// "Class.Inner.name", the qualified name the worker looks up in the module.
std::string qualname(const TestId& id);

}  // namespace dxpy::protocol
