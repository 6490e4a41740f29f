#include "dxpy/core/types.h"

#include <gtest/gtest.h>

namespace dxpy {
namespace {

TEST(TestId, FormatsPytestNodeIds) {
  TestId id{"tests/test_a.py", {"TestOuter", "TestInner"}, "test_x", "1-a"};
  EXPECT_EQ(id.node_id(), "tests/test_a.py::TestOuter::TestInner::test_x[1-a]");
  EXPECT_EQ((TestId{"t.py", {}, "test_f", ""}).node_id(), "t.py::test_f");
}

TEST(TestId, ParsesPytestNodeIds) {
  auto id = TestId::parse("tests/test_a.py::TestC::test_x[a::b-[1]]");
  EXPECT_EQ(id.path, "tests/test_a.py");
  EXPECT_EQ(id.classes, std::vector<std::string>{"TestC"});
  EXPECT_EQ(id.name, "test_x");
  EXPECT_EQ(id.param, "a::b-[1]");
}

TEST(TestId, BracketsInThePathAreNotAParam) {
  auto id = TestId::parse("tests/[odd]/test_a.py::test_x");
  EXPECT_EQ(id.path, "tests/[odd]/test_a.py");
  EXPECT_EQ(id.name, "test_x");
  EXPECT_EQ(id.param, "");
}

TEST(TestId, PathOnly) {
  auto id = TestId::parse("tests/test_a.py");
  EXPECT_EQ(id.path, "tests/test_a.py");
  EXPECT_TRUE(id.name.empty());
}

TEST(TestStatus, Names) {
  EXPECT_EQ(to_string(TestStatus::kXFailed), "xfailed");
  EXPECT_EQ(to_string(TestStatus::kCrashed), "crashed");
  EXPECT_EQ(to_string(TestStatus::kTimeout), "timeout");
}

}  // namespace
}  // namespace dxpy
