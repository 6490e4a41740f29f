#include "dxpy/discovery/pyliteral.h"

#include <gtest/gtest.h>

namespace dxpy::discovery {
namespace {

TEST(SplitCall, ArgsAndKwargsAtTopLevelOnly) {
  auto c = split_call(R"py(pytest.mark.parametrize("a,b", [(1, 2), (3, ")")], ids=["x", "y"]))py");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->callee, "pytest.mark.parametrize");
  ASSERT_EQ(c->args.size(), 2u);
  EXPECT_EQ(c->args[0], "\"a,b\"");
  EXPECT_EQ(c->args[1], "[(1, 2), (3, \")\")]");
  ASSERT_EQ(c->kwargs.size(), 1u);
  EXPECT_EQ(c->kwargs[0].first, "ids");
  EXPECT_FALSE(split_call("pytest.mark.slow"));
  EXPECT_FALSE(split_call("f(a)(b)"));
  auto cmp = split_call("skipif(x == 1, reason='r')");
  ASSERT_TRUE(cmp);
  EXPECT_EQ(cmp->args, std::vector<std::string>{"x == 1"});
}

TEST(SplitSequence, TuplesAndLists) {
  EXPECT_EQ(*split_sequence("[1, 'a,b', (2, 3)]"), (std::vector<std::string>{"1", "'a,b'", "(2, 3)"}));
  EXPECT_EQ(*split_sequence("(1,)"), std::vector<std::string>{"1"});
  EXPECT_FALSE(split_sequence("(1)"));
  EXPECT_EQ(split_sequence("[]")->size(), 0u);
}

TEST(LiteralId, PytestIdsOfLiterals) {
  auto id = [](const char* t) {
    auto l = literal_id(t);
    return l.kind == LiteralId::kId ? l.id : l.kind == LiteralId::kUseArgname ? "<argname>" : "<unknown>";
  };
  EXPECT_EQ(id("1"), "1");
  EXPECT_EQ(id("-3"), "-3");
  EXPECT_EQ(id("0x10"), "16");
  EXPECT_EQ(id("1_000"), "1000");
  EXPECT_EQ(id("1.50"), "1.5");
  EXPECT_EQ(id("2."), "2.0");
  EXPECT_EQ(id(".5"), "0.5");
  EXPECT_EQ(id("True"), "True");
  EXPECT_EQ(id("None"), "None");
  EXPECT_EQ(id("'abc'"), "abc");
  EXPECT_EQ(id("\"a\\nb\""), "a\\nb");
  EXPECT_EQ(id("'\\u00e9'"), "\\xe9");
  EXPECT_EQ(id("'\xc3\xa9'"), "\\xe9");
  EXPECT_EQ(id("'\xe2\x82\xac'"), "\\u20ac");
  EXPECT_EQ(id("r'\\d+'"), "\\\\d+");
  EXPECT_EQ(id("[1, 2]"), "<argname>");
  EXPECT_EQ(id("(1, 2)"), "<argname>");
  EXPECT_EQ(id("{}"), "<argname>");
  EXPECT_EQ(id("some_name"), "<unknown>");
  EXPECT_EQ(id("f'x'"), "<unknown>");
  EXPECT_EQ(id("1e-5"), "<unknown>");
}

}  // namespace
}  // namespace dxpy::discovery
