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

}  // namespace
}  // namespace dxpy::report
