#include "dxpy/pool/worker.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace dxpy::pool {
namespace {

SpawnOptions shell(const std::string& script) { return {"/bin/sh", {"-c", script}, {}, "", 7, {}}; }

TEST(Worker, ChildSeesTheChannelDescriptorsAndItsEnvironment) {
  auto w = Worker::spawn(shell(
      "test -e /proc/self/fd/3 && test -e /proc/self/fd/4 && test -e /proc/self/fd/5 && "
      "test \"$DXPY_CHANNEL_FDS\" = 3,4,5 && test \"$DXPY_WORKER_ID\" = 7 && exit 0; exit 9"));
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->wait_exit(10'000));
  EXPECT_EQ((*w)->reap(false), "exit code 0");
}

TEST(Worker, PassedDescriptorsArriveFromSix) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  SpawnOptions o = shell("echo through-six >&6 && exit 0; exit 9");
  o.pass_fds = {p[1]};
  auto w = Worker::spawn(o);
  ::close(p[1]);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->wait_exit(10'000));
  EXPECT_EQ((*w)->reap(false), "exit code 0");
  char buf[64] = {};
  ssize_t n = ::read(p[0], buf, sizeof buf - 1);
  ::close(p[0]);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "through-six\n");
}

TEST(Worker, OutputTailsSurviveACrash) {
  auto w = Worker::spawn(shell("echo out-line; echo err-line >&2; kill -SEGV $$"));
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->wait_exit(10'000));
  EXPECT_EQ((*w)->reap(false), "signal 11 (SIGSEGV)");
  EXPECT_EQ((*w)->stdout_tail(100), "out-line\n");
  EXPECT_EQ((*w)->stderr_tail(4), "ine\n");
}

TEST(Worker, ChannelReportsThePeerGoneWhenTheProcessDies) {
  auto w = Worker::spawn(shell("exit 3"));
  ASSERT_TRUE(w) << w.error().message;
  auto got = (*w)->channel().receive(10'000);
  EXPECT_FALSE(got);
  EXPECT_EQ((*w)->reap(false), "exit code 3");
}

TEST(Worker, ReapKillsTheWholeProcessGroup) {
  auto w = Worker::spawn(shell("sleep 300 & echo $! ; wait"));
  ASSERT_TRUE(w) << w.error().message;
  pid_t child = 0;
  for (int i = 0; i < 500 && child == 0; ++i) {
    std::string out = (*w)->stdout_tail(64);
    if (!out.empty() && out.back() == '\n') child = std::stoi(out);
    else std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(child, 0);
  EXPECT_EQ(::getpgid(child), (*w)->pid());
  EXPECT_EQ((*w)->reap(true), "signal 9 (SIGKILL)");
  // The grandchild was killed too (and reparented and reaped by init meanwhile).
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(child, 0) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

TEST(Worker, AMissingInterpreterEndsWithExitCode127) {
  auto w = Worker::spawn({"/nonexistent/python", {}, {}, "", 0, {}});
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->wait_exit(10'000));
  EXPECT_EQ((*w)->reap(false), "exit code 127");
  EXPECT_NE((*w)->stderr_tail(200).find("cannot execute"), std::string::npos);
}

TEST(Worker, DescribesWaitStatuses) {
  EXPECT_EQ(describe_wait_status(3 << 8), "exit code 3");
  EXPECT_EQ(describe_wait_status(SIGKILL), "signal 9 (SIGKILL)");
}

}  // namespace
}  // namespace dxpy::pool
