// Table tests after pytest's testing/test_mark_expression.py; every expected message and
// column was taken from the installed pytest 9.
#include "dxpy/select/expression.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace dxpy::select {
namespace {

// Matches the identifiers in `truthy`, and records what it was asked.
struct Recorder {
  std::set<std::string> truthy;
  mutable std::vector<std::pair<std::string, std::vector<Kwarg>>> calls;
  Expected<bool> operator()(std::string_view name, const std::vector<Kwarg>& kwargs) const {
    calls.emplace_back(std::string(name), kwargs);
    return truthy.count(std::string(name)) > 0;
  }
};

bool eval(std::string_view input, std::set<std::string> truthy = {"true"}) {
  auto e = Expression::compile(input);
  EXPECT_TRUE(e) << input << ": " << (e ? "" : e.error().message);
  if (!e) return false;
  Recorder r{std::move(truthy), {}};
  auto v = e->evaluate(Matcher(std::cref(r)));
  EXPECT_TRUE(v);
  return v && *v;
}

TEST(Expression, EmptyIsFalse) {
  EXPECT_FALSE(eval(""));
  EXPECT_FALSE(eval("   "));
  EXPECT_FALSE(eval("\t"));
}

TEST(Expression, BooleanSemanticsAndPrecedence) {
  const std::pair<const char*, bool> cases[] = {
      {"true", true},
      {"false", false},
      {"not true", false},
      {"not false", true},
      {"not not true", true},
      {"not not not true", false},
      {"true and true", true},
      {"true and false", false},
      {"false and true", false},
      {"true or false", true},
      {"false or false", false},
      {"(not true) and true", false},
      {"not true and true", false},  // not binds tighter than and
      {"not (true and false)", true},
      {"true or false and false", true},  // and binds tighter than or
      {"(true or false) and false", false},
      {"false or not false and true", true},
      {"not not not not true", true},
      {"not not not not not true", false},
      {"               true           ", true},
      {" ((((((true)))))) ", true},
      {"     (     ((\t  (((true)))))  \t   \t)", true},
      {"(     true     and   (((false))))", false},
      {"true and (false or (not false and true))", true},
  };
  for (auto [input, expected] : cases) EXPECT_EQ(eval(input), expected) << input;
}

TEST(Expression, AndOrChainsAreFlatAndShortCircuit) {
  auto e = Expression::compile("a or b or c and d and e");
  ASSERT_TRUE(e);
  const auto& root = e->nodes()[e->root()];
  EXPECT_EQ(root.kind, Expression::Kind::kOr);
  ASSERT_EQ(root.children.size(), 3u);
  EXPECT_EQ(e->nodes()[root.children[2]].kind, Expression::Kind::kAnd);
  EXPECT_EQ(e->nodes()[root.children[2]].children.size(), 3u);

  Recorder r{{"a"}, {}};
  ASSERT_TRUE(e->evaluate(Matcher(std::cref(r))));
  ASSERT_EQ(r.calls.size(), 1u);  // `a` decided it
  EXPECT_EQ(r.calls[0].first, "a");
}

TEST(Expression, IdentifierCharacters) {
  for (const char* ident : {".", "...", ":::", "a:::c", "a+-b", "\xd7\x90\xd7\x91\xd7\x92\xd7\x93",
                            "aa\xd7\x90\xd7\x91\xd7\x92\xd7\x93" "cc", "a[bcd]", "1234", "1234abcd", "1234and",
                            "notandor", "not_and_or", "not[and]or", "1[2]3[4]5", "123.232", "True", "False",
                            "None", "if", "else", "while", "a/b/test_x.py::T::t[1-2]", "\\nfoo\\n"}) {
    EXPECT_TRUE(eval(ident, {ident})) << ident;
    EXPECT_FALSE(eval(ident, {})) << ident;
  }
  // A backslash is an ordinary identifier character outside string literals.
  EXPECT_FALSE(eval("\\nfoo\\n", {"\nfoo\n"}));
}

TEST(Expression, SyntaxErrorsMatchPytest) {
  const std::pair<const char*, const char*> cases[] = {
      {"(", "(: at column 2: expected not OR left parenthesis OR identifier; got end of input"},
      {" (", " (: at column 3: expected not OR left parenthesis OR identifier; got end of input"},
      {")", "): at column 1: expected not OR left parenthesis OR identifier; got right parenthesis"},
      {") ", ") : at column 1: expected not OR left parenthesis OR identifier; got right parenthesis"},
      {"not", "not: at column 4: expected not OR left parenthesis OR identifier; got end of input"},
      {"not not", "not not: at column 8: expected not OR left parenthesis OR identifier; got end of input"},
      {"(not)", "(not): at column 5: expected not OR left parenthesis OR identifier; got right parenthesis"},
      {"and", "and: at column 1: expected not OR left parenthesis OR identifier; got and"},
      {"ident and", "ident and: at column 10: expected not OR left parenthesis OR identifier; got end of input"},
      {"ident and or", "ident and or: at column 11: expected not OR left parenthesis OR identifier; got or"},
      {"ident ident", "ident ident: at column 7: expected end of input; got identifier"},
      {"a $", "a $: at column 3: unexpected character \"$\""},
      {"( a $", "( a $: at column 5: unexpected character \"$\""},
      {"a ^ b", "a ^ b: at column 3: unexpected character \"^\""},
      {"\xe2\x86\x90", "\xe2\x86\x90: at column 1: unexpected character \"\xe2\x86\x90\""},
      {"'x'", "'x': at column 1: expected not OR left parenthesis OR identifier; got string literal"},
      {"m(a='x\\y')", "m(a='x\\y'): at column 7: escaping with \"\\\" not supported in marker expression"},
      {"m(a=\"x)", "m(a=\"x): at column 5: closing quote \"\"\" is missing"},
      {"m(1)", "m(1): at column 3: not a valid python identifier 1"},
      {"m(a)", "m(a): at column 4: expected =; got right parenthesis"},
      {"m(a=b)", "m(a=b): at column 5: unexpected character/s \"b\""},
      {"m(if=1)", "m(if=1): at column 3: unexpected reserved python keyword `if`"},
      {"m(a-b=1)", "m(a-b=1): at column 3: not a valid python identifier a-b"},
      {"m(a=1", "m(a=1: at column 6: expected right parenthesis; got end of input"},
      {"m()", "m(): at column 3: expected identifier; got right parenthesis"},
      {"m(a=1,)", "m(a=1,): at column 7: expected identifier; got right parenthesis"},
      {"m(a=1 b=2)", "m(a=1 b=2): at column 7: expected right parenthesis; got identifier"},
      {"a or (b", "a or (b: at column 8: expected right parenthesis; got end of input"},
      {"a or b)", "a or b): at column 7: expected end of input; got right parenthesis"},
      {"ab=c", "ab=c: at column 3: expected end of input; got ="},
      {"(a)(b=1)", "(a)(b=1): at column 4: expected end of input; got left parenthesis"},
      {"\xc3\xa9\xc3\xa9 $", "\xc3\xa9\xc3\xa9 $: at column 4: unexpected character \"$\""},  // columns count characters
      {"m(a=1, a=2)", "None: at column 1: keyword argument repeated: a"},
      {"m(__debug__=1)", "None: at column 1: cannot assign to __debug__"},
      {"m(a=1, __debug__=1, a=2)", "None: at column 1: keyword argument repeated: a"},
      {"a(b=1) or c(d=1, d=2)", "None: at column 1: keyword argument repeated: d"},
      {"m(a='x\\\")", "m(a='x\\\"): at column 5: closing quote \"'\" is missing"},
      {"a\\b or m(x='y')", "a\\b or m(x='y'): at column 2: escaping with \"\\\" not supported in marker expression"},
      {"m(1$", "m(1$: at column 4: unexpected character \"$\""},  // the lexer runs one token ahead
      {"m(a=-)", "m(a=-): at column 5: unexpected character/s \"-\""},
      {"not (a or", "not (a or: at column 10: expected not OR left parenthesis OR identifier; got end of input"},
      {"x(y=1)(z=2)", "x(y=1)(z=2): at column 7: expected end of input; got left parenthesis"},
  };
  for (auto [input, message] : cases) {
    auto e = Expression::compile(input, "-k");
    ASSERT_FALSE(e) << input;
    EXPECT_EQ(e.error().code, Errc::kUsage);
    EXPECT_EQ(e.error().message, std::string("Wrong expression passed to '-k': ") + message) << input;
  }
  auto m = Expression::compile("a and", "-m");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message.rfind("Wrong expression passed to '-m': a and: at column 6", 0), 0u);
}

