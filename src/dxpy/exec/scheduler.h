#pragma once
/// Which tests each worker slot runs next: a global injector queue, a local deque per slot
/// and stealing. A single-threaded state machine driven by the orchestrator's event loop
/// (slot started, slot idle, result, slot lost, timeout), so that every property can be
/// checked without threads. It knows tests as indices and workers as slots; it never sees
/// a process.
///
/// Policy:
/// - Longest first (LPT). Tests are grouped by module; modules wait in the injector ordered
///   by total expected duration, longest first. A test without a known duration counts as
///   the median known duration, or 1 when none is known.
/// - Module affinity. An idle slot with an empty local deque takes the whole next module
///   from the injector into its deque, so a module is imported by one worker while other
///   modules wait.
/// - Tail stealing. Once the injector is empty, an idle slot with an empty deque steals
///   from the back of the deque holding the most expected work: half its tests, rounded
///   up (the victim also has a batch in hand, so the thief never takes more than half of
///   the victim's outstanding work). Only here are modules split.
/// - Batches. A slot is handed the front of its deque, one module at a time, up to
///   `max_batch` tests and, after the first test, up to 1/(batch_divisor * slots) of all
///   queued expected work (guided self-scheduling): batches are large while much is
///   queued, which amortises round trips, and shrink in the tail, which bounds the
///   makespan by total/slots + max(longest test, total/(batch_divisor * slots)).
/// - Work is never withheld: next_for() returns nothing only when nothing is queued.
/// - Faults. A lost slot's in-flight test finishes as crashed (or, under `crash_retries`,
///   runs again alone); the rest of its batch and its deque go back to the injector. A
///   timed-out test finishes as timeout and its slot is down until replaced.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/util/expected.h"

namespace dxpy::exec {

/// One selected test. Its index in the vector given to the Scheduler is its id.
struct Task {
  uint32_t module = 0;                     // tests of one module (file) share a worker
  std::optional<double> expected_seconds;  // from an earlier run, if known
};

struct Options {
  uint32_t max_batch = 32;      // tests handed out at once, at most
  uint32_t batch_divisor = 3;   // a batch holds at most 1/(divisor * slots) of queued work
  /// A crashed test runs again, alone, up to this many times before it is reported as
  /// crashed. Off by default: a crash is usually the test's own doing.
  uint32_t crash_retries = 0;
  /// A slot lost without a known in-flight test blames the first unfinished test of its
  /// batch; a test blamed more than this many times is taken as the crash, so that a
  /// module that kills its worker on import cannot requeue forever.
  uint32_t blameless_losses = 2;
  /// Modules wait in the injector in the order given, not longest first: the order a
  /// conftest's pytest_collection_modifyitems gave (session/hook_order.h).
  bool keep_order = false;
};

enum class SlotState : uint8_t {
  kDown,  // no live worker: not started yet, or lost and not replaced
  kIdle,  // live, waiting for next_for()
  kBusy,  // live, running a batch with at least one test without a result
};

/// What a lost or timed-out slot gave back.
struct Loss {
  /// The test now finished as crashed or timeout: the caller reports it, once.
  std::optional<uint32_t> finished;
  /// The crashed test that will run again alone (Options::crash_retries): not reported.
  std::optional<uint32_t> retried;
  /// Tests back in the injector, not yet finished: they run on another slot.
  std::vector<uint32_t> requeued;
};

struct Stats {
  uint64_t batches = 0;       // batches handed out
  uint64_t handed_out = 0;    // tests handed out, counting re-runs
  uint64_t steals = 0;
  uint64_t stolen = 0;        // tests moved by steals
  uint64_t requeued = 0;      // tests given back by lost slots
  uint64_t retried = 0;
  uint64_t crashed = 0;
  uint64_t timed_out = 0;
  uint64_t workers_lost = 0;  // losses and timeouts
  uint64_t finished = 0;      // tests with their one result
};

class Scheduler {
 public:
  /// All slots start down: call worker_started() for each live worker.
  Scheduler(std::vector<Task> tasks, unsigned workers, Options options = {});

