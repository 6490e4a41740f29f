#include "dxpy/util/fs.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace dxpy {
namespace {

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "dxpy_fs_XXXXXX";
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);  // kept for a look when a test fails
  }
  std::string dir_;
};

TEST_F(TempDir, AtomicWriteReplacesAndLeavesNoTempFiles) {
  std::string p = dir_ + "/f.bin";
  ASSERT_TRUE(write_file_atomic(p, "old"));
  ASSERT_TRUE(write_file_atomic(p, std::string("new\0data", 8)));
  auto got = read_file(p);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::string("new\0data", 8));
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(TempDir, AtomicWriteIntoMissingFolderFailsCleanly) {
  auto r = write_file_atomic(dir_ + "/missing/f.bin", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kIo);
}

TEST_F(TempDir, ReadMissingFileIsAnError) { EXPECT_FALSE(read_file(dir_ + "/nope")); }

TEST(Paths, Components) {
  EXPECT_EQ(dirname("a/b/c.py"), "a/b");
  EXPECT_EQ(basename("a/b/c.py"), "c.py");
  EXPECT_EQ(dirname("c.py"), "");
  EXPECT_EQ(join_path("a/", "b"), "a/b");
  EXPECT_EQ(join_path("a", "/abs"), "/abs");
  EXPECT_EQ(relative_to("/r/x/y.py", "/r"), "x/y.py");
  EXPECT_EQ(relative_to("/rx/y.py", "/r"), "/rx/y.py");
  EXPECT_EQ(absolute_path("/a/./b/../c//d"), "/a/c/d");
}

}  // namespace
}  // namespace dxpy
