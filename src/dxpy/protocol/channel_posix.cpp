// Channel on Linux: memfd_create for the mapping, AF_UNIX socket pairs for wake-ups.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <new>

#include "dxpy/protocol/channel.h"

namespace dxpy::protocol {

namespace {

inline constexpr char kShmMagic[4] = {'D', 'X', 'P', 'S'};
inline constexpr uint32_t kLayoutVersion = 1;
inline constexpr size_t kDataOffset = 4096;
inline constexpr int kToWorker = 0;
inline constexpr int kToOrchestrator = 1;

struct SharedHeader {
  char magic[4];
  uint32_t version;
  uint32_t ring_bytes;
  uint32_t reserved;
};

/// The start of the mapping. Written through placement new by the creator only.
struct SharedLayout {
  SharedHeader header;
  RingControl rings[2];
};
static_assert(sizeof(SharedLayout) <= kDataOffset);
static_assert(alignof(SharedLayout) == kCacheLine && sizeof(SharedHeader) <= kCacheLine,
              "rings[0] starts at 64 and rings[1] at 192, as channel.h says");

Unexpected<Error> os_error(const char* what) {
  return make_error(Errc::kIo, std::string(what) + ": " + std::strerror(errno));
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

char* ring_data(void* map, uint32_t ring_bytes, int ring) {
  return static_cast<char*>(map) + kDataOffset + static_cast<size_t>(ring) * ring_bytes;
}

size_t mapping_size(uint32_t ring_bytes) { return kDataOffset + 2 * static_cast<size_t>(ring_bytes); }

/// Milliseconds left until `deadline`, rounded up, for poll(); -1 for no deadline.
int remaining_ms(std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (!deadline) return -1;
  const auto left = *deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

}  // namespace

// --- descriptors -------------------------------------------------------------------------

void close_fds(ChannelFds& fds) {
  close_fd(fds.memory);
  close_fd(fds.inbound);
  close_fd(fds.outbound);
}

std::string format_fds(const ChannelFds& fds) {
  return std::to_string(fds.memory) + "," + std::to_string(fds.inbound) + "," + std::to_string(fds.outbound);
}

Expected<ChannelFds> parse_fds(std::string_view text) {
  auto bad = [&] { return make_error(Errc::kParse, "bad channel descriptors '" + std::string(text) + "'"); };
  int values[3] = {-1, -1, -1};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (p == end || *p != ',') return bad();
      ++p;
    }
    auto [next, ec] = std::from_chars(p, end, values[i]);
    if (ec != std::errc() || values[i] < 0) return bad();
    p = next;
  }
  if (p != end) return bad();
  return ChannelFds{values[0], values[1], values[2]};
}

// --- setting up --------------------------------------------------------------------------

Expected<ChannelEnds> Channel::create(const ChannelOptions& options) {
  if (!valid_ring_bytes(options.ring_bytes))
    return make_error(Errc::kUsage, "ring size " + std::to_string(options.ring_bytes) +
                                        " is not a power of two between 1 KiB and 1 GiB");
  const size_t size = mapping_size(options.ring_bytes);
  ChannelFds worker;
  std::unique_ptr<Channel> ch(new Channel());
  worker.memory = ::memfd_create("dxpy-channel", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (worker.memory < 0) return os_error("memfd_create");
  auto fail = [&](const char* what) {
    auto e = os_error(what);
    close_fds(worker);
    return e;
  };
  // A memfd is made 0777; only /proc/PID/fd (ptrace rules: the same user) reaches it, but
  // the owner-only mode holds even where those rules are relaxed.
  if (::fchmod(worker.memory, 0600) != 0) return fail("fchmod");
  if (::ftruncate(worker.memory, static_cast<off_t>(size)) != 0) return fail("ftruncate");
  if (::fcntl(worker.memory, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) return fail("F_ADD_SEALS");
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, worker.memory, 0);
  if (map == MAP_FAILED) return fail("mmap");
  ch->map_ = map;
  ch->map_size_ = size;

  auto* layout = new (map) SharedLayout{};
  std::memcpy(layout->header.magic, kShmMagic, sizeof(kShmMagic));
  layout->header.version = kLayoutVersion;
  layout->header.ring_bytes = options.ring_bytes;

  // Non-blocking: the ends sleep in poll(), never in read() or write().
  int to_worker[2];
  int to_orchestrator[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, to_worker) != 0) return fail("socketpair");
  ch->out_bell_ = to_worker[0];
  worker.inbound = to_worker[1];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, to_orchestrator) != 0)
    return fail("socketpair");
  ch->in_bell_ = to_orchestrator[0];
  worker.outbound = to_orchestrator[1];

  ch->ring_bytes_ = options.ring_bytes;
  ch->max_message_ = options.max_message;
  ch->out_ = RingWriter(&layout->rings[kToWorker], ring_data(map, options.ring_bytes, kToWorker), options.ring_bytes);
  ch->in_ = RingReader(&layout->rings[kToOrchestrator], ring_data(map, options.ring_bytes, kToOrchestrator),
                       options.ring_bytes);
  return ChannelEnds{std::move(ch), worker};
}

