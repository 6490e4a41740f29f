#include "dxpy/session/execute.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>

#include "dxpy/exec/scheduler.h"
#include "dxpy/pool/worker.h"
#include "dxpy/protocol/message.h"
#include "dxpy/session/spares.h"

namespace dxpy::session {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kTailBytes = 8 * 1024;
constexpr int kAbortGraceMs = 2000;      // a timed-out worker's time to dump its traceback
constexpr unsigned kStartAttempts = 3;   // workers that die before saying hello, in a row
/// While tests run, results that workers send lazily (more work queued behind them, see
/// bindings' send_result) are collected at least this often.
constexpr int kResultTickMs = 2;
constexpr uint32_t kShutdownGraceMs = 2000;
constexpr auto kBrokenGrace = std::chrono::seconds(5);
// A test's timeout counts from its worker's hello: Python's start-up (and --preload) is not
// the test's time. Until the hello, the deadline also allows this much for starting.
constexpr auto kStartGrace = std::chrono::seconds(20);

/// Reads the wake-up bytes waiting on `fd`; true when the other end is closed.
bool drain_bell(int fd) {
  char buf[256];
  for (;;) {
    ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (got > 0) continue;
    if (got == 0) return true;
    if (errno == EINTR) continue;
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

struct Slot {
  std::unique_ptr<pool::Worker> worker;
  bool hello = false;
  bool dead = false;           // its process ended (or its ring is corrupt): handle the loss
  bool woken = false;          // its wake-up socket was readable: look for the end of file
  /// Its sockets are closed (a test closed them) but the process lives on and may still
  /// write results into the ring: no more work for it, and it is waited for (its pidfd)
  /// until broken_deadline, then killed.
  bool broken = false;
  Clock::time_point broken_deadline = Clock::time_point::max();
  bool asked_to_stop = false;  // a Shutdown was sent: wait for the exit before killing
  std::deque<uint32_t> sent;   // tests sent without a result, in the order the worker runs them
  Clock::time_point deadline = Clock::time_point::max();  // of sent.front()
  Clock::time_point started{};                            // when sent.front() began
};

std::optional<double> parse_seconds(const std::string& s) {
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size() && v >= 0) return v;
  } catch (...) {
  }
  return std::nullopt;
}

class Executor {
 public:
  Executor(const std::vector<TestCase>& tests, const ExecOptions& o, const ExecEvents& ev)
      : tests_(tests), o_(o), ev_(ev), sched_(make_tasks(), o.workers, {o.max_batch, 3, 0, 2, o.keep_order}) {
    slots_.resize(o.workers);
    timeouts_.reserve(tests.size());
    for (const auto& tc : tests) timeouts_.push_back(test_timeout(tc, o.timeout_seconds));
  }

  ExecOutcome run() {
    ExecOutcome out;
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &stop, &old);
    sigfd_ = ::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (sigfd_ < 0 || epfd_ < 0) {
      out.fatal = std::string("epoll/signalfd: ") + std::strerror(errno);
    } else {
      add_fd(sigfd_, kSignalKey);
      loop(out);
      if (stopped_ && !out.interrupted) {
        out.stopped = true;
        out.unfinished = sched_.unfinished();
      }
    }
    // All are asked first, then waited for: their exits overlap.
    // After a stop (-x), a worker with tests still sent is killed (none of them may report);
    // an idle one ends as usual, its session fixtures torn down.
    for (unsigned w = 0; w < slots_.size(); ++w)
      ask_to_stop(w, out.interrupted || (out.stopped && !slots_[w].sent.empty()));
    for (unsigned w = 0; w < slots_.size(); ++w) finish_stop(w);
    if (sigfd_ >= 0) ::close(sigfd_);
    if (epfd_ >= 0) ::close(epfd_);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    out.workers_started = spawned_;
    return out;
  }

 private:
  static constexpr uint64_t kSignalKey = ~uint64_t{0};

