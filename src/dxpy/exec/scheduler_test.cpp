#include "dxpy/exec/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace dxpy::exec {
namespace {

using Tests = std::vector<uint32_t>;

// `counts[i]` tests in module i, in module order, with unknown durations.
std::vector<Task> modules(std::vector<uint32_t> counts) {
  std::vector<Task> out;
  for (uint32_t m = 0; m < counts.size(); ++m) {
    for (uint32_t i = 0; i < counts[m]; ++i) out.push_back(Task{m, std::nullopt});
  }
  return out;
}

Scheduler started(std::vector<Task> tasks, unsigned workers, Options options = {}) {
  Scheduler s(std::move(tasks), workers, options);
  for (unsigned w = 0; w < workers; ++w) s.worker_started(w);
  return s;
}

void pass(Scheduler& s, unsigned w, const Tests& batch) {
  for (uint32_t t : batch) ASSERT_TRUE(s.finished(w, t, TestStatus::kPassed).has_value());
}

TEST(Exec, NoTestsIsDoneAtOnce) {
  Scheduler s = started({}, 2);
  EXPECT_TRUE(s.done());
  EXPECT_TRUE(s.next_for(0).empty());
  EXPECT_EQ(s.state(0), SlotState::kIdle);
}

TEST(Exec, SlotsStartDownAndAreBusyUntilTheirBatchHasResults) {
  Scheduler s(modules({3}), 1, Options{.max_batch = 2, .batch_divisor = 1});
  EXPECT_EQ(s.state(0), SlotState::kDown);
  s.worker_started(0);
  EXPECT_EQ(s.state(0), SlotState::kIdle);
  EXPECT_EQ(s.next_for(0), (Tests{0, 1}));
  EXPECT_EQ(s.state(0), SlotState::kBusy);
  ASSERT_TRUE(s.finished(0, 1, TestStatus::kFailed).has_value());  // any order
  EXPECT_EQ(s.state(0), SlotState::kBusy);
  EXPECT_EQ(s.running(0), (Tests{0}));
  ASSERT_TRUE(s.finished(0, 0, TestStatus::kPassed).has_value());
  EXPECT_EQ(s.state(0), SlotState::kIdle);
  EXPECT_EQ(s.result(1), TestStatus::kFailed);
  EXPECT_EQ(s.unfinished(), (Tests{2}));
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Exec, TestsWaitWhileAllSlotsAreBusy) {
  Scheduler s = started(modules({5, 5}), 2, Options{.max_batch = 2, .batch_divisor = 1});
  EXPECT_EQ(s.next_for(0).size(), 2u);
  EXPECT_EQ(s.next_for(1).size(), 2u);
  EXPECT_TRUE(s.has_queued());
  EXPECT_EQ(s.unfinished().size(), 10u);
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Exec, LongestModuleFirst) {
  // Module totals: 0 -> 2 s, 1 -> 5 s, 2 -> 3 s.
  std::vector<Task> tasks = {{0, 1.0}, {0, 1.0}, {1, 5.0}, {2, 1.0}, {2, 1.0}, {2, 1.0}};
  Scheduler s = started(tasks, 1, Options{.max_batch = 32, .batch_divisor = 1});
  std::vector<uint32_t> order;
  while (!s.done()) {
    const auto batch = s.next_for(0);
    for (uint32_t t : batch) order.push_back(tasks[t].module);
    pass(s, 0, batch);
  }
  EXPECT_EQ(order, (Tests{1, 2, 2, 2, 0, 0}));
}

TEST(Exec, KeepOrderHandsModulesOutInTheOrderGiven) {
  // The same tasks as above: with keep_order (a pytest_collection_modifyitems order) the
  // modules go in the order given, whatever their durations, on one slot and on two.
  std::vector<Task> tasks = {{0, 1.0}, {0, 1.0}, {1, 5.0}, {2, 1.0}, {2, 1.0}, {2, 1.0}};
  Scheduler s = started(tasks, 1, Options{.max_batch = 32, .batch_divisor = 1, .keep_order = true});
  std::vector<uint32_t> order;
  while (!s.done()) {
    const auto batch = s.next_for(0);
    order.insert(order.end(), batch.begin(), batch.end());
    pass(s, 0, batch);
  }
  EXPECT_EQ(order, (Tests{0, 1, 2, 3, 4, 5}));
  Scheduler two = started(tasks, 2, Options{.max_batch = 32, .batch_divisor = 1, .keep_order = true});
  EXPECT_EQ(two.next_for(0), (Tests{0, 1}));
  EXPECT_EQ(two.next_for(1), (Tests{2}));
}

TEST(Exec, UnknownDurationsCountAsTheMedianKnown) {
  // Known: 3.5, 1, 2, 2, 0.5 (median 2). Module 1 has two unknown tests: 4 s, more than
  // module 0's 3.5 s and less than module 2's 5.5 s.
  std::vector<Task> tasks = {{0, 3.5},          {1, std::nullopt}, {1, std::nullopt}, {2, 1.0},
                             {2, 2.0},          {2, 2.0},          {2, 0.5}};
  Scheduler s = started(tasks, 1, Options{.batch_divisor = 1});
  EXPECT_EQ(s.expected_seconds(1), 2.0);
  EXPECT_EQ(s.next_for(0), (Tests{3, 4, 5, 6}));
  pass(s, 0, {3, 4, 5, 6});
  EXPECT_EQ(s.next_for(0), (Tests{1, 2}));
  pass(s, 0, {1, 2});
  EXPECT_EQ(s.next_for(0), (Tests{0}));
}

TEST(Exec, WithoutDurationsTheBiggerModuleGoesFirst) {
  Scheduler s = started(modules({2, 4, 3}), 1, Options{.batch_divisor = 1});
  EXPECT_EQ(s.expected_seconds(0), 1.0);
  EXPECT_EQ(s.next_for(0), (Tests{2, 3, 4, 5}));
}

TEST(Exec, BatchIsOneModuleUpToTheCap) {
  Scheduler s = started(modules({40, 3}), 1, Options{.max_batch = 32, .batch_divisor = 1});
  EXPECT_EQ(s.next_for(0).size(), 32u);
  pass(s, 0, s.running(0));
  EXPECT_EQ(s.next_for(0).size(), 8u);  // the rest of module 0, not module 1 with it
  pass(s, 0, s.running(0));
  EXPECT_EQ(s.next_for(0), (Tests{40, 41, 42}));
}

TEST(Exec, BatchesShrinkTowardTheTail) {
  // 12 equal tests, 2 slots, divisor 3: a batch holds at most 1/6 of what is queued.
  Scheduler s = started(modules({12}), 2);
  std::vector<size_t> sizes;
  while (!s.done()) {
    const auto batch = s.next_for(0);
    sizes.push_back(batch.size());
    pass(s, 0, batch);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(Exec, ModuleStaysOnOneSlotUntilTheTail) {
  Scheduler s = started(modules({6, 6, 6, 6, 6, 6}), 3, Options{.max_batch = 2, .batch_divisor = 1});
  std::map<uint32_t, std::set<unsigned>> slots_of;  // module -> slots, before the tail
  while (s.injector_size() > 0) {
    for (unsigned w = 0; w < 3; ++w) {
      const auto batch = s.next_for(w);
      for (uint32_t t : batch) slots_of[t / 6].insert(w);
      pass(s, w, batch);
    }
  }
  EXPECT_EQ(s.stats().steals, 0u);
  for (const auto& [module, slots] : slots_of) EXPECT_EQ(slots.size(), 1u) << "module " << module;
}

TEST(Exec, TailStealTakesHalfFromTheBackOfTheFullestDeque) {
  Scheduler s = started(modules({8}), 2, Options{.max_batch = 1});
  EXPECT_EQ(s.next_for(0), (Tests{0}));  // slot 0 holds 1..7 in its deque
  EXPECT_EQ(s.injector_size(), 0u);
  EXPECT_EQ(s.next_for(1), (Tests{4}));  // stole 4..7, runs them in file order
  EXPECT_EQ(s.stats().steals, 1u);
  EXPECT_EQ(s.stats().stolen, 4u);
  pass(s, 0, {0});
  EXPECT_EQ(s.next_for(0), (Tests{1}));
  pass(s, 1, {4});
  EXPECT_EQ(s.next_for(1), (Tests{5}));
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Exec, LostWorkerCrashesItsInFlightTestAndRequeuesTheRest) {
  Scheduler s = started(modules({6, 2}), 2, Options{.max_batch = 3, .batch_divisor = 1});
  EXPECT_EQ(s.next_for(0), (Tests{0, 1, 2}));  // 3..5 wait in slot 0's deque
  pass(s, 0, {0});
  const Loss loss = s.worker_lost(0, 1u);
  EXPECT_EQ(loss.finished, std::optional<uint32_t>(1));
  EXPECT_FALSE(loss.retried);
  EXPECT_EQ(loss.requeued, (Tests{2, 3, 4, 5}));
  EXPECT_EQ(s.result(1), TestStatus::kCrashed);
  EXPECT_EQ(s.state(0), SlotState::kDown);
  EXPECT_EQ(s.next_for(1), (Tests{2, 3, 4}));  // 4 expected beats module 1's 2
  EXPECT_EQ(s.stats().crashed, 1u);
  EXPECT_EQ(s.stats().requeued, 4u);
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Exec, IdleSlotLossRequeuesItsDeque) {
  Scheduler s = started(modules({4}), 2, Options{.max_batch = 1});
  EXPECT_EQ(s.next_for(0), (Tests{0}));
  pass(s, 0, {0});
  const Loss loss = s.worker_lost(0, std::nullopt);
  EXPECT_FALSE(loss.finished);
  EXPECT_EQ(loss.requeued, (Tests{1, 2, 3}));
  EXPECT_EQ(s.injector_size(), 3u);
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Exec, LossWithoutInFlightTestBlamesTheFirstAfterTheLimit) {
  Scheduler s = started(modules({3}), 1, Options{.batch_divisor = 1, .blameless_losses = 1});
  EXPECT_EQ(s.next_for(0), (Tests{0, 1, 2}));
  EXPECT_FALSE(s.worker_lost(0, std::nullopt).finished);  // first strike on test 0
  s.worker_started(0);
  EXPECT_EQ(s.next_for(0), (Tests{0, 1, 2}));
  const Loss loss = s.worker_lost(0, std::nullopt);
  EXPECT_EQ(loss.finished, std::optional<uint32_t>(0));
  EXPECT_EQ(loss.requeued, (Tests{1, 2}));
  EXPECT_EQ(s.result(0), TestStatus::kCrashed);
}

TEST(Exec, TimeoutFinishesTheTestAndTakesTheSlotDown) {
  Scheduler s = started(modules({3}), 1, Options{.batch_divisor = 1});
  EXPECT_EQ(s.next_for(0), (Tests{0, 1, 2}));
  const Loss loss = s.timed_out(0, 0);
  EXPECT_EQ(loss.finished, std::optional<uint32_t>(0));
  EXPECT_EQ(loss.requeued, (Tests{1, 2}));
  EXPECT_EQ(s.result(0), TestStatus::kTimeout);
  EXPECT_EQ(s.state(0), SlotState::kDown);
  EXPECT_EQ(s.stats().timed_out, 1u);
  s.worker_started(0);
  EXPECT_EQ(s.next_for(0), (Tests{1, 2}));
}

TEST(Exec, CrashRetryRunsTheTestAloneThenReportsIt) {
  Scheduler s = started(modules({4}), 2, Options{.batch_divisor = 1, .crash_retries = 1});
  EXPECT_EQ(s.next_for(0), (Tests{0, 1}));
  const Loss first = s.worker_lost(0, 1u);
  EXPECT_EQ(first.retried, std::optional<uint32_t>(1));
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.requeued, (Tests{0, 2, 3}));
  EXPECT_FALSE(s.result(1));
  EXPECT_EQ(s.next_for(1), (Tests{1}));  // alone, before anything else
  const Loss second = s.worker_lost(1, 1u);
  EXPECT_EQ(second.finished, std::optional<uint32_t>(1));
  EXPECT_EQ(s.result(1), TestStatus::kCrashed);
  EXPECT_EQ(s.stats().retried, 1u);
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Exec, StrayOrRepeatedResultIsAnErrorAndChangesNothing) {
  Scheduler s = started(modules({2, 2}), 2, Options{.batch_divisor = 1});
  EXPECT_EQ(s.next_for(0), (Tests{0, 1}));
  ASSERT_TRUE(s.finished(0, 0, TestStatus::kPassed).has_value());
  const auto repeated = s.finished(0, 0, TestStatus::kPassed);
  ASSERT_FALSE(repeated.has_value());
  EXPECT_EQ(repeated.error().code, Errc::kCorrupt);
  EXPECT_FALSE(s.finished(1, 1, TestStatus::kPassed).has_value());  // runs on slot 0
  EXPECT_FALSE(s.finished(0, 2, TestStatus::kPassed).has_value());  // queued
  EXPECT_FALSE(s.finished(0, 99, TestStatus::kPassed).has_value());
  EXPECT_EQ(s.stats().finished, 1u);
  EXPECT_EQ(s.check_invariants(), "");
}

TEST(Exec, MisuseIsABug) {
  Scheduler s(modules({2}), 1);
  EXPECT_DEATH(s.next_for(0), "check failed");  // down
  s.worker_started(0);
  EXPECT_DEATH(s.worker_started(0), "check failed");
  EXPECT_DEATH(s.next_for(1), "check failed");  // no such slot
  (void)s.next_for(0);
  EXPECT_DEATH(s.next_for(0), "check failed");  // busy
}

}  // namespace
}  // namespace dxpy::exec