Expected<std::unique_ptr<Channel>> Channel::attach(const ChannelFds& fds_in, uint64_t max_message) {
  ChannelFds fds = fds_in;
  std::unique_ptr<Channel> ch(new Channel());
  // The Channel owns the sockets from here on, so every return below closes them.
  ch->in_bell_ = fds.inbound;
  ch->out_bell_ = fds.outbound;
  fds.inbound = fds.outbound = -1;
  struct CloseMemory {
    int& fd;
    ~CloseMemory() { close_fd(fd); }
  } close_memory{fds.memory};

  struct stat st {};
  if (::fstat(fds.memory, &st) != 0) return os_error("fstat of the channel memory");
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < kDataOffset + 2 * uint64_t{kMinRingBytes})
    return make_error(Errc::kCorrupt, "channel memory of " + std::to_string(size) + " bytes is too small");
  void* map = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fds.memory, 0);
  if (map == MAP_FAILED) return os_error("mmap of the channel memory");
  ch->map_ = map;
  ch->map_size_ = static_cast<size_t>(size);

  auto* layout = static_cast<SharedLayout*>(map);
  if (std::memcmp(layout->header.magic, kShmMagic, sizeof(kShmMagic)) != 0)
    return make_error(Errc::kCorrupt, "channel memory has a bad magic");
  if (layout->header.version != kLayoutVersion)
    return make_error(Errc::kVersion, "channel layout version " + std::to_string(layout->header.version) +
                                          ", expected " + std::to_string(kLayoutVersion));
  const uint32_t ring_bytes = layout->header.ring_bytes;
  if (!valid_ring_bytes(ring_bytes) || mapping_size(ring_bytes) != size)
    return make_error(Errc::kCorrupt, "channel ring size " + std::to_string(ring_bytes) + " does not fit a mapping of " +
                                          std::to_string(size) + " bytes");
  ch->ring_bytes_ = ring_bytes;
  ch->max_message_ = max_message;
  ch->out_ = RingWriter(&layout->rings[kToOrchestrator], ring_data(map, ring_bytes, kToOrchestrator), ring_bytes);
  ch->in_ = RingReader(&layout->rings[kToWorker], ring_data(map, ring_bytes, kToWorker), ring_bytes);
  return ch;
}

Channel::~Channel() {
  if (map_) ::munmap(map_, map_size_);
  close_fd(in_bell_);
  close_fd(out_bell_);
}

// --- waking and sleeping -----------------------------------------------------------------

