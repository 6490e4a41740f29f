#include "dxpy/select/matchers.h"

#include <gtest/gtest.h>

namespace dxpy::select {
namespace {

TestCase make_test(std::string_view node_id, std::vector<Marker> markers = {}) {
  TestCase t;
  t.id = TestId::parse(node_id);
  t.markers = std::move(markers);
  return t;
}

bool k(std::string_view expr, const TestCase& t, const std::vector<std::string>& extra = {}) {
  auto e = Expression::compile(expr, "-k");
  EXPECT_TRUE(e) << expr;
  auto r = e->evaluate(KeywordMatcher::from_test(t, extra));
  EXPECT_TRUE(r) << expr;
  return r && *r;
}

bool m(std::string_view expr, const TestCase& t) {
  auto e = Expression::compile(expr, "-m");
  EXPECT_TRUE(e) << expr << ": " << (e ? "" : e.error().message);
  return e && e->evaluate(MarkMatcher(t));
}

TEST(KeywordMatcher, NamesFollowPytestsListchain) {
  TestCase t = make_test("tests/unit/test_calc.py::TestAdd::test_sum[1-2]", {{"slow", {}, {}}, {"parametrize", {}, {}}});
  EXPECT_EQ(KeywordMatcher::from_test(t).names(),
            (std::vector<std::string>{"tests", "unit", "test_calc.py", "TestAdd", "test_sum[1-2]", "slow", "parametrize"}));
}

// An empty parametrize id keeps its brackets in the item's name, as in pytest's listchain.
TEST(KeywordMatcher, AnEmptyParamIsPartOfTheName) {
  TestCase t = make_test("test_e.py::test_e[]");
  EXPECT_EQ(KeywordMatcher::from_test(t).names(), (std::vector<std::string>{"test_e.py", "test_e[]"}));
  EXPECT_TRUE(k("test_e[]", t));
}

TEST(KeywordMatcher, CaseInsensitiveSubstrings) {
  TestCase t = make_test("tests/test_calc.py::TestAdd::test_sum[1-2]", {{"slow", {}, {}}});
  EXPECT_TRUE(k("test_sum", t));
  EXPECT_TRUE(k("SUM", t));
  EXPECT_TRUE(k("testadd", t));
  EXPECT_TRUE(k("calc.py", t));  // the module's file name
  EXPECT_TRUE(k("tests", t));    // a folder below the rootdir
  EXPECT_TRUE(k("sum[1-2]", t));
  EXPECT_TRUE(k("1-2", t));
  EXPECT_TRUE(k("slow", t));  // marker names are keywords too
  EXPECT_FALSE(k("sum[1-3]", t));
  EXPECT_FALSE(k("test_calc.py::TestAdd", t));  // never the joined node id
  EXPECT_TRUE(k("add and not mul", t));
  EXPECT_FALSE(k("not slow", t));
  EXPECT_FALSE(k("pytestmark", t));
  EXPECT_TRUE(k("pytestmark", t, {"pytestmark"}));
}

TEST(KeywordMatcher, TopLevelModuleHasNoFolderNames) {
  TestCase t = make_test("test_a.py::test_x");
  EXPECT_EQ(KeywordMatcher::from_test(t).names(), (std::vector<std::string>{"test_a.py", "test_x"}));
}

TEST(KeywordMatcher, CallParametersAreAUsageError) {
  auto e = Expression::compile("a(x=1)", "-k");
  ASSERT_TRUE(e);
  auto r = e->evaluate(KeywordMatcher({"a"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUsage);
  EXPECT_EQ(r.error().message, "Keyword expressions do not support call parameters.");
}

TEST(MarkMatcher, ExactNames) {
  TestCase t = make_test("t.py::test_a", {{"slow", {}, {}}, {"db", {}, {}}});
  EXPECT_TRUE(m("slow", t));
  EXPECT_FALSE(m("slo", t));
  EXPECT_FALSE(m("SLOW", t));
  EXPECT_TRUE(m("slow and db", t));
  EXPECT_TRUE(m("not fast", t));
  EXPECT_FALSE(m("slow and not db", t));
  EXPECT_TRUE(m("(fast or slow) and db", t));
  EXPECT_FALSE(m("fast", make_test("t.py::test_b")));
}

TEST(MarkMatcher, KeywordArgumentsCompareAsPythonValues) {
  TestCase t = make_test("t.py::test_a", {{"device", {}, {{"kind", "'gpu'"}, {"count", "2"}, {"fast", "True"}}},
                                          {"device", {}, {{"kind", "\"cpu\""}, {"count", "1.0"}, {"opt", "None"}}}});
  EXPECT_TRUE(m("device(kind='gpu')", t));
  EXPECT_TRUE(m("device(kind=\"cpu\")", t));
  EXPECT_TRUE(m("device(kind='gpu', count=2)", t));
  EXPECT_FALSE(m("device(kind='gpu', count=1)", t));  // all kwargs of one marker
  EXPECT_TRUE(m("device(count=1)", t));               // 1.0 == 1
  EXPECT_TRUE(m("device(fast=1)", t));                // True == 1
  EXPECT_TRUE(m("device(fast=True)", t));
  EXPECT_TRUE(m("device(opt=None)", t));
  EXPECT_FALSE(m("device(missing=None)", t));  // absent is not None
  EXPECT_FALSE(m("device(kind='tpu')", t));
  EXPECT_FALSE(m("other(kind='gpu')", t));
}

TEST(Literals, PythonEquality) {
  using K = KwargValue::Kind;
  const std::tuple<const char*, KwargValue, bool> cases[] = {
      {"'x'", {K::kString, "x"}, true},
      {"\"x\"", {K::kString, "x"}, true},
      {"'''x'''", {K::kString, "x"}, true},
      {"r'a\\b'", {K::kString, "a\\b"}, true},
      {"'a\\tb'", {K::kString, "a\tb"}, true},
      {"'\\x41\\u00e9'", {K::kString, "A\xc3\xa9"}, true},
      {"'a' \"b\"", {K::kString, "ab"}, true},
      {"b'x'", {K::kString, "x"}, false},
      {"f'x'", {K::kString, "x"}, true},
      {"f'{x}'", {K::kString, "{x}"}, false},
      {"x", {K::kString, "x"}, false},  // a name: its value is unknown statically
      {"'1'", {K::kInt, "1"}, false},
      {"1", {K::kInt, "1"}, true},
      {"1_000", {K::kInt, "1000"}, true},
      {"0x10", {K::kInt, "16"}, true},
      {"-5", {K::kInt, "-5"}, true},
      {"(3)", {K::kInt, "3"}, true},
      {"2.0", {K::kInt, "2"}, true},
      {"2.5", {K::kInt, "2"}, false},
      {"1e3", {K::kInt, "1000"}, true},
      {"True", {K::kInt, "1"}, true},
      {"1", {K::kBool, "True"}, true},
      {"0", {K::kBool, "False"}, true},
      {"False", {K::kBool, "False"}, true},
      {"None", {K::kNone, "None"}, true},
      {"0", {K::kNone, "None"}, false},
      {"123456789012345678901234567890", {K::kInt, "123456789012345678901234567890"}, true},
  };
  for (const auto& [literal, value, expected] : cases) {
    EXPECT_EQ(literal_equals(literal, value), expected) << literal << " vs " << value.text;
  }
}

}  // namespace
}  // namespace dxpy::select
