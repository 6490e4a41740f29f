// Paths read from a snapshot index or given to the Store are never followed outside the
// rootdir: no "..", no absolute path, no symlink escape (docs/security.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dxpy/snapshot/index.h"
#include "dxpy/snapshot/snap_file.h"
#include "dxpy/snapshot/store.h"
#include "dxpy/snapshot/test_support.h"
#include "dxpy/util/fs.h"

namespace dxpy::snapshot {
namespace {

using testing::TempDirTest;

TEST(SnapPathSafety, OnlyRootdirRelativePathsWithoutDotParts) {
  EXPECT_TRUE(snap_path_is_safe("tests/__snapshots__/test_x.snap"));
  EXPECT_TRUE(snap_path_is_safe("__snapshots__/t.snap"));
  EXPECT_TRUE(snap_path_is_safe("a..b/..c/d.."));
  EXPECT_FALSE(snap_path_is_safe(""));
  EXPECT_FALSE(snap_path_is_safe("/etc/passwd"));
  EXPECT_FALSE(snap_path_is_safe("../outside.snap"));
  EXPECT_FALSE(snap_path_is_safe("tests/../../outside.snap"));
  EXPECT_FALSE(snap_path_is_safe("tests/.."));
  EXPECT_FALSE(snap_path_is_safe("./t.snap"));
  EXPECT_FALSE(snap_path_is_safe("tests//t.snap"));
  EXPECT_FALSE(snap_path_is_safe("tests/"));
  EXPECT_FALSE(snap_path_is_safe(std::string_view("t\0.snap", 7)));
}

TEST(SnapPathSafety, AnIndexRowWithAnEscapingPathIsCorrupt) {
  for (const char* bad : {"../x.snap", "/abs/x.snap", "a/../../x.snap"}) {
    Index index;
    index.put({"a/__snapshots__/ok.snap", 1, 2, blake3("a"), {}});
    index.put({bad, 1, 2, blake3("b"), {}});
    std::string bytes = encode_index(index, 7);  // a well-formed file with a bad row
    auto back = decode_index(bytes, 7);
    ASSERT_FALSE(back) << bad;
    EXPECT_EQ(back.error().code, Errc::kCorrupt) << bad;
  }
}

class StoreSecurityTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    root_ = dir_ + "/project";
    outside_ = dir_ + "/outside";
    std::filesystem::create_directories(root_ + "/tests");
    std::filesystem::create_directories(outside_);
  }
  std::string root_, outside_;
};

TEST_F(StoreSecurityTest, DotDotAndAbsolutePathsAreRefusedBeforeAnyFileIsTouched) {
  ASSERT_TRUE(write_file_atomic(outside_ + "/x.snap", render({{"t.py::a", "1", "secret"}}), Durability::kCache));
  Store store(root_);
  for (const std::string& bad : std::vector<std::string>{"../outside/x.snap", outside_ + "/x.snap", "tests/../../outside/x.snap"}) {
    auto h = store.hashes(bad);
    ASSERT_FALSE(h) << bad;
    EXPECT_EQ(h.error().code, Errc::kUsage);
    EXPECT_NE(h.error().message.find("refused snapshot path"), std::string::npos);
    EXPECT_FALSE(store.read(bad)) << bad;
    EXPECT_FALSE(store.update(bad, {{"t.py::a", "1", "overwritten"}})) << bad;
  }
  EXPECT_EQ(*read_file(outside_ + "/x.snap"), render({{"t.py::a", "1", "secret"}}));
  EXPECT_FALSE(stat_path(root_ + "/.dx-py/snapshots.idx"));  // nothing indexed either
}

TEST_F(StoreSecurityTest, ASnapshotsFolderSymlinkedOutsideIsNeitherReadNorWritten) {
  ASSERT_TRUE(write_file_atomic(outside_ + "/test_x.snap", render({{"tests/test_x.py::a", "1", "secret"}}), Durability::kCache));
  ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/tests/__snapshots__").c_str()), 0);
  Store store(root_);
  const std::string snap = "tests/__snapshots__/test_x.snap";
  auto h = store.hashes(snap);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kUsage);
  EXPECT_NE(h.error().message.find("outside the rootdir"), std::string::npos) << h.error().message;
  EXPECT_FALSE(store.read(snap));
  EXPECT_FALSE(store.update(snap, {{"tests/test_x.py::a", "1", "overwritten"}}));
  EXPECT_FALSE(store.update(snap, {}, {{"tests/test_x.py::a", "1"}}));  // nor deleted
  EXPECT_FALSE(store.update("tests/__snapshots__/new.snap", {{"tests/new.py::a", "1", "v"}}));
  EXPECT_EQ(*read_file(outside_ + "/test_x.snap"), render({{"tests/test_x.py::a", "1", "secret"}}));
  EXPECT_FALSE(stat_path(outside_ + "/new.snap"));
}

TEST_F(StoreSecurityTest, ASnapFileSymlinkedOutsideIsRefused) {
  ASSERT_TRUE(write_file_atomic(outside_ + "/secret", "== a | 1\n  secret\n", Durability::kCache));
  std::filesystem::create_directories(root_ + "/tests/__snapshots__");
  ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), (root_ + "/tests/__snapshots__/test_x.snap").c_str()), 0);
  Store store(root_);
  EXPECT_FALSE(store.hashes("tests/__snapshots__/test_x.snap"));
  EXPECT_FALSE(store.read("tests/__snapshots__/test_x.snap"));
}

TEST_F(StoreSecurityTest, SymlinksThatStayInsideTheRootdirWork) {
  // A symlinked rootdir and a __snapshots__ symlink to another folder of the project.
  std::filesystem::create_directories(root_ + "/shared_snaps");
  ASSERT_EQ(::symlink("../shared_snaps", (root_ + "/tests/__snapshots__").c_str()), 0);
  ASSERT_EQ(::symlink(root_.c_str(), (dir_ + "/link").c_str()), 0);
  Store store(dir_ + "/link");
  auto written = store.update("tests/__snapshots__/test_x.snap", {{"tests/test_x.py::a", "1", "v"}});
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_TRUE(stat_path(root_ + "/shared_snaps/test_x.snap"));
  auto h = Store(dir_ + "/link").hashes("tests/__snapshots__/test_x.snap");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h, *written);
}

}  // namespace
}  // namespace dxpy::snapshot
