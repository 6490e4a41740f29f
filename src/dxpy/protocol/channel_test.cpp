#include "dxpy/protocol/channel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace dxpy::protocol {
namespace {

using Clock = std::chrono::steady_clock;

/// Both ends in this process: the worker's end attached from the descriptors create() made.
struct Pair {
  std::unique_ptr<Channel> orchestrator;
  std::unique_ptr<Channel> worker;
};

Pair make_pair(uint32_t ring_bytes) {
  auto ends = Channel::create({ring_bytes, kDefaultMaxMessage});
  EXPECT_TRUE(ends) << ends.error().message;
  auto worker = Channel::attach(ends->worker);
  EXPECT_TRUE(worker) << worker.error().message;
  return {std::move(ends->orchestrator), std::move(*worker)};
}

// --- the stream the streaming tests send: message k has a size and bytes both ends know --

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

class Stream {
 public:
  explicit Stream(size_t max_size) : max_(max_size), pattern_(max_size + 256, '\0') {
    for (size_t i = 0; i < pattern_.size(); ++i) pattern_[i] = static_cast<char>(i & 0xff);
  }
  std::string_view message(uint64_t k) const {
    return std::string_view(pattern_).substr(mix(k) & 0xff, mix(k ^ 0xabcdef) % (max_ + 1));
  }

 private:
  size_t max_;
  std::string pattern_;
};

constexpr int kStreamCount = 100'000;

/// Sends the stream; returns the first error's message or "".
std::string send_stream(Channel& ch, const Stream& s, int count) {
  for (int k = 0; k < count; ++k) {
    auto sent = ch.send(s.message(static_cast<uint64_t>(k)));
    if (!sent) return "send " + std::to_string(k) + ": " + sent.error().message;
  }
  return "";
}

/// Receives the stream and checks order, sizes and bytes; returns the first problem or "".
std::string receive_stream(Channel& ch, const Stream& s, int count) {
  for (int k = 0; k < count; ++k) {
    auto got = ch.receive(10'000);
    if (!got) return "receive " + std::to_string(k) + ": " + got.error().message;
    if (!*got) return "receive " + std::to_string(k) + ": timed out";
    if (**got != s.message(static_cast<uint64_t>(k)))
      return "message " + std::to_string(k) + " differs: " + std::to_string((*got)->size()) + " bytes, expected " +
             std::to_string(s.message(static_cast<uint64_t>(k)).size());
  }
  return "";
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

/// Forks a child that runs `body` with the worker's end and exits with its return value.
/// The parent closes its copies of the worker's descriptors, so the child's death shows.
pid_t fork_worker(ChannelEnds& ends, int (*body)(Channel&, void*), void* arg) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ends.orchestrator.reset();  // the child holds only the worker's end
    auto worker = Channel::attach(ends.worker);
    if (!worker) ::_exit(100);
    ::_exit(body(**worker, arg));
  }
  close_fds(ends.worker);
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// --- single thread -----------------------------------------------------------------------

TEST(Channel, RoundTripsBothWays) {
  auto p = make_pair(4096);
  const uint32_t max_body = 4096 / 2 - kRecordHeaderSize;
  // Empty, small, one record exactly, the first chunked size, and the largest that two
  // chunks carry (the whole ring), which one thread can send before reading.
  for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{max_body}, size_t{max_body + 1},
                      size_t{2 * (max_body - kChunkHeaderSize)}}) {
    std::string msg(size, 'a');
    for (size_t i = 0; i < size; ++i) msg[i] = static_cast<char>(i * 7);
    ASSERT_TRUE(p.orchestrator->send(msg)) << size;
    auto got = p.worker->receive(0);
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_TRUE(*got) << size;
    EXPECT_EQ(**got, msg);
    ASSERT_TRUE(p.worker->send(msg));
    auto back = p.orchestrator->receive(0);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ(**back, msg);
  }
}

TEST(Channel, CarriesProtocolMessages) {
  auto p = make_pair(1024);
  TestResultMessage r;
  r.sequence = 5;
  r.result.status = TestStatus::kFailed;
  r.result.stdout_text = std::string(3000, 'o');  // larger than the ring: chunked
  std::thread worker([&] { ASSERT_TRUE(p.worker->send(encode(r))); });
  auto got = p.orchestrator->receive(5000);
  worker.join();
  ASSERT_TRUE(got && *got);
  auto decoded = decode_test_result(**got);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, r);
}