  /// Slot `w` has a live worker (first start or replacement). It must be down.
  void worker_started(unsigned w);

  /// The next batch for idle slot `w`, in the order to run it; the slot is busy until each
  /// test has a result. Empty when nothing is queued: the slot stays idle, and the caller
  /// asks again after a loss (which may queue work) while !done().
  std::vector<uint32_t> next_for(unsigned w);

  /// A result from slot `w`, in any order within its batch. An error (and no change) when
  /// `test` is not running on `w`: a stray or repeated message from the worker.
  Expected<void> finished(unsigned w, uint32_t test, TestStatus status);

  /// Slot `w`'s worker died. `in_flight`: the test it was running, if known (it must be an
  /// unfinished test of its batch). The slot is down until worker_started().
  Loss worker_lost(unsigned w, std::optional<uint32_t> in_flight);

  /// `test`, running on busy slot `w`, ran out of time: it finishes as timeout and the
  /// slot is down (the caller kills the worker and starts another).
  Loss timed_out(unsigned w, uint32_t test);

  /// Every test has its one result.
  bool done() const { return finished_ == infos_.size(); }
  /// Some test waits to be handed out: an idle slot would get work now.
  bool has_queued() const { return queued_ > 0; }
  /// The tests without a result, ascending: the audit, and what an interrupted run reports.
  std::vector<uint32_t> unfinished() const;
  std::optional<TestStatus> result(uint32_t test) const;

  size_t size() const { return infos_.size(); }
  unsigned workers() const { return static_cast<unsigned>(slots_.size()); }
  SlotState state(unsigned w) const;
  /// The tests of slot `w`'s batch still without a result.
  std::vector<uint32_t> running(unsigned w) const;
  /// Tests waiting in the injector; zero means the run is in its tail.
  size_t injector_size() const { return injector_tests_; }
  /// The duration the scheduler assumes for `test`.
  double expected_seconds(uint32_t test) const;
  Stats stats() const { return stats_; }

  /// Empty when the internal state is consistent (each unfinished test in exactly one
  /// place, slot states matching their batches, counters matching); else what is wrong.
  /// For tests: O(tests + slots).
  std::string check_invariants() const;

 private:
  enum class Place : uint8_t { kInjector, kLocal, kSolo, kRunning, kFinished };
  struct Info {
    uint32_t module = 0;
    double expected = 0;
    Place place = Place::kInjector;
    TestStatus status = TestStatus::kPassed;
    uint32_t owner = 0;  // the slot, for kLocal and kRunning
    uint32_t strikes = 0;
    uint32_t crashes = 0;
  };
  /// A run of tests of one module, in file order.
  struct Chunk {
    uint32_t module = 0;
    double expected = 0;
    std::vector<uint32_t> tests;
  };
  struct Slot {
    SlotState state = SlotState::kDown;
    std::vector<uint32_t> batch;  // as handed out, finished tests included
    uint32_t open = 0;            // tests of `batch` without a result
    std::deque<uint32_t> local;
    double local_expected = 0;
  };

  void check_slot(unsigned w) const;
  void insert_chunk(Chunk chunk);
  bool take_from_injector(unsigned w);
  bool steal_for(unsigned w);
  std::vector<uint32_t> batch_from_local(unsigned w);
  void finish(uint32_t test, TestStatus status);
  Loss release(unsigned w, std::optional<uint32_t> culprit, bool timeout);

  std::vector<Info> infos_;
  std::vector<Slot> slots_;
  std::deque<Chunk> injector_;  // longest expected first
  std::deque<uint32_t> solo_;   // crashed tests to retry, one per batch
  Options options_;
  size_t injector_tests_ = 0;
  size_t queued_ = 0;             // tests in the injector, local deques and solo_
  double queued_expected_ = 0;    // their expected seconds
  size_t finished_ = 0;
  Stats stats_;
};

}  // namespace dxpy::exec
