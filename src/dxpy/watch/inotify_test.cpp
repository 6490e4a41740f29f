#include "dxpy/watch/inotify.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace dxpy::watch {
namespace {

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dxpy_watch_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + root_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  void write(const std::string& rel, const std::string& text = "x = 1\n") {
    std::ofstream(root_ + "/" + rel) << text;
  }
  void mkdir(const std::string& rel) { ASSERT_EQ(::mkdir((root_ + "/" + rel).c_str(), 0755), 0); }

  /// The events until `want` is among them (or 5 s pass): then what came.
  std::vector<std::string> until(Watcher& w, const std::string& want) {
    std::vector<std::string> all;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{w.fd(), POLLIN, 0};
      ::poll(&p, 1, 50);
      for (auto& e : w.read_events()) all.push_back(std::move(e));
      if (std::find(all.begin(), all.end(), root_ + "/" + want) != all.end()) break;
    }
    return all;
  }
  bool has(const std::vector<std::string>& v, const std::string& rel) {
    return std::find(v.begin(), v.end(), root_ + "/" + rel) != v.end();
  }
  std::string root_;
};

TEST_F(WatcherTest, ReportsWritesAndSkipsIgnoredNames) {
  mkdir("pkg");
  mkdir(".git");
  mkdir("__pycache__");
  auto w = Watcher::open(root_);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ((*w)->watched_folders(), 2u);  // the root and pkg
  write(".git/index");
  write("__pycache__/m.pyc");
  write("pkg/mod.py.swp");
  write("pkg/4913");
  write("pkg/mod.py");
  auto got = until(**w, "pkg/mod.py");
  EXPECT_TRUE(has(got, "pkg/mod.py"));
  for (const auto& p : got) {
    EXPECT_EQ(p.find(".git"), std::string::npos) << p;
    EXPECT_EQ(p.find("__pycache__"), std::string::npos) << p;
    EXPECT_EQ(p.find(".swp"), std::string::npos) << p;
    EXPECT_EQ(p.find("4913"), std::string::npos) << p;
  }
}

TEST_F(WatcherTest, ANewFolderIsWatchedAndItsFilesReported) {
  auto w = Watcher::open(root_);
  ASSERT_TRUE(w) << w.error().message;
  mkdir("newpkg");
  write("newpkg/early.py");  // may come before the watch is in place: found by the scan
  auto got = until(**w, "newpkg/early.py");
  EXPECT_TRUE(has(got, "newpkg/early.py"));
  EXPECT_EQ((*w)->watched_folders(), 2u);
  write("newpkg/late.py");
  EXPECT_TRUE(has(until(**w, "newpkg/late.py"), "newpkg/late.py"));
}

TEST_F(WatcherTest, RenamesAndDeletionsAreReported) {
  write("a.py");
  auto w = Watcher::open(root_);
  ASSERT_TRUE(w) << w.error().message;
  // An editor's save: write a temp file, rename it over the original.
  write(".a.py.tmp");
  ASSERT_EQ(std::rename((root_ + "/.a.py.tmp").c_str(), (root_ + "/b.py").c_str()), 0);
  EXPECT_TRUE(has(until(**w, "b.py"), "b.py"));
  ASSERT_EQ(::unlink((root_ + "/a.py").c_str()), 0);
  EXPECT_TRUE(has(until(**w, "a.py"), "a.py"));
}

TEST_F(WatcherTest, AVirtualEnvironmentIsNotWatched) {
  mkdir("env");
  write("env/pyvenv.cfg", "home = /usr\n");
  auto w = Watcher::open(root_);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ((*w)->watched_folders(), 1u);
}

TEST(Watcher, AMissingRootIsAnError) {
  auto w = Watcher::open("/nonexistent/dxpy/watch/root");
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("cannot watch"), std::string::npos);
}

}  // namespace
}  // namespace dxpy::watch