TEST(Channel, ReceiveTimesOut) {
  auto p = make_pair(1024);
  auto now = p.worker->receive(0);
  ASSERT_TRUE(now);
  EXPECT_FALSE(*now);
  const auto t0 = Clock::now();
  auto later = p.worker->receive(50);
  const auto waited = Clock::now() - t0;
  ASSERT_TRUE(later);
  EXPECT_FALSE(*later);
  EXPECT_GE(waited, std::chrono::milliseconds(50));
  EXPECT_LT(waited, std::chrono::milliseconds(2000));
}

TEST(Channel, LimitsAreEnforced) {
  auto ends = Channel::create({1024, 5000});
  ASSERT_TRUE(ends);
  auto sent = ends->orchestrator->send(std::string(5001, 'x'));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, Errc::kLimit);

  // A receiver with a lower limit than the sender's refuses on the first chunk.
  auto worker = Channel::attach(ends->worker, 2000);
  ASSERT_TRUE(worker);
  std::thread sender([&] { (void)ends->orchestrator->send(std::string(4000, 'x')); });
  auto got = (*worker)->receive(5000);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kLimit);
  worker->reset();  // the sender, blocked on a full ring, sees the end go
  sender.join();
  EXPECT_FALSE(Channel::create({3000, kDefaultMaxMessage}));
}

TEST(Channel, DescriptorsFormatAndParse) {
  ChannelFds fds{5, 6, 7};
  EXPECT_EQ(format_fds(fds), "5,6,7");
  EXPECT_EQ(parse_fds("5,6,7").value(), fds);
  for (const char* bad : {"", "5,6", "5,6,7,8", "a,b,c", "5,-6,7", "5;6;7"}) EXPECT_FALSE(parse_fds(bad)) << bad;
}

// Security (docs/security.md): the shared memory has no name another process could open
// (a memfd, not a /dev/shm file), has an owner-only mode, cannot be
// resized by the worker (sealed), and no descriptor of it leaks into an exec'd program.
TEST(Channel, MemoryIsAnUnnamedSealedMemfdPrivateToTheUser) {
  auto ends = Channel::create();
  ASSERT_TRUE(ends) << ends.error().message;
  const int fd = ends->worker.memory;
  char target[256] = {};
  ASSERT_GT(::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target, sizeof target - 1), 0);
  EXPECT_EQ(std::string(target).rfind("/memfd:", 0), 0u) << target;
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_mode & 077, 0u) << std::oct << st.st_mode;
  const int seals = ::fcntl(fd, F_GET_SEALS);
  EXPECT_TRUE(seals & F_SEAL_SHRINK) << seals;
  EXPECT_TRUE(seals & F_SEAL_GROW) << seals;
  EXPECT_NE(::ftruncate(fd, 1 << 20), 0);
  for (int d : {ends->worker.memory, ends->worker.inbound, ends->worker.outbound})
    EXPECT_TRUE(::fcntl(d, F_GETFD) & FD_CLOEXEC) << d;
  close_fds(ends->worker);
}

TEST(Channel, AttachChecksTheMapping) {
  int fd = ::memfd_create("not-a-channel", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096 + 2048), 0);
  auto r = Channel::attach({fd, -1, -1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kCorrupt);
}

TEST(Channel, CorruptRingIsAnError) {
  auto ends = Channel::create({1024, kDefaultMaxMessage});
  ASSERT_TRUE(ends);
  void* map = ::mmap(nullptr, 4096 + 2048, PROT_READ | PROT_WRITE, MAP_SHARED, ends->worker.memory, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto worker = Channel::attach(ends->worker);
  ASSERT_TRUE(worker);
  // A scribbling worker sets the write position of its ring far ahead.
  auto* to_orchestrator = reinterpret_cast<RingControl*>(static_cast<char*>(map) + 192);
  to_orchestrator->write_pos = 1u << 20;
  auto got = ends->orchestrator->receive(0);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kCorrupt);
  EXPECT_FALSE(ends->orchestrator->receive(0));  // and it stays broken
  ::munmap(map, 4096 + 2048);
}

