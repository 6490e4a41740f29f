// Listing (`--collect-only -q`): the node ids come back at once while the index is written
// on a thread of its own, which the listing's storage joins; the index is then whole.
#include "dxpy/session/selection.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dxpy/index/dxti.h"
#include "dxpy/util/test_temp_dir.h"

namespace dxpy::session {
namespace {

class Listing : public dxpy::testing::TempDirTest {
 protected:
  Listing() : TempDirTest("dxpy_listing_") {}

  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
    std::ofstream(path(rel)) << text;
  }

  // `files` test modules of `tests` functions each, and the node ids pytest would list.
  std::vector<std::string> make_project(int files, int tests) {
    std::vector<std::string> ids;
    for (int f = 0; f < files; ++f) {
      char name[32];
      std::snprintf(name, sizeof name, "tests/test_m%03d.py", f);
      std::string text;
      for (int t = 0; t < tests; ++t) {
        text += "def test_f" + std::to_string(t) + "():\n    assert True\n\n";
        ids.push_back(std::string(name) + "::test_f" + std::to_string(t));
      }
      text += "class TestC:\n    def test_m(self):\n        pass\n";
      ids.push_back(std::string(name) + "::TestC::test_m");
      write(name, text);
    }
    return ids;
  }

  Expected<Selection> list() {
    SelectionRequest req;
    req.args = {path("tests")};
    req.rootdir = dir_;
    req.ids_only = true;
    return select_tests(req);
  }

  std::vector<std::string> listed(const Selection& s) {
    std::vector<std::string> out;
    for (const ListedFile& f : s.listed)
      for (size_t k = 0; k < f.count; ++k) out.push_back(f.id(k).str());
    return out;
  }

  Expected<index::IndexReader> open_index() { return index::IndexReader::open(path(".dx-py/index.dxti"), dir_); }
};

TEST_F(Listing, IndexIsWholeOnceTheWriterIsWaitedFor) {
  // 100 files: enough for the parsing helpers, whose records the writer reads.
  const auto ids = make_project(100, 5);
  auto sel = list();
  ASSERT_TRUE(sel) << sel.error().message;
  ASSERT_TRUE(sel->listing);
  EXPECT_EQ(listed(*sel), ids);
  wait_for_index_writer(*sel);
  wait_for_index_writer(*sel);  // a second wait is a no-op
  auto idx = open_index();
  ASSERT_TRUE(idx) << idx.error().message;
  EXPECT_EQ(idx->file_count(), 100u);
  EXPECT_EQ(idx->test_count(), ids.size());
  EXPECT_EQ(idx->test_node_id(0).str(), ids.front());
  EXPECT_EQ(idx->test_node_id(ids.size() - 1).str(), ids.back());
  // The ids stay readable after the writer is done: what they point into is kept.
  EXPECT_EQ(listed(*sel), ids);
}

TEST_F(Listing, DestroyingTheListingWaitsForTheWriter) {
  const auto ids = make_project(70, 3);
  {
    auto sel = list();
    ASSERT_TRUE(sel) << sel.error().message;
    EXPECT_EQ(listed(*sel).size(), ids.size());
    EXPECT_EQ(sel->listed.size(), 70u);  // a file at a time
  }
  auto idx = open_index();
  ASSERT_TRUE(idx) << idx.error().message;
  EXPECT_EQ(idx->file_count(), 70u);
  EXPECT_EQ(idx->test_count(), ids.size());
  // No temp file is left beside it.
  for (const auto& e : std::filesystem::directory_iterator(path(".dx-py")))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(Listing, ASecondListingReadsTheIndexTheFirstWrote) {
  const auto ids = make_project(80, 4);
  {
    auto sel = list();
    ASSERT_TRUE(sel) << sel.error().message;
    EXPECT_EQ(listed(*sel), ids);
  }
  auto again = list();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(listed(*again), ids);
  bool from_index = false;
  for (const auto& n : again->notes) from_index |= n.find("80 files from the index") != std::string::npos;
  EXPECT_TRUE(from_index);
  // One file changed: listed again with its new test, the rest from the index.
  write("tests/test_m005.py", "def test_new():\n    pass\n");
  auto changed = list();
  ASSERT_TRUE(changed) << changed.error().message;
  std::vector<std::string> want;
  for (const auto& id : ids)
    if (id.rfind("tests/test_m005.py::", 0) != 0) want.push_back(id);
  want.insert(want.begin() + 5 * 5, "tests/test_m005.py::test_new");
  EXPECT_EQ(listed(*changed), want);
}

}  // namespace
}  // namespace dxpy::session
