#include "dxpy/config/shlex.h"

#include <gtest/gtest.h>

namespace dxpy::config {
namespace {

using V = std::vector<std::string>;

// Expected values from Python's shlex.split.
TEST(Shlex, SplitsLikePython) {
  auto split = [](std::string_view s) {
    auto r = shlex_split(s);
    EXPECT_TRUE(r) << s;
    return r ? *r : V{"<error>"};
  };
  EXPECT_EQ(split("a b  c"), (V{"a", "b", "c"}));
  EXPECT_EQ(split("'a b' \"c d\""), (V{"a b", "c d"}));
  EXPECT_EQ(split("a\\ b"), (V{"a b"}));
  EXPECT_EQ(split("\"a\\\"b\""), (V{"a\"b"}));
  EXPECT_EQ(split("\"a\\b\""), (V{"a\\b"}));
  EXPECT_EQ(split("'a\\b'"), (V{"a\\b"}));
  EXPECT_EQ(split("\"\""), (V{""}));
  EXPECT_EQ(split("a''b"), (V{"ab"}));
  EXPECT_EQ(split("--x=1 -k \"a or b\""), (V{"--x=1", "-k", "a or b"}));
  EXPECT_EQ(split("x #y"), (V{"x", "#y"}));
  EXPECT_EQ(split("a\"b c\"d"), (V{"ab cd"}));
  EXPECT_EQ(split("one\n  two\ttwo2\r\n"), (V{"one", "two", "two2"}));
  EXPECT_EQ(split(""), V{});
  EXPECT_EQ(split("  "), V{});
}

TEST(Shlex, ErrorsLikePython) {
  for (auto [s, msg] : {std::pair{"\"abc", "No closing quotation"}, std::pair{"'abc", "No closing quotation"},
                        std::pair{"abc\\", "No escaped character"}, std::pair{"\"abc\\", "No escaped character"}}) {
    auto r = shlex_split(s);
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().message, msg);
  }
}

}  // namespace
}  // namespace dxpy::config