TEST(Channel, EventLoopWaitsOnTheWakeDescriptor) {
  auto p = make_pair(1024);
  ASSERT_TRUE(p.orchestrator->prepare_wait());
  pollfd pfd{p.orchestrator->wake_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);
  ASSERT_TRUE(p.worker->send("result"));
  EXPECT_EQ(::poll(&pfd, 1, 1000), 1);
  auto got = p.orchestrator->receive(0);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, "result");
  ASSERT_TRUE(p.worker->send("more"));
  EXPECT_FALSE(p.orchestrator->prepare_wait());  // a message waits: do not sleep
}

// --- two threads -------------------------------------------------------------------------

TEST(Channel, LazySendDoesNotWakeASleeperAndTryReceiveTakesIt) {
  Pair p = make_pair(kMinRingBytes);
  ASSERT_TRUE(p.orchestrator->prepare_wait());
  ASSERT_TRUE(p.worker->send_lazy("lazy"));
  pollfd pfd{p.orchestrator->wake_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 50), 0);  // no wake-up came
  EXPECT_TRUE(p.orchestrator->has_inbound());
  auto got = p.orchestrator->try_receive();
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ(**got, "lazy");
  EXPECT_FALSE(p.orchestrator->has_inbound());
  auto none = p.orchestrator->try_receive();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // A normal send after a lazy one wakes the sleeper, which finds both.
  ASSERT_TRUE(p.orchestrator->prepare_wait());
  ASSERT_TRUE(p.worker->send_lazy("one"));
  ASSERT_TRUE(p.worker->send("two"));
  EXPECT_EQ(::poll(&pfd, 1, 1000), 1);
  auto one = p.orchestrator->try_receive();
  ASSERT_TRUE(one && *one);
  EXPECT_EQ(**one, "one");
  auto two = p.orchestrator->try_receive();
  ASSERT_TRUE(two && *two);
  EXPECT_EQ(**two, "two");
}

TEST(Channel, TryReceivePutsChunksTogether) {
  Pair p = make_pair(kMinRingBytes);
  std::string big(kMinRingBytes * 3 + 17, 'x');
  std::thread sender([&] { ASSERT_TRUE(p.worker->send(big)); });
  std::optional<std::string> whole;
  auto until = Clock::now() + std::chrono::seconds(10);
  while (!whole && Clock::now() < until) {
    auto got = p.orchestrator->try_receive();
    ASSERT_TRUE(got) << got.error().message;
    if (*got) whole = std::move(*got);
  }
  sender.join();
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole, big);
}

TEST(Channel, TwoThreadsStream100kMessagesInOrder) {
  auto p = make_pair(2048);
  const Stream stream(4 * 2048);
  std::string send_error;
  std::thread sender([&] { send_error = send_stream(*p.orchestrator, stream, kStreamCount); });
  const std::string receive_error = receive_stream(*p.worker, stream, kStreamCount);
  sender.join();
  EXPECT_EQ(send_error, "");
  EXPECT_EQ(receive_error, "");
  auto extra = p.worker->receive(0);  // nothing duplicated at the end
  ASSERT_TRUE(extra);
  EXPECT_FALSE(*extra);
}

TEST(Channel, BothDirectionsAtOnce) {
  auto p = make_pair(1024);
  const Stream stream(4 * 1024);
  constexpr int kCount = 20'000;
  std::string e1, e2, e3;
  std::thread a([&] { e1 = send_stream(*p.orchestrator, stream, kCount); });
  std::thread b([&] { e2 = send_stream(*p.worker, stream, kCount); });
  std::thread c([&] { e3 = receive_stream(*p.worker, stream, kCount); });
  const std::string e4 = receive_stream(*p.orchestrator, stream, kCount);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(e1 + e2 + e3 + e4, "");
}

