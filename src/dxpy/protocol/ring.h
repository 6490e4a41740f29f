#pragma once
/// A lock-free single-producer single-consumer byte ring over memory that two processes
/// may share (channel.h places two of them in one mapping). No system calls: the Channel
/// adds the sleeping and waking.
///
/// Data: `capacity` bytes (a power of two) holding records `{u32 length, u32 kind, body}`,
/// in native byte order (both ends are on one machine). A record may wrap past the end of
/// the data area. Positions are byte counts that only grow; `pos & (capacity - 1)` is the
/// offset. The producer writes a whole record, then publishes it by storing `write_pos`
/// (release); the consumer copies it out, then frees it by storing `read_pos` (release).
///
/// The peer may be a crashed or corrupted process: every position and record header read
/// from the shared words is checked, and an impossible one is an Error, never an access
/// outside the data area.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dxpy/util/expected.h"

namespace dxpy::protocol {

/// Assumed cache line size. std::hardware_destructive_interference_size would do, but GCC
/// warns that it may differ between compilers, and this layout is shared between builds.
inline constexpr size_t kCacheLine = 64;
inline constexpr uint32_t kRecordHeaderSize = 8;
inline constexpr uint32_t kMinRingBytes = 1024;

enum class RecordKind : uint32_t { kWhole = 1, kChunk = 2 };

/// The control words of one ring, inside the shared mapping. The producer's words and the
/// consumer's words sit on separate cache lines, so neither side's stores evict the line
/// the other side polls.
struct RingControl {
  alignas(kCacheLine) std::atomic<uint64_t> write_pos{0};  // stored by the producer
  std::atomic<uint32_t> producer_waiting{0};               // producer sleeps for room
  alignas(kCacheLine) std::atomic<uint64_t> read_pos{0};   // stored by the consumer
  std::atomic<uint32_t> consumer_waiting{0};               // consumer sleeps for data
};
static_assert(sizeof(RingControl) == 2 * kCacheLine);
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free,
              "atomics in shared memory must be lock-free to work across processes");

/// True for a power of two no smaller than kMinRingBytes and no larger than 1 GiB.
bool valid_ring_bytes(uint64_t capacity);

/// The producer's end. `ctl` and `data` must outlive it.
class RingWriter {
 public:
  RingWriter() = default;
  RingWriter(RingControl* ctl, char* data, uint32_t capacity);

  /// The largest record body: half the ring, so the producer can fill one half while the
  /// consumer drains the other.
  uint32_t max_body() const { return capacity_ / 2 - kRecordHeaderSize; }
  /// Appends a record whose body is `head` followed by `body`, if it fits now: true when
  /// written, false when the ring lacks room. An error when the consumer's position is
  /// impossible. head.size() + body.size() must be at most max_body().
  Expected<bool> try_write(RecordKind kind, std::string_view head, std::string_view body);
  /// After try_write: whether the consumer announced it sleeps, so it needs a wake-up.
  bool consumer_needs_wake() const;
  /// Announces that the producer is about to sleep until a body of `size` bytes fits.
  /// False (and no announcement) when it fits already. disarm() after the sleep.
  Expected<bool> arm(size_t size);
  void disarm();

 private:
  Expected<uint64_t> free_bytes();
  RingControl* ctl_ = nullptr;
  char* data_ = nullptr;
  uint32_t capacity_ = 0;
  uint64_t write_ = 0;        // our own position: the shared word is only published
  uint64_t read_cached_ = 0;  // the consumer's, reloaded only when the ring looks full
};

/// The consumer's end.
class RingReader {
 public:
  RingReader() = default;
  RingReader(RingControl* ctl, char* data, uint32_t capacity);

  /// Takes the next record: true with `kind` and `body` (replaced) set; false when empty.
  Expected<bool> try_read(RecordKind& kind, std::string& body);
  /// Whether no record is published.
  bool empty() const;
  /// After try_read: whether the producer announced it sleeps for room.
  bool producer_needs_wake() const;
  /// Announces that the consumer is about to sleep until data arrives. False (and no
  /// announcement) when data is there already.
  bool arm();
  void disarm();

 private:
  RingControl* ctl_ = nullptr;
  char* data_ = nullptr;
  uint32_t capacity_ = 0;
  uint64_t read_ = 0;
  uint64_t write_cached_ = 0;
};

}  // namespace dxpy::protocol
