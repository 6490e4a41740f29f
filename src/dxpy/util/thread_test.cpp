#include "dxpy/util/thread.h"

#include <pthread.h>
#include <sched.h>

#include <gtest/gtest.h>

#include <atomic>

namespace dxpy {
namespace {

template <class Thread>
cpu_set_t affinity_of(Thread& t) {
  cpu_set_t s;
  CPU_ZERO(&s);
  EXPECT_EQ(::pthread_getaffinity_np(t.native_handle(), sizeof s, &s), 0);
  return s;
}

// A helper of type Thread, started then moved: it runs on the one allowed core it is pinned to.
template <class Thread>
void expect_pinned_to_one_other_core() {
  cpu_set_t allowed;
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "a single usable core";
  std::atomic<bool> go{false};
  std::atomic<int> ran_on{-1};
  Thread t([&] {
    while (!go) {
    }
    ran_on = ::sched_getcpu();
  });
  start_elsewhere(t, 0);
  cpu_set_t pinned = affinity_of(t);
  go = true;
  t.join();
  ASSERT_EQ(CPU_COUNT(&pinned), 1);
  EXPECT_TRUE(CPU_ISSET(ran_on.load(), &pinned));
  EXPECT_TRUE(CPU_ISSET(ran_on.load(), &allowed));
}

TEST(StartElsewhere, PinsTheHelperToOneOtherAllowedCore) { expect_pinned_to_one_other_core<std::thread>(); }

// The index writer is a jthread: pinned the same way.
TEST(StartElsewhere, PinsAJthreadToo) { expect_pinned_to_one_other_core<std::jthread>(); }

TEST(StartElsewhere, LeavesTheHelperAloneWithOneCore) {
  cpu_set_t allowed, one;
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  CPU_ZERO(&one);
  CPU_SET(::sched_getcpu(), &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);  // this thread; restored below
  std::thread t([] {});
  start_elsewhere(t, 0);
  cpu_set_t after = affinity_of(t);
  t.join();
  ::sched_setaffinity(0, sizeof allowed, &allowed);
  EXPECT_TRUE(CPU_EQUAL(&after, &one));
}

}  // namespace
}  // namespace dxpy