TEST(Channel, BlockedReaderSleepsAndWakesOnWrite) {
  auto p = make_pair(1024);
  double cpu_ms = -1;
  Clock::duration waited{};
  std::optional<std::string> got;
  std::thread reader([&] {
    const double c0 = thread_cpu_ms();
    const auto t0 = Clock::now();
    auto r = p.worker->receive(-1);
    waited = Clock::now() - t0;
    cpu_ms = thread_cpu_ms() - c0;
    if (r) got = std::move(*r);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(p.orchestrator->send("wake up"));
  reader.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "wake up");
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_LT(cpu_ms, 10.0) << "the waiting thread used CPU while idle";
}

// --- a forked child ------------------------------------------------------------------------

TEST(Channel, ForkedChildStreams100kMessagesInOrder) {
  static const Stream stream(4 * 2048);
  auto ends = Channel::create({2048, kDefaultMaxMessage});
  ASSERT_TRUE(ends);
  const pid_t pid = fork_worker(
      *ends, [](Channel& worker, void*) { return send_stream(worker, stream, kStreamCount).empty() ? 0 : 1; },
      nullptr);
  EXPECT_EQ(receive_stream(*ends->orchestrator, stream, kStreamCount), "");
  EXPECT_EQ(wait_exit_code(pid), 0);
  auto after = ends->orchestrator->receive(1000);  // then the child's end is gone
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Errc::kIo);
}

TEST(Channel, DeadPeerIsDetectedAfterItsLastMessages) {
  auto ends = Channel::create({1024, kDefaultMaxMessage});
  ASSERT_TRUE(ends);
  const pid_t pid = fork_worker(
      *ends,
      [](Channel& worker, void*) {
        for (const char* m : {"one", "two", "three"})
          if (!worker.send(m)) return 1;
        return 0;  // _exit without closing anything
      },
      nullptr);
  for (const char* want : {"one", "two", "three"}) {
    auto got = ends->orchestrator->receive(5000);
    ASSERT_TRUE(got && *got) << want;
    EXPECT_EQ(**got, want);
  }
  const auto t0 = Clock::now();
  auto gone = ends->orchestrator->receive(10'000);
  ASSERT_FALSE(gone) << "a dead peer looked like a timeout";
  EXPECT_EQ(gone.error().code, Errc::kIo);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(wait_exit_code(pid), 0);
}

TEST(Channel, KilledPeerWakesABlockedReaderAndABlockedWriter) {
  auto ends = Channel::create({1024, kDefaultMaxMessage});
  ASSERT_TRUE(ends);
  const pid_t pid = fork_worker(
      *ends, [](Channel&, void*) {
        ::pause();  // never reads: the orchestrator's ring fills up
        return 0;
      },
      nullptr);
  std::thread killer([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(pid, SIGKILL);
  });
  Expected<void> sent;
  for (int i = 0; i < 1000 && sent; ++i) sent = ends->orchestrator->send(std::string(300, 'x'));
  killer.join();
  ASSERT_FALSE(sent) << "the writer blocked on a full ring did not see the reader die";
  EXPECT_EQ(sent.error().code, Errc::kIo);
  auto got = ends->orchestrator->receive(-1);  // would hang forever if death went unseen
  ASSERT_FALSE(got);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
}

TEST(Channel, WatchedPidfdSeesDeathThatLeakedDescriptorsHide) {
  // The worker forks a grandchild that inherits its end and lives on: the sockets stay
  // open, so only the worker's pidfd tells the orchestrator that the worker died.
  int release[2];
  ASSERT_EQ(::pipe(release), 0);
  auto ends = Channel::create({1024, kDefaultMaxMessage});
  ASSERT_TRUE(ends);
  const pid_t pid = fork_worker(
      *ends,
      [](Channel&, void* arg) {
        int* fds = static_cast<int*>(arg);
        ::close(fds[1]);
        if (::fork() == 0) {
          char c;
          (void)::read(fds[0], &c, 1);  // until the test ends
          ::_exit(0);
        }
        return 3;
      },
      release);
  ::close(release[0]);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    ::close(release[1]);
    wait_exit_code(pid);
    GTEST_SKIP() << "pidfd_open is not available";
  }
  ends->orchestrator->watch(pidfd);
  auto got = ends->orchestrator->receive(10'000);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kIo);
  EXPECT_EQ(wait_exit_code(pid), 3);
  ::close(pidfd);
  ::close(release[1]);  // the grandchild exits
}

}  // namespace
}  // namespace dxpy::protocol
