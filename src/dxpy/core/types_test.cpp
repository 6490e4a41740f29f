#include "dxpy/core/types.h"

#include <gtest/gtest.h>

namespace dxpy {
namespace {

TEST(TestId, FormatsPytestNodeIds) {
  TestId id{"tests/test_a.py", {"TestOuter", "TestInner"}, "test_x", "1-a"};
  EXPECT_EQ(id.node_id(), "tests/test_a.py::TestOuter::TestInner::test_x[1-a]");
  EXPECT_EQ((TestId{"t.py", {}, "test_f", std::nullopt}).node_id(), "t.py::test_f");
}

// pytest's id of parametrize("x", [""]) is empty, and the node id keeps its brackets.
TEST(TestId, AnEmptyParamKeepsItsBrackets) {
  TestId id{"t.py", {}, "test_x", ""};
  EXPECT_EQ(id.node_id(), "t.py::test_x[]");
  TestId back = TestId::parse("t.py::test_x[]");
  ASSERT_TRUE(back.param.has_value());
  EXPECT_EQ(*back.param, "");
  EXPECT_EQ(back, id);
  EXPECT_FALSE(TestId::parse("t.py::test_x").param.has_value());
  EXPECT_NE(TestId::parse("t.py::test_x"), id);
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
  EXPECT_EQ(id.param, std::nullopt);
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