TEST(Expression, DeepNestingIsALimitNotACrash) {
  std::string deep = std::string(100000, '(') + "a" + std::string(100000, ')');
  auto e = Expression::compile(deep);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::kLimit);
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_FALSE(Expression::compile(nots + "a"));
  std::string wide = "a";
  for (int i = 0; i < 100000; ++i) wide += " or a";
  EXPECT_TRUE(eval(wide, {"a"}));  // long chains are flat, not deep
}

TEST(Expression, KeywordArguments) {
  auto e = Expression::compile("m(a=1, b='x y', c=\"q\", d=True, e=False, f=None, g=-007, h=-0)");
  ASSERT_TRUE(e) << e.error().message;
  Recorder r{{"m"}, {}};
  ASSERT_TRUE(e->evaluate(Matcher(std::cref(r))));
  ASSERT_EQ(r.calls.size(), 1u);
  using K = KwargValue::Kind;
  EXPECT_EQ(r.calls[0].second, (std::vector<Kwarg>{{"a", {K::kInt, "1"}},
                                                   {"b", {K::kString, "x y"}},
                                                   {"c", {K::kString, "q"}},
                                                   {"d", {K::kBool, "True"}},
                                                   {"e", {K::kBool, "False"}},
                                                   {"f", {K::kNone, "None"}},
                                                   {"g", {K::kInt, "-7"}},
                                                   {"h", {K::kInt, "0"}}}));
  // Soft keywords and '_' are fine as names.
  EXPECT_TRUE(Expression::compile("m(match=1, _=2, case=3, a1=4)"));
}

