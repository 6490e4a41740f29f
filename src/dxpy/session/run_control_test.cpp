#include "dxpy/session/run_control.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace dxpy::session {
namespace {

TestResult result(const std::string& name, uint64_t ns, std::string phases = "") {
  TestResult r;
  r.id.path = "test_a.py";
  r.id.name = name;
  r.duration_ns = ns;
  if (!phases.empty()) r.properties.push_back({std::string(kPhasesProperty), phases});
  return r;
}

TEST(DurationsReport, SortsPhasesAndHidesShortOnesAsPytest) {
  DurationsReport d(0, std::nullopt, 0);
  auto a = result("test_a", 0, "20000000 300000000 1000");
  d.record(a);
  EXPECT_TRUE(a.properties.empty());  // taken out: the JUnit report never sees it
  auto b = result("test_b", 100'000'000);
  d.record(b);
  std::vector<std::string> want = {"slowest durations",
                                   "0.30s call     test_a.py::test_a",
                                   "0.10s call     test_a.py::test_b",
                                   "0.02s setup    test_a.py::test_a",
                                   "",
                                   "(3 durations < 0.005s hidden.  Use -vv to show these durations.)"};
  EXPECT_EQ(d.lines(), want);
}

TEST(DurationsReport, CountAndMinimum) {
  DurationsReport d(1, 0.0, 0);
  auto a = result("test_a", 0, "1 2 3");
  d.record(a);
  EXPECT_EQ(d.lines(), (std::vector<std::string>{"slowest 1 durations", "0.00s teardown test_a.py::test_a"}));
  DurationsReport none(5, std::nullopt, 0);
  EXPECT_TRUE(none.lines().empty());
}

TEST(RunControl, RetriesFromConfigOnlyWhenNotGiven) {
  config::Config c;
  RunControl rc;
  EXPECT_EQ(*effective_retries(rc, c), 0);
  c.dx.retries = 2;  // [tool.dx-py] retries, checked by config (dx_py.cpp)
  EXPECT_EQ(*effective_retries(rc, c), 2);
  rc.retries = 0;
  EXPECT_EQ(*effective_retries(rc, c), 0);
}

// Every line but the title and the hidden note is "S.SSs WHEN     node", sorted by time.
RC_GTEST_PROP(DurationsReport, LinesAreSortedAndCounted, ()) {
  int count = *rc::gen::inRange(0, 8);
  DurationsReport d(count, 0.0, 0);
  int n = *rc::gen::inRange(0, 10);
  std::vector<double> all;
  for (int i = 0; i < n; ++i) {
    uint64_t s = *rc::gen::inRange<uint64_t>(0, 5'000'000'000), c = *rc::gen::inRange<uint64_t>(0, 5'000'000'000),
             t = *rc::gen::inRange<uint64_t>(0, 5'000'000'000);
    auto r = result("t" + std::to_string(i), 0, std::to_string(s) + " " + std::to_string(c) + " " + std::to_string(t));
    r.status = TestStatus::kPassed;
    d.record(r);
  }
  auto lines = d.lines();
  if (n == 0) {
    RC_ASSERT(lines.empty());
    return;
  }
  size_t shown = lines.size() - 1;
  RC_ASSERT(shown == (count == 0 ? static_cast<size_t>(3 * n) : std::min<size_t>(count, 3 * n)));
  double prev = 1e18;
  for (size_t i = 1; i < lines.size(); ++i) {
    double v = std::stod(lines[i]);
    RC_ASSERT(v <= prev + 0.005);
    prev = v;
  }
}

}  // namespace
}  // namespace dxpy::session
