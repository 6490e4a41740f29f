// Property 18 (Test Pattern Filtering): filtering by a pattern returns exactly the tests
// that match it, checked against an independent model (std::regex for the glob, plain
// string rules for literal names), and a literal node id returns exactly that test.
#include "dxpy/select/filter.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <regex>
#include <set>

namespace dxpy::select {
namespace {

namespace gen = rc::gen;

rc::Gen<std::vector<std::string>> parts(size_t max, std::vector<std::string> choices) {
  return gen::mapcat(gen::inRange<size_t>(0, max), [choices](size_t n) {
    return gen::container<std::vector<std::string>>(n, gen::elementOf(choices));
  });
}

// Small alphabets, so that patterns often match several tests. A function is either
// parametrized or not (by its name), as in Python.
rc::Gen<TestCase> gen_test() {
  return gen::apply(
      [](std::vector<std::string> dirs, std::string file, std::vector<std::string> classes, std::string name,
         std::string param) {
        TestCase t;
        for (const auto& d : dirs) t.id.path += d + "/";
        t.id.path += "test_" + file + ".py";
        t.id.classes = std::move(classes);
        t.id.name = "test_" + name;
        if (name.back() == 'x') t.id.param = std::move(param);
        return t;
      },
      parts(3, {"tests", "pkg", "a"}), gen::elementOf(std::vector<std::string>{"a", "b", "ab"}),
      parts(3, {"TestA", "TestB"}),
      gen::elementOf(std::vector<std::string>{"a", "b", "x", "ax", "bx"}),
      gen::elementOf(std::vector<std::string>{"1", "2", "a-b", "1-2", "x", ""}));
}

// Unique node ids: pytest never collects one twice.
std::vector<TestCase> gen_suite() {
  auto raw = *gen::container<std::vector<TestCase>>(gen_test());
  std::vector<TestCase> out;
  std::set<std::string> seen;
  for (auto& t : raw) {
    if (seen.insert(t.id.node_id()).second) out.push_back(std::move(t));
  }
  return out;
}

// ---- the model -----------------------------------------------------------------------------

std::string regex_escape(char c) {
  std::string_view special = ".^$|()[]{}*+?\\/";
  return special.find(c) != std::string_view::npos ? std::string{'\\', c} : std::string(1, c);
}

bool model_names(const std::string& p, const TestCase& t) {
  if (p.empty()) return false;
  const std::string id = t.id.node_id();
  const std::string& path = t.id.path;
  std::string dir = p.size() > 1 && p.back() == '/' ? p.substr(0, p.size() - 1) : p;
  if (p == path || p == id) return true;
  if (path.rfind(dir + "/", 0) == 0) return true;
  std::string function_id = id.substr(0, id.size() - (t.id.param ? t.id.param->size() + 2 : 0));
  if (t.id.param && p == function_id && p.find("::") != std::string::npos) return true;
  return function_id.rfind(p + "::", 0) == 0;
}

std::vector<size_t> model_filter(const std::vector<TestCase>& tests, const std::string& p, const std::regex& glob) {
  std::vector<size_t> out;
  for (size_t i = 0; i < tests.size(); ++i) {
    if (model_names(p, tests[i])) out.push_back(i);
  }
  if (!out.empty()) return out;
  for (size_t i = 0; i < tests.size(); ++i) {
    if (std::regex_match(tests[i].id.node_id(), glob) || std::regex_match(tests[i].id.path, glob)) out.push_back(i);
  }
  return out;
}

// A pattern made from a real node id or path, with wildcards and sets mixed in; its regex
// is built alongside from the same choices, not by parsing the pattern.
std::pair<std::string, std::string> gen_pattern(const std::vector<TestCase>& tests) {
  std::string base = "test_";
  if (!tests.empty()) {
    const TestCase& t = tests[*gen::inRange<size_t>(0, tests.size())];
    base = *gen::elementOf(std::vector<std::string>{t.id.node_id(), t.id.path, t.id.name});
  }
  std::string pattern, regex;
  for (size_t i = 0; i < base.size(); ++i) {
    char c = base[i] == '[' || base[i] == ']' ? '?' : base[i];
    switch (*gen::inRange(0, 12)) {
      case 0:
        pattern += '?', regex += '.';
        break;
      case 1:
        pattern += '*', regex += ".*";
        i += *gen::inRange<size_t>(0, 4);
        break;
      case 2:
        if (c == '?') {
          pattern += '?', regex += '.';
        } else {
          pattern.append(1, '[').append(1, c).append("x]");
          regex.append(1, '[').append(regex_escape(c)).append("x]");
        }
        break;
      case 3:
        pattern += "[!q]", regex += "[^q]";
        break;
      case 4:
        pattern += "[a-m]", regex += "[a-m]";
        break;
      default:
        pattern += c, regex += c == '?' ? std::string(".") : regex_escape(c);
    }
  }
  if (*gen::inRange(0, 4) == 0) pattern += '*', regex += ".*";
  return {pattern, regex};
}

RC_GTEST_PROP(PatternFilter, SelectsExactlyTheMatchingTests, ()) {
  auto tests = gen_suite();
  auto [pattern, regex] = gen_pattern(tests);
  std::regex glob(regex);
  auto got = filter_indices(tests, pattern);
  RC_CLASSIFY(got.empty(), "selects none");
  RC_CLASSIFY(!got.empty() && got.size() < tests.size(), "selects some");
  RC_ASSERT(got == model_filter(tests, pattern, glob));
}

RC_GTEST_PROP(PatternFilter, LiteralNodeIdSelectsExactlyThatTest, ()) {
  auto tests = gen_suite();
  RC_PRE(!tests.empty());
  size_t i = *gen::inRange<size_t>(0, tests.size());
  auto selected = filter(tests, tests[i].id.node_id());
  RC_ASSERT(selected.size() == 1u);
  RC_ASSERT(selected[0] == tests[i]);
}

RC_GTEST_PROP(PatternFilter, LiteralPathSelectsItsFile, ()) {
  auto tests = gen_suite();
  RC_PRE(!tests.empty());
  const std::string path = tests[*gen::inRange<size_t>(0, tests.size())].id.path;
  for (const auto& t : filter(tests, path)) RC_ASSERT(t.id.path == path);
  for (const auto& t : tests) {
    if (t.id.path == path) RC_ASSERT(!filter(std::vector<TestCase>{t}, path).empty());
  }
}

RC_GTEST_PROP(PatternFilter, StarSelectsEverything, ()) {
  auto tests = gen_suite();
  RC_ASSERT(filter(tests, "*") == tests);
  RC_ASSERT(filter(tests, "*::*").size() == tests.size());
}

TEST(PatternFilter, Examples) {
  std::vector<TestCase> tests;
  for (const char* id : {"tests/test_a.py::test_x[1]", "tests/test_a.py::test_x1", "tests/test_a.py::TestK::test_y",
                         "tests/sub/test_b.py::test_z", "test_c.py::test_w"}) {
    TestCase t;
    t.id = TestId::parse(id);
    tests.push_back(t);
  }
  auto ids = [&](std::string_view p) {
    std::vector<std::string> out;
    for (const auto& t : filter(tests, p)) out.push_back(t.id.node_id());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("tests/test_a.py::test_x[1]"), V{"tests/test_a.py::test_x[1]"});
  EXPECT_EQ(ids("tests/test_a.py::test_x"), V{"tests/test_a.py::test_x[1]"});
  EXPECT_EQ(ids("tests/test_a.py::TestK"), V{"tests/test_a.py::TestK::test_y"});
  EXPECT_EQ(ids("tests/sub"), V{"tests/sub/test_b.py::test_z"});
  EXPECT_EQ(ids("*test_x?"), (V{"tests/test_a.py::test_x1"}));
  EXPECT_EQ(ids("*::test_[wz]"), (V{"tests/sub/test_b.py::test_z", "test_c.py::test_w"}));
  EXPECT_EQ(ids("tests/*.py").size(), 4u);  // by path: '*' crosses '/'
  EXPECT_EQ(ids("nothing*"), V{});
  EXPECT_TRUE(match_glob("t.py::test_x[1]", "t.py::test_x[1]"));
  EXPECT_TRUE(match_glob("t.py::test_x[1]", "t.py::test_x1"));
  EXPECT_FALSE(match_glob("t.py::test_?", "t.py::test_ab"));
}

}  // namespace
}  // namespace dxpy::select
