// Properties of the scheduler, driven the way the orchestrator drives it:
// - a random walk over every event a correct caller can send (slot started, slot idle,
//   result in any order within a batch, stray result, loss with or without a known
//   in-flight test, timeout), checking Property 3 (slot states), 11 (distribution) and
//   12 (result aggregation);
// - a discrete-event simulation with a fake clock, for Property 13 (deaths mid-batch),
//   module affinity, and the makespan bound of the policy in scheduler.h.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>
#include <set>
#include <utility>

#include "dxpy/exec/scheduler.h"

namespace dxpy::exec {
namespace {

namespace gen = rc::gen;

struct Suite {
  std::vector<Task> tasks;
  unsigned workers = 1;
  Options options;
  uint32_t modules = 1;
};

// Tests of a module scattered through the list (the harder case for grouping), 70% with
// known durations spread over three orders of magnitude.
Suite gen_suite(uint32_t max_tests, std::mt19937& rng, bool all_known = false) {
  Suite s;
  const auto n = *gen::inRange<uint32_t>(0, max_tests + 1);
  s.modules = *gen::inRange<uint32_t>(1, 13);
  s.workers = *gen::inRange<unsigned>(1, 8);
  s.options.max_batch = *gen::elementOf(std::vector<uint32_t>{1, 2, 3, 8, 32});
  s.options.batch_divisor = *gen::inRange<uint32_t>(1, 5);
  s.options.crash_retries = *gen::inRange<uint32_t>(0, 3);
  s.options.blameless_losses = *gen::inRange<uint32_t>(0, 3);
  std::uniform_real_distribution<double> log10s(-3, 1);
  for (uint32_t i = 0; i < n; ++i) {
    Task t;
    t.module = static_cast<uint32_t>(rng() % s.modules);
    if (all_known || rng() % 10 < 7) t.expected_seconds = std::pow(10.0, log10s(rng));
    s.tasks.push_back(t);
  }
  return s;
}

template <class T>
T pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

// ---- the random walk ------------------------------------------------------------------------

// A correct caller, with its own record of what it was told.
class Walk {
 public:
  Walk(const Suite& suite, bool check_each_step)
      : handouts(suite.tasks.size()),
        comebacks(suite.tasks.size()),
        retried(suite.tasks.size()),
        reported(suite.tasks.size()),
        status(suite.tasks.size()),
        s_(suite.tasks, suite.workers, suite.options),
        n_(suite.tasks.size()),
        max_batch_(suite.options.max_batch),
        check_each_step_(check_each_step),
        running_(suite.workers),
        state_(suite.workers, SlotState::kDown) {}

  // Random events until every test has its result; at most `faults` losses and timeouts.
  void run(uint32_t faults, std::mt19937& rng) {
    const unsigned m = s_.workers();
    const std::vector<TestStatus> normal = {TestStatus::kPassed, TestStatus::kFailed, TestStatus::kError,
                                            TestStatus::kSkipped, TestStatus::kXFailed, TestStatus::kXPassed};
    for (size_t step = 0; !s_.done(); ++step) {
      RC_ASSERT(step < 200000u);  // no progress: a test is stuck
      const unsigned w = static_cast<unsigned>(rng() % m);
      const unsigned r = static_cast<unsigned>(rng() % 24);
      switch (state_[w]) {
        case SlotState::kDown:
          if (faults == 0 || r % 2 == 0) start(w);
          break;
        case SlotState::kIdle:
          if (faults > 0 && r == 0) {
            --faults;
            lose(w, std::nullopt);
          } else {
            offer(w);
          }
          break;
        case SlotState::kBusy: {
          const uint32_t t = pick(rng, running_[w]);
          if (faults > 0 && r == 0) {
            --faults;
            lose(w, t);
          } else if (faults > 0 && r == 1) {
            --faults;
            lose(w, std::nullopt);
          } else if (faults > 0 && r == 2) {
            --faults;
            time_out(w, t);
          } else if (r == 3) {
            stray(w, static_cast<uint32_t>(rng() % (n_ + 2)));
          } else {
            result(w, t, pick(rng, normal));
          }
          break;
        }
      }
      if (check_each_step_) check();
    }
    check();
  }

  // Property 3: each slot is down, idle, or busy with a known batch, as the caller saw it.
  void check() const {
    const std::string broken = s_.check_invariants();
    RC_ASSERT(broken == "");
    for (unsigned w = 0; w < s_.workers(); ++w) {
      RC_ASSERT(s_.state(w) == state_[w]);
      auto have = s_.running(w);
      auto want = running_[w];
      std::sort(have.begin(), have.end());
      std::sort(want.begin(), want.end());
      RC_ASSERT(have == want);
      RC_ASSERT((state_[w] == SlotState::kBusy) == !want.empty());
    }
  }

