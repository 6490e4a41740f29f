#include "dxpy/util/fs.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fcntl.h>

#include <filesystem>
#include <string>
#include <vector>

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

TEST_F(TempDir, ReadIntoReusesTheBufferAndGivesTheStat) {
  std::string big(200000, 'b');  // more than one read's worth
  ASSERT_TRUE(write_file_atomic(dir_ + "/big", big));
  ASSERT_TRUE(write_file_atomic(dir_ + "/small", "tiny"));
  ASSERT_TRUE(write_file_atomic(dir_ + "/empty", ""));
  std::string buf = "left over";
  FileStat st;
  ASSERT_TRUE(read_file_into(dir_ + "/big", buf, &st));
  EXPECT_EQ(buf, big);
  EXPECT_EQ(st.size, big.size());
  EXPECT_TRUE(st.is_file);
  EXPECT_EQ(st.mtime_ns, stat_path(dir_ + "/big")->mtime_ns);
  ASSERT_TRUE(read_file_into(dir_ + "/small", buf, &st));
  EXPECT_EQ(buf, "tiny");
  EXPECT_EQ(st.size, 4u);
  ASSERT_TRUE(read_file_into(dir_ + "/empty", buf));
  EXPECT_EQ(buf, "");
  auto missing = read_file_into(dir_ + "/nope", buf);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, read_file(dir_ + "/nope").error().message);
}

TEST_F(TempDir, ReadAtAFolderDescriptor) {
  ASSERT_TRUE(write_file_atomic(dir_ + "/f.py", "x = 1\n"));
  int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  std::string buf;
  FileStat st;
  ASSERT_TRUE(read_file_at(fd, "f.py", dir_ + "/f.py", buf, &st));
  EXPECT_EQ(buf, "x = 1\n");
  auto missing = read_file_at(fd, "nope.py", dir_ + "/nope.py", buf, &st);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find(dir_ + "/nope.py"), std::string::npos);  // named by its path
  ::close(fd);
}

TEST_F(TempDir, AtomicWriteOfPieces) {
  // More pieces than one writev takes, some empty, and the first one finished last.
  std::vector<std::string> owned;
  for (int k = 0; k < 3000; ++k) owned.push_back(k % 7 == 0 ? "" : std::to_string(k) + ",");
  std::vector<std::string_view> pieces(owned.begin(), owned.end());
  std::string header = "????";
  pieces.insert(pieces.begin(), header);
  std::string expected;
  for (auto& p : owned) expected += p;
  bool finished = false;
  ASSERT_TRUE(write_file_atomic_pieces(dir_ + "/p", pieces, Durability::kCache, [&] {
    header = "HEAD";  // the view in `pieces` sees the bytes written now
    finished = true;
  }));
  EXPECT_TRUE(finished);
  EXPECT_EQ(*read_file(dir_ + "/p"), "HEAD" + expected);
  ASSERT_TRUE(write_file_atomic_pieces(dir_ + "/q", {"a", "", "bc"}));
  EXPECT_EQ(*read_file(dir_ + "/q"), "abc");
  bool called = false;
  EXPECT_FALSE(write_file_atomic_pieces(dir_ + "/missing/p", {"x"}, Durability::kCache, [&] { called = true; }));
  EXPECT_TRUE(called);  // on failure too: a caller may be waiting on it
}

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