void Channel::ring(int bell) {
  const char byte = 1;
  // EAGAIN: the socket buffer is full of wake-ups already, which is as good as one more.
  if (::send(bell, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && (errno == EPIPE || errno == ECONNRESET))
    peer_gone_.store(true);
}

Channel::Wait Channel::wait(int bell, int timeout_ms) {
  pollfd fds[2] = {{bell, POLLIN, 0}, {watch_fd_, POLLIN, 0}};
  const int n = ::poll(fds, watch_fd_ >= 0 ? 2 : 1, timeout_ms);
  if (n < 0) return Wait::kWoken;  // EINTR: the caller looks again and waits for the rest
  if (n == 0) return Wait::kTimeout;
  if (watch_fd_ >= 0 && fds[1].revents != 0) return Wait::kPeerGone;
  char buf[256];
  for (;;) {  // drain the wake-ups; end of file means the other end is closed
    const ssize_t got = ::recv(bell, buf, sizeof(buf), MSG_DONTWAIT);
    if (got > 0) continue;
    if (got == 0) return Wait::kPeerGone;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Wait::kWoken;
    return Wait::kPeerGone;  // ECONNRESET and the like
  }
}

Unexpected<Error> Channel::peer_gone_error() const {
  return make_error(Errc::kIo, "the other end of the channel is gone (its process exited or closed it)");
}

// --- sending -----------------------------------------------------------------------------

Expected<void> Channel::write_record(RecordKind kind, std::string_view head, std::string_view body, bool wake) {
  for (;;) {
    DXPY_TRY(bool written, out_.try_write(kind, head, body));
    if (written) {
      if (wake && out_.consumer_needs_wake()) ring(out_bell_);
      return {};
    }
    if (peer_gone_.load()) return peer_gone_error();
    DXPY_TRY(bool sleep, out_.arm(head.size() + body.size()));
    Wait w = sleep ? wait(out_bell_, -1) : Wait::kWoken;
    out_.disarm();
    if (w == Wait::kPeerGone) {
      peer_gone_.store(true);
      return peer_gone_error();
    }
  }
}

Expected<void> Channel::send(std::string_view message) { return send_impl(message, true); }
Expected<void> Channel::send_lazy(std::string_view message) { return send_impl(message, false); }

Expected<void> Channel::send_impl(std::string_view message, bool wake) {
  if (message.size() > max_message_)
    return make_error(Errc::kLimit, "message of " + std::to_string(message.size()) + " bytes exceeds the limit of " +
                                        std::to_string(max_message_));
  if (message.size() <= out_.max_body()) return write_record(RecordKind::kWhole, {}, message, wake);
  const size_t slice = out_.max_body() - kChunkHeaderSize;
  ChunkView chunk;
  chunk.total_length = message.size();
  for (size_t off = 0;; ++chunk.index) {
    chunk.data = message.substr(off, slice);
    off += chunk.data.size();
    chunk.final = off == message.size();
    DXPY_TRY_VOID(write_record(RecordKind::kChunk, encode_chunk_header(chunk), chunk.data));
    if (chunk.final) return {};
  }
}

// --- receiving ---------------------------------------------------------------------------

Unexpected<Error> Channel::break_receive(Error e) {
  receive_error_ = e;
  return Unexpected<Error>{std::move(e)};
}

/// Adds the chunk in record_ to the message being put together; the message once complete.
Expected<std::optional<std::string>> Channel::take_chunk() {
  auto chunk = decode_chunk(record_, static_cast<uint32_t>(ring_bytes_));
  if (!chunk) return break_receive(chunk.error());
  if (chunk->index != next_chunk_)
    return break_receive({Errc::kCorrupt, "chunk " + std::to_string(chunk->index) + " where " +
                                              std::to_string(next_chunk_) + " was due"});
  if (chunk->index == 0) {
    if (chunk->total_length > max_message_)
      return break_receive({Errc::kLimit, "message of " + std::to_string(chunk->total_length) +
                                              " bytes exceeds the limit of " + std::to_string(max_message_)});
    partial_total_ = chunk->total_length;
    partial_.clear();
    partial_.reserve(static_cast<size_t>(partial_total_));
  } else if (chunk->total_length != partial_total_) {
    return break_receive({Errc::kCorrupt, "chunk says the message has " + std::to_string(chunk->total_length) +
                                              " bytes, the first said " + std::to_string(partial_total_)});
  }
  if (chunk->data.size() > partial_total_ - partial_.size())
    return break_receive({Errc::kCorrupt, "chunks overrun the message length " + std::to_string(partial_total_)});
  partial_.append(chunk->data);
  const bool complete = partial_.size() == partial_total_;
  if (complete != chunk->final)
    return break_receive({Errc::kCorrupt, chunk->final ? "final chunk before the message is complete"
                                                       : "message complete without a final chunk"});
  if (!complete) {
    ++next_chunk_;
    return std::optional<std::string>{};
  }
  next_chunk_ = 0;
  return std::optional<std::string>{std::move(partial_)};
}

Expected<std::optional<std::string>> Channel::receive(int timeout_ms) {
  if (receive_error_) return Unexpected<Error>{*receive_error_};
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout_ms >= 0) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  in_.disarm();  // prepare_wait() may have left the announcement up
  bool polled = false;
  for (;;) {
    RecordKind kind{};
    auto got = in_.try_read(kind, record_);
    if (!got) return break_receive(got.error());
    if (*got) {
      if (in_.producer_needs_wake()) ring(in_bell_);
      if (kind == RecordKind::kWhole) {
        if (next_chunk_ != 0) return break_receive({Errc::kCorrupt, "a whole message inside a chunked one"});
        return std::optional<std::string>{std::move(record_)};
      }
      DXPY_TRY(std::optional<std::string> message, take_chunk());
      if (message) return message;
      continue;
    }
    if (peer_gone_.load()) {
      // The sending thread may have seen the death after our look: look once more.
      if (!in_.empty()) continue;
      return break_receive(peer_gone_error().error);
    }
    // Even receive(0) polls once: its caller's event loop woke on wake_fd(), which may be
    // the end of file of a dead peer, and must learn that rather than spin on it.
    const int wait_ms = remaining_ms(deadline);
    if (wait_ms == 0 && polled) return std::optional<std::string>{};
    const Wait w = in_.arm() ? wait(in_bell_, wait_ms) : Wait::kWoken;
    in_.disarm();
    polled = true;
    if (w == Wait::kPeerGone) peer_gone_.store(true);  // deliver what it sent first
  }
}

Expected<std::optional<std::string>> Channel::try_receive() {
  if (receive_error_) return Unexpected<Error>{*receive_error_};
  for (;;) {
    RecordKind kind{};
    auto got = in_.try_read(kind, record_);
    if (!got) return break_receive(got.error());
    if (!*got) return std::optional<std::string>{};
    if (in_.producer_needs_wake()) ring(in_bell_);
    if (kind == RecordKind::kWhole) {
      if (next_chunk_ != 0) return break_receive({Errc::kCorrupt, "a whole message inside a chunked one"});
      return std::optional<std::string>{std::move(record_)};
    }
    DXPY_TRY(std::optional<std::string> message, take_chunk());
    if (message) return message;
  }
}

bool Channel::prepare_wait() {
  if (receive_error_ || peer_gone_.load()) return false;
  return in_.arm();
}

}  // namespace dxpy::protocol