  const Scheduler& scheduler() const { return s_; }

  std::vector<uint32_t> handouts;   // times each test was handed out
  std::vector<uint32_t> comebacks;  // times it was in a lost batch and given back
  std::vector<uint32_t> retried;    // times it crashed and was queued to run alone
  std::vector<uint32_t> reported;   // results the caller reported
  std::vector<TestStatus> status;   // the last one

 private:
  void start(unsigned w) {
    s_.worker_started(w);
    state_[w] = SlotState::kIdle;
  }

  void offer(unsigned w) {
    const auto batch = s_.next_for(w);
    if (batch.empty()) {
      RC_ASSERT(!s_.has_queued());  // work is never withheld from a live idle slot
      return;
    }
    RC_ASSERT(batch.size() <= max_batch_);
    for (uint32_t t : batch) {
      RC_ASSERT(t < n_);
      RC_ASSERT(reported[t] == 0u);
      for (const auto& other : running_) RC_ASSERT(std::count(other.begin(), other.end(), t) == 0);
      ++handouts[t];
    }
    running_[w] = batch;
    state_[w] = SlotState::kBusy;
  }

  void report(uint32_t t, TestStatus st) {
    ++reported[t];
    status[t] = st;
  }

  void drop_running(unsigned w, uint32_t t) {
    auto& r = running_[w];
    r.erase(std::find(r.begin(), r.end(), t));
    if (r.empty()) state_[w] = SlotState::kIdle;
  }

  void result(unsigned w, uint32_t t, TestStatus st) {
    RC_ASSERT(s_.finished(w, t, st).has_value());
    report(t, st);
    drop_running(w, t);
  }

  // A result for a test the slot is not running: refused, nothing changes.
  void stray(unsigned w, uint32_t t) {
    if (std::count(running_[w].begin(), running_[w].end(), t) != 0) return;
    const auto before = s_.stats();
    RC_ASSERT(!s_.finished(w, t, TestStatus::kPassed).has_value());
    RC_ASSERT(s_.stats().finished == before.finished);
  }

  void give_back(unsigned w, const Loss& loss, std::optional<uint32_t> culprit) {
    for (uint32_t t : running_[w]) {
      if (t == culprit) continue;
      RC_ASSERT(std::count(loss.requeued.begin(), loss.requeued.end(), t) == 1);
      ++comebacks[t];
    }
    for (uint32_t t : loss.requeued) {
      RC_ASSERT(t < n_);
      RC_ASSERT(reported[t] == 0u);
      RC_ASSERT(t != culprit);
    }
    running_[w].clear();
    state_[w] = SlotState::kDown;
  }

  void lose(unsigned w, std::optional<uint32_t> in_flight) {
    const std::vector<uint32_t> open = running_[w];
    const Loss loss = s_.worker_lost(w, in_flight);
    RC_ASSERT(!(loss.finished && loss.retried));
    std::optional<uint32_t> culprit = loss.finished ? loss.finished : loss.retried;
    if (in_flight) {
      RC_ASSERT(culprit == in_flight);  // Property 13: the in-flight test is the crash
    } else if (culprit) {
      RC_ASSERT(*culprit == open.front());  // blamed: the first without a result
    }
    if (loss.finished) {
      RC_ASSERT(s_.result(*loss.finished) == TestStatus::kCrashed);
      report(*loss.finished, TestStatus::kCrashed);
    }
    if (loss.retried) {
      RC_ASSERT(!s_.result(*loss.retried).has_value());
      ++retried[*loss.retried];
    }
    give_back(w, loss, culprit);
  }

  void time_out(unsigned w, uint32_t t) {
    const Loss loss = s_.timed_out(w, t);
    RC_ASSERT(loss.finished == std::optional<uint32_t>(t));
    RC_ASSERT(!loss.retried);
    RC_ASSERT(s_.result(t) == TestStatus::kTimeout);
    report(t, TestStatus::kTimeout);
    give_back(w, loss, t);
  }

