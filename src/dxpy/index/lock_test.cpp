#include "dxpy/index/lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "dxpy/index/test_support.h"

namespace dxpy::index {
namespace {

using Mode = FileLock::Mode;

class Lock : public testing::TempDirTest {
 protected:
  std::string lock_path() const { return lock_path_for(path("index.dxti")); }

  // Whether a try_acquire in `mode` would get the lock now.
  bool available(Mode mode) const {
    auto r = FileLock::try_acquire(lock_path(), mode);
    EXPECT_TRUE(r) << r.error().message;
    return r && r->has_value();
  }

  // The same question asked from a forked child, i.e. from another process.
  static bool available_in_child(const std::string& lock_path, Mode mode) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto r = FileLock::try_acquire(lock_path, mode);
      ::_exit(!r ? 2 : r->has_value() ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 2);
    return WEXITSTATUS(status) == 0;
  }
};

TEST_F(Lock, PathSitsBesideTheIndex) { EXPECT_EQ(lock_path_for("/r/.dx/index.dxti"), "/r/.dx/index.dxti.lock"); }

TEST_F(Lock, ExclusiveExcludesAllOthers) {
  auto held = FileLock::acquire(lock_path(), Mode::kExclusive);
  ASSERT_TRUE(held) << held.error().message;
  EXPECT_TRUE(held->held());
  EXPECT_FALSE(available(Mode::kExclusive));
  EXPECT_FALSE(available(Mode::kShared));
  held->unlock();
  EXPECT_FALSE(held->held());
  EXPECT_TRUE(available(Mode::kExclusive));
}

TEST_F(Lock, SharedLocksCoexistButExcludeAWriter) {
  auto a = FileLock::acquire(lock_path(), Mode::kShared);
  auto b = FileLock::acquire(lock_path(), Mode::kShared);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_TRUE(available(Mode::kShared));
  EXPECT_FALSE(available(Mode::kExclusive));
  { FileLock gone = std::move(*a); }  // moved out, then released at scope end
  EXPECT_FALSE(available(Mode::kExclusive));
  b->unlock();
  EXPECT_TRUE(available(Mode::kExclusive));
}

TEST_F(Lock, ExcludesAnotherProcess) {
  {
    auto held = FileLock::acquire(lock_path(), Mode::kExclusive);
    ASSERT_TRUE(held);
    EXPECT_FALSE(available_in_child(lock_path(), Mode::kShared));
    EXPECT_FALSE(available_in_child(lock_path(), Mode::kExclusive));
  }
  auto shared = FileLock::acquire(lock_path(), Mode::kShared);
  ASSERT_TRUE(shared);
  EXPECT_TRUE(available_in_child(lock_path(), Mode::kShared));
  EXPECT_FALSE(available_in_child(lock_path(), Mode::kExclusive));
}

// A waiting acquire returns once the holder exits, which releases its lock.
TEST_F(Lock, AcquireWaitsForTheHolder) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto held = FileLock::acquire(lock_path(), Mode::kExclusive);
    char c = held ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::usleep(200 * 1000);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto start = std::chrono::steady_clock::now();
  auto mine = FileLock::acquire(lock_path(), Mode::kExclusive);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(mine);
  EXPECT_GE(waited, std::chrono::milliseconds(50));  // only a lower bound: never flaky on a busy machine
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(Lock, MissingFolderIsAnError) {
  auto r = FileLock::acquire(path("missing/index.dxti.lock"), Mode::kShared);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kIo);
}

}  // namespace
}  // namespace dxpy::index