TEST(Expression, OptionHandling) {
  auto k = compile_keyword_option("   ");
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->has_value());  // -k with only blanks selects everything
  auto k2 = compile_keyword_option("  a b");
  ASSERT_FALSE(k2);
  EXPECT_EQ(k2.error().message, "Wrong expression passed to '-k': a b: at column 3: expected end of input; got identifier");

  auto m = compile_mark_option("");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->has_value());
  auto m2 = compile_mark_option(" ");
  ASSERT_TRUE(m2);
  ASSERT_TRUE(m2->has_value());  // " " is an empty expression: it deselects everything
  Recorder r{{"x"}, {}};
  auto v = (*m2)->evaluate(Matcher(std::cref(r)));
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
}

TEST(Expression, MatcherErrorsPropagate) {
  auto e = Expression::compile("a or m(x=1)");
  ASSERT_TRUE(e);
  Matcher failing = [](std::string_view name, const std::vector<Kwarg>& kwargs) -> Expected<bool> {
    if (!kwargs.empty()) return make_error(Errc::kUsage, "no kwargs");
    return name == "a";
  };
  EXPECT_TRUE(*e->evaluate(failing));  // short-circuited before m(x=1)
  auto e2 = Expression::compile("b or m(x=1)");
  ASSERT_TRUE(e2);
  auto v = e2->evaluate(failing);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message, "no kwargs");
}

}  // namespace
}  // namespace dxpy::select