  Scheduler s_;
  size_t n_;
  size_t max_batch_;
  bool check_each_step_;
  std::vector<std::vector<uint32_t>> running_;  // per slot: handed out, no result yet
  std::vector<SlotState> state_;
};

RC_GTEST_PROP(ExecProp, P3_SlotIsDownIdleOrBusyWithAKnownBatch, ()) {
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  const Suite suite = gen_suite(60, rng);
  Walk walk(suite, /*check_each_step=*/true);
  walk.run(*gen::inRange<uint32_t>(0, 12), rng);
}

RC_GTEST_PROP(ExecProp, P11_EachTestHandedOutOnceUnlessItsWorkerWasLost, ()) {
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  const Suite suite = gen_suite(300, rng);
  const auto faults = *gen::inRange<uint32_t>(0, 20);
  Walk walk(suite, false);
  walk.run(faults, rng);
  for (size_t t = 0; t < suite.tasks.size(); ++t) {
    RC_ASSERT(walk.handouts[t] == 1 + walk.comebacks[t] + walk.retried[t]);
    if (faults == 0) RC_ASSERT(walk.handouts[t] == 1u);
  }
  const Stats st = walk.scheduler().stats();
  uint64_t total = 0;
  for (uint32_t h : walk.handouts) total += h;
  RC_ASSERT(st.handed_out == total);
}

RC_GTEST_PROP(ExecProp, P12_EveryTestEndsWithExactlyOneResult, ()) {
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  const Suite suite = gen_suite(300, rng);
  Walk walk(suite, false);
  walk.run(*gen::inRange<uint32_t>(0, 40), rng);
  const Scheduler& s = walk.scheduler();
  RC_ASSERT(s.done());
  RC_ASSERT(s.unfinished().empty());
  RC_ASSERT(s.stats().finished == suite.tasks.size());
  for (uint32_t t = 0; t < suite.tasks.size(); ++t) {
    RC_ASSERT(walk.reported[t] == 1u);
    RC_ASSERT(s.result(t) == walk.status[t]);
  }
}

// ---- the simulation -------------------------------------------------------------------------

struct Death {
  double at = 0;
  unsigned slot = 0;
};

struct SimLog {
  double makespan = 0;
  double max_batch = 0;                     // longest batch, in real seconds
  std::vector<uint32_t> reported;           // results per test
  std::vector<uint32_t> in_flight_deaths;   // deaths while the test ran
  std::set<std::pair<uint32_t, unsigned>> module_slots;  // who ran what
  bool stole_outside_tail = false;
};

// Slots run their batch back to back with real durations `real` on a fake clock; a death
// kills a slot (its in-flight test is the one it was running) and a new worker starts
// `restart` later. Idle slots are offered work after every event, as the event loop does.
SimLog simulate(Scheduler& s, const std::vector<Task>& tasks, const std::vector<double>& real,
                std::vector<Death> deaths = {}, double restart = 0.5) {
  enum Kind { kFinish, kDeath, kRestart };
  struct Event {
    double at;
    uint64_t seq;
    Kind kind;
    unsigned slot;
    uint64_t generation;
    uint32_t test;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  uint64_t seq = 0;
  const unsigned m = s.workers();
  std::vector<uint64_t> generation(m, 0);
  std::vector<std::deque<uint32_t>> pending(m);  // the batch still to run, in order
  SimLog log;
  log.reported.assign(tasks.size(), 0);
  log.in_flight_deaths.assign(tasks.size(), 0);
  double now = 0;

  auto offer_all = [&] {
    for (unsigned w = 0; w < m; ++w) {
      if (s.state(w) != SlotState::kIdle) continue;
      const bool tail = s.injector_size() == 0;
      const uint64_t steals = s.stats().steals;
      const auto batch = s.next_for(w);
      if (s.stats().steals != steals && !tail) log.stole_outside_tail = true;
      double t = now;
      for (uint32_t test : batch) {
        t += real[test];
        events.push({t, seq++, kFinish, w, generation[w], test});
        pending[w].push_back(test);
        log.module_slots.insert({tasks[test].module, w});
      }
      log.max_batch = std::max(log.max_batch, t - now);
    }
  };

  for (unsigned w = 0; w < m; ++w) s.worker_started(w);
  for (const Death& d : deaths) events.push({d.at, seq++, kDeath, d.slot, 0, 0});
  offer_all();
  while (!s.done()) {
    RC_ASSERT(!events.empty());
    const Event e = events.top();
    events.pop();
    now = e.at;
    switch (e.kind) {
      case kFinish:
        if (e.generation != generation[e.slot]) break;  // its worker died first
        RC_ASSERT(pending[e.slot].front() == e.test);
        pending[e.slot].pop_front();
        RC_ASSERT(s.finished(e.slot, e.test, TestStatus::kPassed).has_value());
        ++log.reported[e.test];
        log.makespan = now;
        break;
      case kDeath: {
        if (s.state(e.slot) == SlotState::kDown) break;
        std::optional<uint32_t> in_flight;
        if (!pending[e.slot].empty()) in_flight = pending[e.slot].front();
        if (in_flight) ++log.in_flight_deaths[*in_flight];
        ++generation[e.slot];
        pending[e.slot].clear();
        const Loss loss = s.worker_lost(e.slot, in_flight);
        if (loss.finished) {
          ++log.reported[*loss.finished];
          log.makespan = now;
        }
        events.push({now + restart, seq++, kRestart, e.slot, 0, 0});
        break;
      }
      case kRestart:
        s.worker_started(e.slot);
        break;
    }
    offer_all();
  }
  return log;
}

RC_GTEST_PROP(ExecProp, P13_DeathsMidBatchLoseNothingAndCrashTheInFlightTestOnce, ()) {
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  Suite suite = gen_suite(300, rng);
  std::vector<double> real;
  for (size_t t = 0; t < suite.tasks.size(); ++t) real.push_back(std::uniform_real_distribution<double>(0.001, 1.0)(rng));
  std::vector<Death> deaths;
  const auto count = *gen::inRange<uint32_t>(0, 30);
  for (uint32_t i = 0; i < count; ++i) {
    deaths.push_back({std::uniform_real_distribution<double>(0, 20)(rng), static_cast<unsigned>(rng() % suite.workers)});
  }
  Scheduler s(suite.tasks, suite.workers, suite.options);
  const SimLog log = simulate(s, suite.tasks, real, deaths);
  RC_ASSERT(s.check_invariants() == "");
  RC_ASSERT(s.unfinished().empty());
  uint64_t crashed = 0;
  for (uint32_t t = 0; t < suite.tasks.size(); ++t) {
    RC_ASSERT(log.reported[t] == 1u);
    // Crashed exactly when it was in flight once more than the retries allow.
    const bool crash = log.in_flight_deaths[t] > suite.options.crash_retries;
    RC_ASSERT(log.in_flight_deaths[t] <= suite.options.crash_retries + 1);
    RC_ASSERT(s.result(t) == (crash ? TestStatus::kCrashed : TestStatus::kPassed));
    crashed += crash;
  }
  RC_ASSERT(s.stats().crashed == crashed);
}

// With real durations as expected, the policy's bound (scheduler.h) is
// makespan <= total/m + max(longest test, total/(divisor*m)) <= 4/3 LB + longest test,
// where LB = max(total/m, longest test) <= OPT. So within 4/3 OPT + the longest test.
RC_GTEST_PROP(ExecProp, MakespanWithinLptBoundOfOptimum, ()) {
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  Suite suite = gen_suite(400, rng, /*all_known=*/true);
  suite.options.batch_divisor = 3;
  std::vector<double> real;
  double total = 0, longest = 0;
  for (const Task& t : suite.tasks) {
    real.push_back(*t.expected_seconds);
    total += real.back();
    longest = std::max(longest, real.back());
  }
  Scheduler s(suite.tasks, suite.workers, suite.options);
  const SimLog log = simulate(s, suite.tasks, real);
  const double m = suite.workers;
  const double lb = std::max(total / m, longest);
  const double eps = 1e-9 * (1 + total);
  RC_ASSERT(log.max_batch <= std::max(longest, total / (3 * m)) + eps);
  RC_ASSERT(log.makespan <= 4.0 / 3.0 * lb + longest + eps);
}

// Whatever the real durations (noisy, or unknown beforehand), no slot idles while a test
// waits, so makespan <= total/m + the longest batch (Graham's list-scheduling argument).
RC_GTEST_PROP(ExecProp, NoSlotIdlesWhileWorkWaits, ()) {
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  const Suite suite = gen_suite(400, rng);
  std::uniform_real_distribution<double> factor(0.25, 4);
  std::vector<double> real;
  double total = 0;
  for (const Task& t : suite.tasks) {
    real.push_back(t.expected_seconds ? *t.expected_seconds * factor(rng) : 0.01 * factor(rng));
    total += real.back();
  }
  Scheduler s(suite.tasks, suite.workers, suite.options);
  const SimLog log = simulate(s, suite.tasks, real);
  RC_ASSERT(log.makespan <= total / suite.workers + log.max_batch + 1e-9 * (1 + total));
}

// Module affinity: without losses a module moves to another slot only by a steal, and
// steals happen only once the injector is empty.
RC_GTEST_PROP(ExecProp, ModulesSplitOnlyByTailSteals, ()) {
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  const Suite suite = gen_suite(400, rng);
  std::vector<double> real;
  for (size_t t = 0; t < suite.tasks.size(); ++t) real.push_back(std::uniform_real_distribution<double>(0.001, 1.0)(rng));
  Scheduler s(suite.tasks, suite.workers, suite.options);
  const SimLog log = simulate(s, suite.tasks, real);
  RC_ASSERT(!log.stole_outside_tail);
  std::set<uint32_t> modules;
  for (const Task& t : suite.tasks) modules.insert(t.module);
  RC_ASSERT(log.module_slots.size() <= modules.size() + s.stats().steals);
}

}  // namespace
}  // namespace dxpy::exec
