#include "dxpy/session/execute.h"

#include <gtest/gtest.h>

namespace dxpy::session {
namespace {

TestCase with_marker(Marker m) {
  TestCase tc;
  tc.markers.push_back(std::move(m));
  return tc;
}

TEST(TestTimeout, MarkOverridesTheDefault) {
  EXPECT_DOUBLE_EQ(test_timeout(TestCase{}, 0), 0);
  EXPECT_DOUBLE_EQ(test_timeout(TestCase{}, 2.5), 2.5);
  EXPECT_DOUBLE_EQ(test_timeout(with_marker({"timeout", {"1"}, {}}), 10), 1);
  EXPECT_DOUBLE_EQ(test_timeout(with_marker({"timeout", {}, {{"timeout", "0.25"}}}), 10), 0.25);
  EXPECT_DOUBLE_EQ(test_timeout(with_marker({"timeout", {"SLOW"}, {}}), 10), 10);  // not a number
  EXPECT_DOUBLE_EQ(test_timeout(with_marker({"slow", {"1"}, {}}), 3), 3);
}

}  // namespace
}  // namespace dxpy::session
