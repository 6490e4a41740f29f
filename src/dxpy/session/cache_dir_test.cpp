#include "dxpy/session/cache_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dxpy/util/fs.h"
#include "dxpy/util/test_temp_dir.h"

namespace dxpy::session {
namespace {

namespace fs = std::filesystem;

// Several per test (a root and an elsewhere), so not the TempDirTest fixture.
struct TempDir {
  std::string path = dxpy::testing::make_temp_dir("dxpy_cache_dir_");
  ~TempDir() { fs::remove_all(path); }
};

void touch(const std::string& path, time_t mtime) {
  std::ofstream(path) << "x";
  utimbuf t{mtime, mtime};
  ASSERT_EQ(::utime(path.c_str(), &t), 0);
}

bool has_note(const std::vector<std::string>& notes, const std::string& part) {
  for (const auto& n : notes)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

TEST(CacheDir, IsCreatedPrivateToTheUser) {
  TempDir root;
  std::vector<std::string> notes;
  std::string dir = open_cache_dir(root.path + "/.dx-py", notes);
  ASSERT_EQ(dir, root.path + "/.dx-py");
  EXPECT_TRUE(notes.empty());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST(CacheDir, AConfiguredFolderIsMadeWithItsParents) {
  TempDir root;
  std::vector<std::string> notes;
  const std::string dir = root.path + "/build/cache/dx-py";
  EXPECT_EQ(open_cache_dir(dir, notes), dir);
  EXPECT_TRUE(notes.empty());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((root.path + "/build").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  // A parent that is a file: no cache, and a note that says which.
  ASSERT_TRUE(write_file_atomic(root.path + "/file", "x"));
  notes.clear();
  EXPECT_EQ(open_cache_dir(root.path + "/file/dx-py", notes), "");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_TRUE(has_note(notes, "no cache")) << notes.front();
}

TEST(CacheDir, AFolderOthersCanWriteIsNotUsed) {
  TempDir root;
  const std::string dir = root.path + "/.dx-py";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  std::vector<std::string> notes;
  EXPECT_EQ(open_cache_dir(root.path + "/.dx-py", notes), "");
  EXPECT_TRUE(has_note(notes, "can be written by other users")) << notes.front();
  ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
  notes.clear();
  EXPECT_EQ(open_cache_dir(root.path + "/.dx-py", notes), "");
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  notes.clear();
  EXPECT_EQ(open_cache_dir(root.path + "/.dx-py", notes), dir);
}

TEST(CacheDir, AFolderOfAnotherUserIsNotUsed) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a folder to another user";
  TempDir root;
  const std::string dir = root.path + "/.dx-py";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  std::vector<std::string> notes;
  EXPECT_EQ(open_cache_dir(root.path + "/.dx-py", notes), "");
  EXPECT_TRUE(has_note(notes, "belongs to another user"));
}

TEST(CacheDir, ASymlinkIsNotFollowed) {
  TempDir root, elsewhere;
  ASSERT_EQ(::symlink(elsewhere.path.c_str(), (root.path + "/.dx-py").c_str()), 0);
  std::vector<std::string> notes;
  EXPECT_EQ(open_cache_dir(root.path + "/.dx-py", notes), "");
  EXPECT_TRUE(has_note(notes, "not a folder"));
  EXPECT_TRUE(fs::is_empty(elsewhere.path));
}

TEST(CacheDir, AFileInItsPlaceMeansNoCache) {
  TempDir root;
  std::ofstream(root.path + "/.dx-py") << "not a folder";
  std::vector<std::string> notes;
  EXPECT_EQ(open_cache_dir(root.path + "/.dx-py", notes), "");
  EXPECT_TRUE(has_note(notes, "not a folder"));
}

TEST(CacheDir, OnlyOldTempFilesOfAtomicWritesAreRemoved) {
  TempDir dir;
  const time_t now = ::time(nullptr);
  touch(dir.path + "/index.dxti.tmp.AbC123", now - 3600);  // a killed run's
  touch(dir.path + "/durations.tmp.XyZ789", now);          // perhaps a live run's
  touch(dir.path + "/index.dxti", now - 3600);
  touch(dir.path + "/notes.tmp.toolongname", now - 3600);  // not mkstemp's six characters
  touch(dir.path + "/lastfailed", now - 3600);
  EXPECT_EQ(remove_stale_temp_files(dir.path, kStaleTempSeconds), 1u);
  EXPECT_FALSE(fs::exists(dir.path + "/index.dxti.tmp.AbC123"));
  for (const char* kept : {"/durations.tmp.XyZ789", "/index.dxti", "/notes.tmp.toolongname", "/lastfailed"})
    EXPECT_TRUE(fs::exists(dir.path + kept)) << kept;
}

TEST(CacheDir, OpeningRemovesStaleTempFiles) {
  TempDir root;
  std::vector<std::string> notes;
  const std::string dir = open_cache_dir(root.path + "/.dx-py", notes);
  touch(dir + "/graph.dxig.tmp.q1w2e3", ::time(nullptr) - 3600);
  EXPECT_EQ(open_cache_dir(root.path + "/.dx-py", notes), dir);
  EXPECT_FALSE(fs::exists(dir + "/graph.dxig.tmp.q1w2e3"));
}

}  // namespace
}  // namespace dxpy::session
