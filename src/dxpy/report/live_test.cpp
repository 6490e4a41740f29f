#include "dxpy/report/live.h"

#include <gtest/gtest.h>

namespace dxpy::report {
namespace {

LiveStatus status() {
  LiveStatus s;
  s.done = 45;
  s.total = 100;
  s.passed = 43;
  s.failed = 2;
  s.seconds = 1.25;
  s.running = {{"tests/test_a.py::test_x", 2.0}, {"tests/test_b.py::test_y", 0.1}};
  return s;
}

TEST(Live, StatusLine) {
  std::string line = live_status_line(status(), 200, false, false);
  EXPECT_EQ(line, "[#########-----------]  45/100  43 passed, 2 failed  1.2s  > tests/test_a.py::test_x (2.0s), "
                  "tests/test_b.py::test_y");
  std::string utf8 = live_status_line(status(), 200, false, true);
  EXPECT_EQ(utf8.rfind("[█████████░░░░░░░░░░░]", 0), 0u) << utf8;
  EXPECT_NE(utf8.find("▸ tests/test_a.py::test_x"), std::string::npos);
}

TEST(Live, StatusLineFitsTheWidth) {
  for (int width : {40, 60, 80, 81, 120}) {
    for (bool utf8 : {false, true}) {
      std::string line = live_status_line(status(), width, false, utf8);
      int cols = 0;
      for (unsigned char c : line) cols += (c & 0xC0) != 0x80;
      EXPECT_LE(cols, width - 1) << line;
      EXPECT_GE(cols, std::min(width - 1, 40)) << line;  // cut, not dropped
    }
  }
}

TEST(Live, ColourOnlyWhenAsked) {
  LiveStatus s = status();
  EXPECT_EQ(live_status_line(s, 200, false, true).find('\x1b'), std::string::npos);
  std::string c = live_status_line(s, 200, true, true);
  EXPECT_NE(c.find("\x1b[31m2 failed"), std::string::npos) << c;
  EXPECT_NE(c.find("\x1b[31m█"), std::string::npos) << c;  // a failure turns the bar red
  s.failed = 0;
  EXPECT_NE(live_status_line(s, 200, true, true).find("\x1b[32m█"), std::string::npos);
}

TEST(Live, EmptyAndFullBar) {
  LiveStatus s;
  s.total = 10;
  EXPECT_EQ(live_status_line(s, 80, false, false).substr(0, 22), "[--------------------]");
  s.done = 10;
  EXPECT_EQ(live_status_line(s, 80, false, false).substr(0, 22), "[####################]");
}

TEST(Live, RunningTestsInOrderOnceEach) {
  RunningTests r;
  auto t0 = RunningTests::Clock::now();
  r.started("a", t0);
  r.started("b", t0 + std::chrono::seconds(1));
  r.started("a", t0 + std::chrono::seconds(2));  // again: still the first
  auto snap = r.snapshot(t0 + std::chrono::seconds(3));
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].node_id, "a");
  EXPECT_DOUBLE_EQ(snap[0].seconds, 3.0);
  EXPECT_EQ(snap[1].node_id, "b");
  r.finished("a");
  r.finished("zzz");
  snap = r.snapshot(t0);
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].node_id, "b");
}

}  // namespace
}  // namespace dxpy::report