  std::vector<exec::Task> make_tasks() const {
    std::vector<exec::Task> tasks;
    tasks.reserve(tests_.size());
    std::unordered_map<std::string_view, uint32_t> modules;
    for (size_t i = 0; i < tests_.size(); ++i) {
      auto [it, fresh] = modules.try_emplace(tests_[i].id.path, static_cast<uint32_t>(modules.size()));
      exec::Task t;
      t.module = it->second;
      // In a given order, each run of one module's tests is a chunk of its own.
      if (o_.keep_order)
        t.module = i && tests_[i].id.path == tests_[i - 1].id.path ? tasks.back().module : static_cast<uint32_t>(i);
      if (i < o_.expected_seconds.size()) t.expected_seconds = o_.expected_seconds[i];
      tasks.push_back(t);
    }
    return tasks;
  }

  void add_fd(int fd, uint64_t key) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = key;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &e);
  }

  void note(const std::string& s) {
    if (ev_.on_note) ev_.on_note(s);
  }

  bool start_worker(unsigned w, ExecOutcome& out) {
    Expected<std::unique_ptr<pool::Worker>> spawned = std::unique_ptr<pool::Worker>();
    if (o_.spares) spawned = take_spare(*o_.spares, spare_key(o_), w);
    if (!*spawned) {
      spawned = pool::Worker::spawn(worker_spawn_options(o_, w));
      ++spawned_;
    }
    if (!spawned) {
      out.fatal = "cannot start a worker (" + o_.python + "): " + spawned.error().message;
      return false;
    }
    Slot& s = slots_[w];
    s = Slot{};
    s.worker = std::move(*spawned);
    add_fd(s.worker->channel().wake_fd(), uint64_t{w} * 2);
    add_fd(s.worker->pidfd(), uint64_t{w} * 2 + 1);
    sched_.worker_started(w);
    return true;
  }

  /// Ends slot `w`'s worker: at the end of the run it is asked to exit; when interrupted,
  /// or when it does not exit within the grace period, its process group is killed.
  void stop_worker(unsigned w, bool kill) {
    ask_to_stop(w, kill);
    finish_stop(w);
  }
  void ask_to_stop(unsigned w, bool kill) {
    Slot& s = slots_[w];
    if (!s.worker) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s.worker->channel().wake_fd(), nullptr);
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s.worker->pidfd(), nullptr);
    s.asked_to_stop = !kill && !s.dead;
    if (s.asked_to_stop) {
      protocol::ShutdownMessage bye;
      bye.grace_ms = kShutdownGraceMs;
      s.asked_to_stop = static_cast<bool>(s.worker->channel().send(protocol::encode(bye)));
    }
  }
  void finish_stop(unsigned w) {
    Slot& s = slots_[w];
    if (!s.worker) return;
    if (s.asked_to_stop) s.worker->wait_exit(kShutdownGraceMs);
    s.worker->reap(true);
    s.worker.reset();
  }

  void send_batch(unsigned w, const std::vector<uint32_t>& batch) {
    Slot& s = slots_[w];
    bool was_idle = s.sent.empty();
    for (size_t i = 0; i < batch.size(); ++i) {
      uint32_t t = batch[i];
      protocol::TestMessage m;
      m.sequence = t;
      m.worker_id = static_cast<uint16_t>(w);
      m.timeout_ms = static_cast<uint32_t>(timeouts_[t] * 1000);
      m.last_of_module = i + 1 < batch.size() && tests_[batch[i + 1]].id.path != tests_[t].id.path;
      m.test = tests_[t];
      s.sent.push_back(t);
      // One wake-up for the whole batch: the worker is woken by its last message.
      std::string bytes = protocol::encode(m);
      auto sent = i + 1 < batch.size() ? s.worker->channel().send_lazy(bytes) : s.worker->channel().send(bytes);
      if (!sent) {
        mark_broken(w);  // the loss handling gives the batch back once the process ends
        return;
      }
    }
    if (was_idle) arm_deadline(s);
  }

  void mark_broken(unsigned w) {
    Slot& s = slots_[w];
    if (s.broken) return;
    s.broken = true;
    s.broken_deadline = Clock::now() + kBrokenGrace;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s.worker->channel().wake_fd(), nullptr);
    note("worker " + std::to_string(w) + ": its channel was closed; waiting for the process to end");
  }

  void arm_deadline(Slot& s) {
    s.deadline = Clock::time_point::max();
    s.started = Clock::now();
    if (s.sent.empty()) return;
    if (ev_.on_started) ev_.on_started(s.sent.front());
    double t = timeouts_[s.sent.front()];
    if (t > 0)
      s.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(t)) +
                   (s.hello ? Clock::duration::zero() : std::chrono::duration_cast<Clock::duration>(kStartGrace));
  }

  void deliver(uint32_t t, TestResult&& r) {
    // A test the worker expanded (run-time parametrize) reports its own ids, each within
    // the test's file and function; any other result is named by the orchestrator.
    const TestId& want = tests_[t].id;
    bool own_id = r.id.param && r.id.path == want.path && r.id.name == want.name &&
                  r.id.classes == want.classes && (!want.param || r.id.param == want.param);
    if (!own_id) r.id = want;
    if (stopped_) return;
    ev_.on_result(t, std::move(r));
    if (ev_.stop_requested && ev_.stop_requested()) stopped_ = true;
  }

  void handle_message(unsigned w, const std::string& bytes) {
    Slot& s = slots_[w];
    auto header = protocol::read_header(bytes);
    if (!header) {
      note("worker " + std::to_string(w) + ": malformed message dropped: " + header.error().message);
      return;
    }
    switch (header->type) {
      case protocol::MessageType::kHello: {
        auto hello = protocol::decode_hello(bytes);
        if (!hello) break;
        s.hello = true;
        failed_starts_ = 0;
        if (!s.sent.empty()) arm_deadline(s);  // its first test starts now
        if (!ready_) {
          ready_ = true;
          if (ev_.on_ready) ev_.on_ready(hello->python_version);
        }
        return;
      }
      case protocol::MessageType::kTestResult: {
        auto m = protocol::decode_test_result(bytes);
        if (!m) {
          note("worker " + std::to_string(w) + ": malformed result dropped: " + m.error().message);
          return;
        }
        auto it = std::find(s.sent.begin(), s.sent.end(), m->sequence);
        if (it != s.sent.end() && m->more_results) {  // one of several: the test goes on
          if (it == s.sent.begin()) arm_deadline(s);
          deliver(static_cast<uint32_t>(m->sequence), std::move(m->result));
          return;
        }
        if (it == s.sent.end() || !sched_.finished(w, static_cast<uint32_t>(m->sequence), m->result.status)) {
          note("worker " + std::to_string(w) + ": result for test " + std::to_string(m->sequence) +
               " that it was not running, dropped");
          return;
        }
        bool front = it == s.sent.begin();
        s.sent.erase(it);
        if (front) arm_deadline(s);
        deliver(static_cast<uint32_t>(m->sequence), std::move(m->result));
        return;
      }
      case protocol::MessageType::kLog: {
        if (auto log = protocol::decode_log(bytes); log && !log->text.empty())
          note("worker " + std::to_string(w) + ": " + log->text);
        return;
      }
      default:
        break;
    }
    note("worker " + std::to_string(w) + ": unexpected " + std::string(protocol::to_string(header->type)) +
         " message dropped");
  }

  /// Takes every message waiting on slot `w`. False once its channel is broken.
  bool drain(unsigned w) {
    Slot& s = slots_[w];
    for (;;) {
      // Only after a wake-up does the socket need a look (it may be the end of file of a
      // worker that closed it); else the ring alone, without a system call.
      // The ring alone, without a system call: the process's death comes from its pidfd,
      // and a closed socket from the wake-up event (below), not from here.
      auto got = s.worker->channel().try_receive();
      if (!got) {
        s.dead = true;
        return false;
      }
      if (!*got) {
        if (s.woken) {
          s.woken = false;
          if (drain_bell(s.worker->channel().wake_fd())) mark_broken(w);
        }
        return true;
      }
      handle_message(w, **got);
      if (stopped_) return true;
    }
  }

  TestResult fault_result(uint32_t t, TestStatus status, const std::string& message, pool::Worker& worker,
                          const std::string& how) {
    TestResult r;
    r.status = status;
    r.message = message;
    const Slot& s = slots_[worker.id()];
    if (s.started != Clock::time_point{})
      r.duration_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s.started).count());
    std::string err = worker.stderr_tail(kTailBytes);
    r.traceback = tests_[t].id.node_id() + ": " + message;
    if (!how.empty()) r.traceback += "\nThe worker process (pid " + std::to_string(worker.pid()) + ") ended with " + how + ".";
    if (!err.empty()) r.traceback += "\n--- last output of the worker on stderr ---\n" + err;
    r.stdout_text = worker.stdout_tail(kTailBytes);
    return r;
  }

  void after_loss(const exec::Loss& loss) {
    if (loss.retried) note("test " + tests_[*loss.retried].id.node_id() + " runs again alone");
    if (!loss.requeued.empty()) note(std::to_string(loss.requeued.size()) + " queued tests go to other workers");
  }

  /// Slot `w`'s worker died: collect what it sent, report the test it was running as
  /// crashed, give the rest of its work back.
  void handle_death(unsigned w, ExecOutcome& out) {
    Slot& s = slots_[w];
    drain(w);  // messages sent before it died come first
    std::string how = s.worker->reap(false);
    std::optional<uint32_t> in_flight;
    if (s.hello && !s.sent.empty()) in_flight = s.sent.front();
    if (!s.hello) {
      ++failed_starts_;
      if (!ready_ && failed_starts_ >= kStartAttempts) {
        std::string err = s.worker->stderr_tail(kTailBytes);
        out.fatal = "the worker (" + o_.python + " -m dx_py_test_runner.worker) did not start: it ended with " + how +
                    (err.empty() ? "" : ":\n" + err) +
                    "\nIs dx-py installed in that environment? Use --python to pick the interpreter.";
      }
    }
    exec::Loss loss = sched_.worker_lost(w, in_flight);
    if (loss.finished) {
      std::string msg = "worker crashed while running this test: " + how;
      deliver(*loss.finished, fault_result(*loss.finished, TestStatus::kCrashed, msg, *s.worker, how));
    }
    note("worker " + std::to_string(w) + " (pid " + std::to_string(s.worker->pid()) + ") ended with " + how +
         "; replaced");
    after_loss(loss);
    stop_worker(w, true);
  }

  void handle_timeout(unsigned w) {
    Slot& s = slots_[w];
    uint32_t t = s.sent.front();
    // SIGABRT makes faulthandler print where the test was stuck, then the process dies.
    ::kill(s.worker->pid(), SIGABRT);
    s.worker->wait_exit(kAbortGraceMs);
    std::string how = s.worker->reap(true);
    char buf[96];
    std::snprintf(buf, sizeof buf, "Timeout: the test ran longer than %gs", timeouts_[t]);
    exec::Loss loss = sched_.timed_out(w, t);
    deliver(t, fault_result(t, TestStatus::kTimeout, buf, *s.worker, ""));
    note("worker " + std::to_string(w) + " killed after a timeout; replaced");
    after_loss(loss);
    stop_worker(w, true);
  }

  void loop(ExecOutcome& out) {
    const unsigned n = static_cast<unsigned>(slots_.size());
    std::vector<epoll_event> events(n * 2 + 1);
    while (!sched_.done()) {
      if (stopped_) return;
      // Start workers where there is work for them, and hand it out.
      for (unsigned w = 0; w < n; ++w) {
        if (!slots_[w].worker) {
          if (!sched_.has_queued() || !out.fatal.empty()) continue;
          if (!start_worker(w, out)) return;
        }
        // -s: no test before the hello, so the session's header comes before any output.
        if (!slots_[w].dead && !slots_[w].broken && sched_.state(w) == exec::SlotState::kIdle &&
            sched_.has_queued() && (slots_[w].hello || !o_.inherit_output))
          send_batch(w, sched_.next_for(w));
      }
      // Take what arrived; handle dead workers and expired tests.
      bool busy = false;
      auto now = Clock::now();
      auto next_deadline = Clock::time_point::max();
      for (unsigned w = 0; w < n; ++w) {
        Slot& s = slots_[w];
        if (!s.worker) continue;
        if (!s.dead) drain(w);
        if (stopped_) break;
        if (s.broken && !s.dead && s.broken_deadline <= now) s.dead = true;  // killed by the loss handling
        if (s.dead) {
          handle_death(w, out);
          if (!out.fatal.empty()) return;
          busy = true;
          continue;
        }
        if (!s.sent.empty() && s.deadline <= now) {
          handle_timeout(w);
          busy = true;
          continue;
        }
        next_deadline = std::min({next_deadline, s.deadline, s.broken_deadline});
        if (!s.broken && sched_.state(w) == exec::SlotState::kIdle && sched_.has_queued() &&
            (s.hello || !o_.inherit_output))
          busy = true;
      }
      if (ev_.on_tick) ev_.on_tick();
      if (sched_.done() || stopped_) continue;  // the loop's head ends it
      if (busy) continue;
      for (unsigned w = 0; w < n; ++w) {
        Slot& s = slots_[w];
        if (!s.worker || s.broken || s.worker->channel().prepare_wait()) continue;
        // Not armed: a message waits, or the channel saw its peer go (then sleeping on it
        // would spin): wait for the process instead.
        if (s.worker->channel().has_inbound())
          busy = true;
        else
          mark_broken(w);
      }
      if (busy) continue;
      int timeout_ms = -1;
      if (next_deadline != Clock::time_point::max()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - Clock::now()).count();
        timeout_ms = static_cast<int>(std::clamp<long long>(left + 1, 0, 60'000));
      }
      for (unsigned w = 0; w < n; ++w)
        if (slots_[w].worker && !slots_[w].sent.empty())
          timeout_ms = timeout_ms < 0 ? kResultTickMs : std::min(timeout_ms, kResultTickMs);
      int got = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout_ms);
      for (int i = 0; i < got; ++i) {
        uint64_t key = events[static_cast<size_t>(i)].data.u64;
        if (key == kSignalKey) {
          signalfd_siginfo si{};
          if (::read(sigfd_, &si, sizeof si) == sizeof si) {
            interrupt(out, static_cast<int>(si.ssi_signo));
            return;
          }
        } else if (key % 2 == 1) {
          slots_[key / 2].dead = true;  // pidfd: the process ended
        } else {
          slots_[key / 2].woken = true;
        }
      }
    }
  }

  void interrupt(ExecOutcome& out, int sig) {
    out.interrupted = true;
    out.signal = sig;
    for (unsigned w = 0; w < slots_.size(); ++w) {
      Slot& s = slots_[w];
      if (!s.worker) continue;
      if (!s.dead) drain(w);  // results that made it in time count
      if (!s.sent.empty() && s.hello) out.in_flight.push_back(s.sent.front());
    }
    out.unfinished = sched_.unfinished();
  }

  const std::vector<TestCase>& tests_;
  const ExecOptions& o_;
  const ExecEvents& ev_;
  exec::Scheduler sched_;
  std::vector<Slot> slots_;
  std::vector<double> timeouts_;
  int epfd_ = -1;
  int sigfd_ = -1;
  bool ready_ = false;
  bool stopped_ = false;  // stop_requested said so: nothing more is delivered
  unsigned failed_starts_ = 0;
  uint32_t spawned_ = 0;
};

}  // namespace

double test_timeout(const TestCase& tc, double default_seconds) {
  for (const auto& m : tc.markers) {
    if (m.name != "timeout") continue;
    if (!m.args.empty())
      if (auto v = parse_seconds(m.args[0])) return *v;
    for (const auto& [k, v] : m.kwargs)
      if (k == "timeout")
        if (auto s = parse_seconds(v)) return *s;
  }
  return default_seconds;
}

ExecOutcome execute(const std::vector<TestCase>& tests, const ExecOptions& options, const ExecEvents& events) {
  if (tests.empty()) return {};
  ExecOptions o = options;
  o.workers = std::clamp<unsigned>(o.workers, 1, static_cast<unsigned>(std::min<size_t>(tests.size(), 256)));
  Executor ex(tests, o, events);
  return ex.run();
}

}  // namespace dxpy::session
