#include "dxpy/report/collect_only.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace dxpy::report {
namespace {

std::string print(int verbosity) {
  std::vector<TestCase> tests(4);
  tests[0].id = TestId::parse("tests/test_a.py::test_x");
  tests[1].id = TestId::parse("tests/test_a.py::TestK::test_y[1-a]");
  tests[2].id = TestId::parse("tests/pkg/test_b.py::Case::test_z");
  tests[2].kind = TestKind::kUnittest;
  tests[3].id = TestId::parse("test_top.py::test_t[]");  // parametrize("x", [""])
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  print_collection(f, "/work/proj", tests, verbosity, [](const std::string& d) { return d == "tests/pkg"; });
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

TEST(CollectOnly, TreeLikePytest) {
  EXPECT_EQ(print(0),
            "<Dir proj>\n"
            "  <Dir tests>\n"
            "    <Module test_a.py>\n"
            "      <Function test_x>\n"
            "      <Class TestK>\n"
            "        <Function test_y[1-a]>\n"
            "    <Package pkg>\n"
            "      <Module test_b.py>\n"
            "        <UnitTestCase Case>\n"
            "          <TestCaseFunction test_z>\n"
            "  <Module test_top.py>\n"
            "    <Function test_t[]>\n");
}

TEST(CollectOnly, QuietIsNodeIds) {
  EXPECT_EQ(print(-1),
            "tests/test_a.py::test_x\ntests/test_a.py::TestK::test_y[1-a]\ntests/pkg/test_b.py::Case::test_z\n"
            "test_top.py::test_t[]\n");
}

TEST(CollectOnly, VeryQuietIsCountsPerFile) {
  // Files sorted by path, whatever the tests' order: pytest prints sorted(Counter(paths)).
  EXPECT_EQ(print(-2), "test_top.py: 1\ntests/pkg/test_b.py: 1\ntests/test_a.py: 2\n");
}

// Listed files as a listing gives them: a file without tests (a module of base classes in
// the index) is no line, in either form; one path in two runs is counted once.
TEST(CollectOnly, ListedFilesWithoutTestsAreNotCounted) {
  const uint32_t ends_a[] = {8, 16};
  const uint32_t ends_b[] = {8};
  std::vector<ListedFile> files = {{"t/a.py", "::test_x::test_y", ends_a, nullptr, 2},
                                   {"t/base.py", "", nullptr, nullptr, 0},
                                   {"t/a.py", "::test_z", ends_b, nullptr, 1}};
  for (int verbosity : {-1, -2}) {
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* f = open_memstream(&buf, &len);
    print_node_ids(f, files, verbosity);
    std::fclose(f);
    std::string out(buf, len);
    std::free(buf);
    EXPECT_EQ(out, verbosity == -1 ? "t/a.py::test_x\nt/a.py::test_y\nt/a.py::test_z\n" : "t/a.py: 3\n");
  }
}

}  // namespace
}  // namespace dxpy::report
