#include "dxpy/pool/worker_process.h"

#include <gtest/gtest.h>

namespace dxpy::pool {
namespace {

// /bin/sh stands in for a worker: it echoes frames from fd 3 to fd 4.
TEST(WorkerProcess, FramesRoundTripThroughAChild) {
  auto w = WorkerProcess::spawn({"/bin/sh", {"-c", "cat <&3 >&4"}, {}, ""});
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->send("hello"));
  ASSERT_TRUE((*w)->send(std::string(100000, 'x')));
  auto a = (*w)->receive();
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "hello");
  auto b = (*w)->receive();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 100000u);
}

TEST(WorkerProcess, DeathIsAnErrorAndItsCauseIsReported) {
  auto w = WorkerProcess::spawn({"/bin/sh", {"-c", "kill -SEGV $$"}, {}, ""});
  ASSERT_TRUE(w);
  EXPECT_FALSE((*w)->receive());
  EXPECT_EQ((*w)->reap(false), "signal 11 (SIGSEGV)");
}

TEST(WorkerProcess, ExitCodeIsReported) {
  auto w = WorkerProcess::spawn({"/bin/sh", {"-c", "exit 3"}, {}, ""});
  ASSERT_TRUE(w);
  EXPECT_FALSE((*w)->receive());
  EXPECT_EQ((*w)->reap(false), "exit code 3");
}

TEST(WorkerProcess, MissingInterpreterIsAnError) {
  auto w = WorkerProcess::spawn({"/nonexistent/python", {}, {}, ""});
  EXPECT_FALSE(w);
}

}  // namespace
}  // namespace dxpy::pool
