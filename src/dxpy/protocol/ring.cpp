#include "dxpy/protocol/ring.h"

#include <algorithm>
#include <cstring>

namespace dxpy::protocol {

namespace {

void copy_in(char* data, uint32_t capacity, uint64_t pos, std::string_view src) {
  if (src.empty()) return;  // an empty view's data() may be null: memcpy's UB (UBSan)
  const size_t off = static_cast<size_t>(pos & (capacity - 1));
  const size_t first = std::min(src.size(), capacity - off);
  std::memcpy(data + off, src.data(), first);
  std::memcpy(data, src.data() + first, src.size() - first);
}

void copy_out(const char* data, uint32_t capacity, uint64_t pos, char* dst, size_t n) {
  const size_t off = static_cast<size_t>(pos & (capacity - 1));
  const size_t first = std::min(n, capacity - off);
  std::memcpy(dst, data + off, first);
  std::memcpy(dst + first, data, n - first);
}

Unexpected<Error> corrupt(const std::string& what) { return make_error(Errc::kCorrupt, "shared ring corrupt: " + what); }

}  // namespace

bool valid_ring_bytes(uint64_t capacity) {
  return capacity >= kMinRingBytes && capacity <= (uint64_t{1} << 30) && (capacity & (capacity - 1)) == 0;
}

// --- producer ----------------------------------------------------------------------------

RingWriter::RingWriter(RingControl* ctl, char* data, uint32_t capacity)
    : ctl_(ctl), data_(data), capacity_(capacity) {
  DXPY_CHECK(valid_ring_bytes(capacity));
  write_ = ctl_->write_pos.load(std::memory_order_relaxed);
  read_cached_ = ctl_->read_pos.load(std::memory_order_acquire);
}

Expected<uint64_t> RingWriter::free_bytes() {
  // Acquire: the consumer has finished copying out the bytes it freed before we reuse them.
  read_cached_ = ctl_->read_pos.load(std::memory_order_acquire);
  const uint64_t used = write_ - read_cached_;
  if (used > capacity_) return corrupt("consumer position " + std::to_string(read_cached_) + " is past " + std::to_string(write_));
  return capacity_ - used;
}

Expected<bool> RingWriter::try_write(RecordKind kind, std::string_view head, std::string_view body) {
  const size_t size = head.size() + body.size();
  DXPY_CHECK(size <= max_body());
  const uint64_t need = kRecordHeaderSize + size;
  const uint64_t used = write_ - read_cached_;
  if (used > capacity_ || capacity_ - used < need) {
    DXPY_TRY(uint64_t free, free_bytes());
    if (free < need) return false;
  }
  uint32_t header[2] = {static_cast<uint32_t>(size), static_cast<uint32_t>(kind)};
  copy_in(data_, capacity_, write_, std::string_view(reinterpret_cast<const char*>(header), sizeof(header)));
  copy_in(data_, capacity_, write_ + kRecordHeaderSize, head);
  copy_in(data_, capacity_, write_ + kRecordHeaderSize + head.size(), body);
  write_ += need;
  ctl_->write_pos.store(write_, std::memory_order_release);
  return true;
}

bool RingWriter::consumer_needs_wake() const {
  // Pairs with the fence in RingReader::arm: either the consumer sees our write_pos, or we
  // see its flag (Dekker's store-fence-load on both sides).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return ctl_->consumer_waiting.load(std::memory_order_relaxed) != 0;
}

Expected<bool> RingWriter::arm(size_t size) {
  ctl_->producer_waiting.store(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  DXPY_TRY(uint64_t free, free_bytes());
  if (free >= kRecordHeaderSize + size) {
    disarm();
    return false;
  }
  return true;
}

void RingWriter::disarm() { ctl_->producer_waiting.store(0, std::memory_order_relaxed); }

// --- consumer ----------------------------------------------------------------------------

RingReader::RingReader(RingControl* ctl, char* data, uint32_t capacity)
    : ctl_(ctl), data_(data), capacity_(capacity) {
  DXPY_CHECK(valid_ring_bytes(capacity));
  read_ = ctl_->read_pos.load(std::memory_order_relaxed);
  write_cached_ = read_;
}

Expected<bool> RingReader::try_read(RecordKind& kind, std::string& body) {
  if (write_cached_ == read_) {
    write_cached_ = ctl_->write_pos.load(std::memory_order_acquire);
    if (write_cached_ == read_) return false;
  }
  const uint64_t avail = write_cached_ - read_;
  if (avail > capacity_) return corrupt("producer position " + std::to_string(write_cached_) + " is beyond " +
                                        std::to_string(read_) + " + " + std::to_string(capacity_));
  // The producer publishes whole records only.
  if (avail < kRecordHeaderSize) return corrupt(std::to_string(avail) + " bytes published, less than a record header");
  uint32_t header[2];
  copy_out(data_, capacity_, read_, reinterpret_cast<char*>(header), sizeof(header));
  const uint32_t size = header[0];
  if (size > capacity_ / 2 - kRecordHeaderSize || size > avail - kRecordHeaderSize)
    return corrupt("record of " + std::to_string(size) + " bytes with " + std::to_string(avail) + " published");
  if (header[1] != static_cast<uint32_t>(RecordKind::kWhole) && header[1] != static_cast<uint32_t>(RecordKind::kChunk))
    return corrupt("record kind " + std::to_string(header[1]));
  kind = static_cast<RecordKind>(header[1]);
  body.resize(size);
  copy_out(data_, capacity_, read_ + kRecordHeaderSize, body.data(), size);
  read_ += kRecordHeaderSize + size;
  ctl_->read_pos.store(read_, std::memory_order_release);
  return true;
}

bool RingReader::empty() const {
  return write_cached_ == read_ && ctl_->write_pos.load(std::memory_order_acquire) == read_;
}

bool RingReader::producer_needs_wake() const {
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with RingWriter::arm
  return ctl_->producer_waiting.load(std::memory_order_relaxed) != 0;
}

bool RingReader::arm() {
  ctl_->consumer_waiting.store(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!empty()) {
    disarm();
    return false;
  }
  return true;
}

void RingReader::disarm() { ctl_->consumer_waiting.store(0, std::memory_order_relaxed); }

}  // namespace dxpy::protocol
