#include "dxpy/util/fnmatch.h"

#include <gtest/gtest.h>

namespace dxpy {
namespace {

struct Case {
  const char* pattern;
  const char* name;
  bool match;
};

// Expected values from Python 3.11's fnmatch.fnmatchcase.
constexpr Case kCases[] = {
    {"test_*.py", "test_a.py", true},
    {"test_*.py", "a/test_a.py", false},
    {"a?c", "abc", true},
    {"a?c", "a/c", true},
    {"[a-c]bc", "abc", true},
    {"[!a-c]bc", "dbc", true},
    {"[abc", "[abc", true},
    {"[]]", "a]", false},
    {"[]]", "]", true},
    {"[!]]", "!", true},
    {"[!]]", "x", true},
    {"[z-a]", "z", false},
    {"[z-a]", "a", false},
    {"[a-]", "-", true},
    {"[a-c-e]", "b", true},
    {"[a-c-e]", "-", true},
    {"[a-c-e]", "d", false},
    {"[a--z]", "z", true},
    {"[a--z]", "a", false},
    {"[-a]", "-", true},
    {"[!b-a]", "x", true},
    {"[\\]", "\\", true},
    {"?", "\xc3\xa9", true},
    {"?a", "\xc3\xa9" "a", true},
    {"*", "", true},
    {"***", "abc", true},
    {"a*b*", "ab", true},
    {"a*b", "aXbYb", true},
    {"a*b", "a\nb", true},
    {"[^a]", "^", true},
    {"[^a]", "a", true},
    {"[[]", "[", true},
    {"[a][b]", "ab", true},
    {"[]", "a", false},
    {"[]", "[]", true},
    {"[!]", "!", false},
    {"[!]", "[!]", true},
    {"Test", "test", false},
};

TEST(Fnmatch, AgreesWithPython) {
  for (const auto& c : kCases) {
    EXPECT_EQ(fnmatch(c.name, c.pattern), c.match) << "pattern " << c.pattern << " name " << c.name;
  }
}

TEST(Fnmatch, PathPatternsAsPytestFnmatchEx) {
  EXPECT_TRUE(fnmatch_path("test_*.py", "/r/tests/test_a.py"));
  EXPECT_TRUE(fnmatch_path("test_*.py", "test_a.py"));
  EXPECT_FALSE(fnmatch_path("test_*.py", "/r/test_dir/a.py"));
  // With a '/', the whole path; a relative pattern matches at any depth of an absolute path.
  EXPECT_TRUE(fnmatch_path("tests/test_*.py", "/r/tests/test_a.py"));
  EXPECT_TRUE(fnmatch_path("tests/**/doc/test*.py", "/r/tests/foo/bar/doc/test_foo.py"));
  EXPECT_FALSE(fnmatch_path("tests/test_*.py", "other/test_a.py"));
  EXPECT_TRUE(fnmatch_path("/r/*/test_a.py", "/r/x/test_a.py"));
}

}  // namespace
}  // namespace dxpy
