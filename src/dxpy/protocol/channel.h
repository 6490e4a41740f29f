#pragma once
/// A Channel joins the orchestrator and one worker: a shared mapping with one ring each way
/// (ring.h), plus two socket pairs that wake a sleeping side and tell it the other is gone.
///
/// Mapping: {magic "DXPS", u32 layout version, u32 ring bytes, u32 reserved} at 0;
///   RingControl orchestrator->worker at 64, worker->orchestrator at 192 (128 bytes each);
///   ring data orchestrator->worker at 4096, worker->orchestrator at 4096 + ring bytes.
///
/// Why memfd_create rather than shm_open: a memfd has no name, so nothing can be left in
/// /dev/shm when the orchestrator is killed between shm_open and shm_unlink, and no other
/// user can open it; the memory goes with the last descriptor or mapping. It is created
/// MFD_CLOEXEC, so it does not leak into every other worker spawned meanwhile: the pool
/// dup2()s it to a fixed descriptor in the one child that needs it (like the frame pipes).
/// The size is sealed (F_SEAL_SHRINK | F_SEAL_GROW), so a buggy or hostile test cannot
/// ftruncate it and make the orchestrator's next access a SIGBUS.
///
/// Why socket pairs rather than futexes: a futex cannot be waited on together with other
/// descriptors, but the orchestrator waits on N workers, their pidfds and signals at once
/// (wake_fd() goes into its epoll set), and a socket end reads EOF when the process holding
/// the other end dies, which is peer-death detection for free. There is one pair per ring, so
/// one thread may send while another receives. A side only writes a wake-up byte when the
/// other side announced that it sleeps (a flag in the ring's control words), so a busy
/// stream makes no system calls at all.
///
/// Messages larger than a ring record (half the ring) are cut into kChunk messages
/// (message.h) and put back together by receive(); a message of any size up to the limit
/// goes through a ring of any size.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dxpy/protocol/message.h"
#include "dxpy/protocol/ring.h"
#include "dxpy/util/expected.h"

namespace dxpy::protocol {

/// Largest message a channel carries by default: a payload at the limit and its header.
inline constexpr uint64_t kDefaultMaxMessage = uint64_t{kDefaultMaxPayload} + 64;

struct ChannelOptions {
  uint32_t ring_bytes = 1u << 20;  // per direction; a power of two, at least kMinRingBytes
  uint64_t max_message = kDefaultMaxMessage;
};

/// The descriptors a worker's end is made from: the mapping, the wake-up socket of the ring
/// it reads and of the ring it writes. All are close-on-exec.
struct ChannelFds {
  int memory = -1;
  int inbound = -1;
  int outbound = -1;
  friend bool operator==(const ChannelFds&, const ChannelFds&) = default;
};
/// Closes those that are open and sets them to -1.
void close_fds(ChannelFds& fds);
/// "5,6,7": how the pool tells the worker (an environment variable) where they are.
std::string format_fds(const ChannelFds& fds);
Expected<ChannelFds> parse_fds(std::string_view text);

class Channel;

/// What create() gives: the orchestrator's end, and the worker's descriptors, which the
/// caller hands to the child (dup2 after fork) and then closes with close_fds().
struct ChannelEnds {
  std::unique_ptr<Channel> orchestrator;
  ChannelFds worker;
};

/// One end of a channel. One thread may send while another receives; two threads must not
/// both send or both receive. The blocking calls touch no Python state, so the extension
/// module releases the GIL around them.
class Channel {
 public:
  static Expected<ChannelEnds> create(const ChannelOptions& options = {});
  /// The worker's end. Takes ownership of `fds` (also on error): the memory descriptor is
  /// closed once mapped, the sockets when the Channel goes.
  static Expected<std::unique_ptr<Channel>> attach(const ChannelFds& fds,
                                                  uint64_t max_message = kDefaultMaxMessage);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Sends one message (any bytes, up to max_message). Blocks while the ring is full; an
  /// error if the peer is gone. A side that sends more than a ring holds must keep
  /// receiving meanwhile (in another thread or its event loop), or both sides can block.
  Expected<void> send(std::string_view message);

  /// Like send(), but does not wake a sleeping receiver: for a message the other side may
  /// take late (a worker's result while more tests wait in its inbound ring). The receiver
  /// must then sleep with a timeout (execute.cpp does while tests are in flight), or a
  /// later message (sent with send()) wakes it and it finds both.
  Expected<void> send_lazy(std::string_view message);

  /// The next message if one is complete in the ring, without any system call: nullopt when
  /// none is. Errors as receive(). For an event loop that learns of the peer's death some
  /// other way (a pidfd).
  Expected<std::optional<std::string>> try_receive();

  /// Messages are waiting in the inbound ring (a cheap look, no system call).
  bool has_inbound() const { return !in_.empty(); }

  /// The next message; nullopt when none came within `timeout_ms` (0: do not wait, < 0:
  /// wait forever). Messages the peer sent before it went are delivered first; after that
  /// it is an error (Errc::kIo), as is a corrupt ring (Errc::kCorrupt) or a message over
  /// the limit (Errc::kLimit). Errors are final: the channel is unusable after one.
  Expected<std::optional<std::string>> receive(int timeout_ms);

  /// Also treats `fd` becoming readable or hung up as the peer being gone (a pidfd of the
  /// worker, so that a grandchild holding its descriptors cannot hide its death). Not owned.
  void watch(int fd) { watch_fd_ = fd; }

  /// For an event loop over many channels: announces that this end is about to sleep and
  /// returns false when a message is already waiting (call receive(0) instead). After true,
  /// wake_fd() becomes readable when data arrives or the peer goes; then call receive(0).
  bool prepare_wait();
  int wake_fd() const { return in_bell_; }

  uint32_t ring_bytes() const { return ring_bytes_; }
  uint64_t max_message() const { return max_message_; }

 private:
  enum class Wait { kWoken, kTimeout, kPeerGone };
  Channel() = default;
  Expected<void> write_record(RecordKind kind, std::string_view head, std::string_view body, bool wake = true);
  Expected<void> send_impl(std::string_view message, bool wake);
  Wait wait(int bell, int timeout_ms);
  void ring(int bell);
  Unexpected<Error> peer_gone_error() const;
  Expected<std::optional<std::string>> take_chunk();
  Unexpected<Error> break_receive(Error e);

  void* map_ = nullptr;
  size_t map_size_ = 0;
  uint32_t ring_bytes_ = 0;
  uint64_t max_message_ = kDefaultMaxMessage;
  int in_bell_ = -1;   // the socket of the ring we read
  int out_bell_ = -1;  // the socket of the ring we write
  int watch_fd_ = -1;
  RingWriter out_;
  RingReader in_;
  std::atomic<bool> peer_gone_{false};

  // Receiving side state: a message being put together from chunks.
  std::string record_;
  std::string partial_;
  uint64_t partial_total_ = 0;
  uint32_t next_chunk_ = 0;
  std::optional<Error> receive_error_;
};

}  // namespace dxpy::protocol
