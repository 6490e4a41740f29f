// The scanner against hand-written cases and against tree-sitter on generated modules.
// Each case that parses is also checked against the tree-sitter front end.
#include "dxpy/discovery/scanner.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dxpy/discovery/ts_outline.h"

namespace dxpy::discovery {

void PrintTo(const Outline& o, std::ostream* os) { *os << "\n" << describe(o); }

namespace {

// Both front ends, which must agree; returns the scanner's outline.
Outline outline(std::string_view src) {
  Outline a = scan_outline(src);
  Outline b = outline_with_tree_sitter(src);
  EXPECT_EQ(first_difference(a, b), "") << "scanner:\n"
                                         << describe(a) << "tree-sitter:\n"
                                         << describe(b) << "source:\n"
                                         << src;
  EXPECT_TRUE(a.errors.empty()) << describe(a);
  return a;
}

std::vector<std::string> names(const std::vector<Def>& defs) {
  std::vector<std::string> out;
  for (const auto& d : defs) out.push_back(d.name);
  return out;
}

using Strings = std::vector<std::string>;

// ---- definitions ------------------------------------------------------------------------

TEST(Scanner, FunctionsWithLinesKindsAndParams) {
  auto o = outline(
      "import pytest\n"
      "\n"
      "def test_one(): pass\n"
      "async def test_two(tmp_path, /, a, b=1, *args, c: int, d: 'x' = 2, **kwargs) -> None:\n"
      "    await thing()\n"
      "def sep(a, *, b, c=lambda x, y=(1, 2): x, d=f(1, key=2), e: dict[str, int] = {}): ...\n"
      "def ann(self: 'A', *args: *Ts, **kw: Unpack[K]) -> (lambda: 1): return 1\n");
  ASSERT_EQ(o.defs.size(), 4u);
  EXPECT_EQ(o.defs[0].name, "test_one");
  EXPECT_EQ(o.defs[0].line, 3u);
  EXPECT_EQ(o.defs[0].kind, DefKind::kFunction);
  EXPECT_EQ(o.defs[1].kind, DefKind::kAsyncFunction);
  EXPECT_EQ(o.defs[1].line, 4u);
  EXPECT_EQ(o.defs[1].params, (Strings{"tmp_path", "a", "b", "args", "c", "d", "kwargs"}));
  EXPECT_EQ(o.defs[2].params, (Strings{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(o.defs[3].params, (Strings{"self", "args", "kw"}));
  EXPECT_FALSE(o.defs[0].conditional);
}

TEST(Scanner, DecoratorsWithMultiLineArgumentsAndComments) {
  auto o = outline(
      "@pytest.mark.parametrize(\n"
      "    \"a, b\",  # names\n"
      "    [(1, 2),\n"
      "     (3,   4)],   # values\n"
      ")\n"
      "# between\n"
      "\n"
      "@ pytest . fixture  # spaced\n"
      "@deco(\"  two  blanks  \")\n"
      "def test_p(a, b): pass\n");
  ASSERT_EQ(o.defs.size(), 1u);
  const Def& d = o.defs[0];
  EXPECT_EQ(d.line, 10u);
  ASSERT_EQ(d.decorators.size(), 3u);
  EXPECT_EQ(d.decorators[0].text, "pytest.mark.parametrize( \"a, b\", [(1, 2), (3, 4)], )");
  EXPECT_EQ(d.decorators[0].line, 1u);
  EXPECT_EQ(d.decorators[1].text, "pytest . fixture");
  EXPECT_EQ(d.decorators[1].line, 8u);
  EXPECT_EQ(d.decorators[2].text, "deco(\"  two  blanks  \")");
}

TEST(Scanner, ClassesBasesBodiesAndNesting) {
  auto o = outline(
      "class TestA(Base, mod.Mixin[int], *extra, metaclass=Meta, **kw):\n"
      "    \"\"\"Doc with def test_fake(): and class Fake:\"\"\"\n"
      "    pytestmark = [pytest.mark.slow]\n"
      "    x: int = 3\n"
      "    y: int\n"
      "    def test_m(self):\n"
      "        def inner(): pass\n"
      "        class Local: pass\n"
      "    @staticmethod\n"
      "    async def test_s(): pass\n"
      "    class TestInner(\n"
      "        TestA.Base,  # comment\n"
      "    ):\n"
      "        __test__ = False\n"
      "        def test_deep(self): pass\n"
      "class Empty(): pass\n"
      "class Inline: a = 1; b = 2\n");
  ASSERT_EQ(names(o.defs), (Strings{"TestA", "Empty", "Inline"}));
  const Def& a = o.defs[0];
  EXPECT_EQ(a.kind, DefKind::kClass);
  EXPECT_EQ(a.bases, (Strings{"Base", "mod.Mixin[int]", "*extra"}));
  EXPECT_EQ(names(a.body), (Strings{"test_m", "test_s", "TestInner"}));
  ASSERT_EQ(a.assignments.size(), 2u);
  EXPECT_EQ(a.assignments[0].name, "pytestmark");
  EXPECT_EQ(a.assignments[0].value, "[pytest.mark.slow]");
  EXPECT_EQ(a.assignments[0].line, 3u);
  EXPECT_EQ(a.assignments[1].value, "3");
  EXPECT_EQ(a.body[1].decorators[0].text, "staticmethod");
  EXPECT_EQ(a.body[2].bases, (Strings{"TestA.Base"}));
  EXPECT_EQ(a.body[2].assignments[0].value, "False");
  EXPECT_EQ(names(a.body[2].body), (Strings{"test_deep"}));
  EXPECT_TRUE(o.defs[1].bases.empty());
  EXPECT_EQ(o.defs[2].assignments.size(), 2u);
}

TEST(Scanner, ConditionalDefsInCompoundBlocks) {
  auto o = outline(
      "if sys.version_info >= (3, 8):\n"
      "    def a(): pass\n"
      "    flag = 1\n"
      "elif x:\n"
      "    def b(): pass\n"
      "else:\n"
      "    class C:\n"
      "        def m(self): pass\n"
      "try:\n"
      "    def d(): pass\n"
      "except ImportError:\n"
      "    def e(): pass\n"
      "else:\n"
      "    def f(): pass\n"
      "finally:\n"
      "    def g(): pass\n"
      "with ctx() as c:\n"
      "    def h(): pass\n"
      "for i in range(3):\n"
      "    while True:\n"
      "        def i(): pass\n"
      "match command.split():\n"
      "    case [\"go\", direction] if direction:\n"
      "        def j(): pass\n"
      "    case {\"k\": 1} | Point(x=0):\n"
      "        pass\n"
      "    case _:\n"
      "        def k(): pass\n"
      "class T:\n"
      "    if True:\n"
      "        def test_c(self): pass\n"
      "        attr = 1\n"
      "def top(): pass\n");
  ASSERT_EQ(names(o.defs), (Strings{"a", "b", "C", "d", "e", "f", "g", "h", "i", "j", "k", "T", "top"}));
  for (size_t i = 0; i + 2 < o.defs.size(); ++i) EXPECT_TRUE(o.defs[i].conditional) << o.defs[i].name;
  EXPECT_FALSE(o.defs[11].conditional);
  EXPECT_FALSE(o.defs[12].conditional);
  EXPECT_FALSE(o.defs[2].body[0].conditional);  // a method of a conditional class
  EXPECT_TRUE(o.defs[11].body[0].conditional);
  EXPECT_TRUE(o.assignments.empty());
  EXPECT_TRUE(o.defs[11].assignments.empty());
}

TEST(Scanner, SoftKeywordsAsNames) {
  auto o = outline(
      "match = 1\n"
      "case = 2\n"
      "type = 3\n"
      "match(x)\n"
      "match.attr = 4\n"
      "type X = int\n"
      "print: int = 5\n"
      "_ = 6\n");
  std::vector<std::string> got;
  for (const auto& a : o.assignments) got.push_back(a.name);
  EXPECT_EQ(got, (Strings{"match", "case", "type", "print", "_"}));
}

// ---- what must not be taken for code ----------------------------------------------------

TEST(Scanner, StringsAndCommentsHideDefinitions) {
  auto o = outline(
      "s1 = 'def test_a(): pass'\n"
      "s2 = \"class TestB:\\n    def test_c(self): pass\"\n"
      "s3 = '''\n"
      "def test_d():\n"
      "    import os\n"
      "'''\n"
      "s4 = r\"\"\"\\\"\"\"\n"
      "def test_e(): ...\n"
      "\"\"\"\n"
      "s5 = b'import sys' + rb'\\'' + BR\"x\" + Rb'''y''' + u'z' + U\"w\"\n"
      "# def test_f(): pass\n"
      "# import json\n"
      "x = 1  # class TestG:\n"
      "def real(): pass\n");
  ASSERT_EQ(names(o.defs), (Strings{"real"}));
  EXPECT_TRUE(o.imports.empty());
  ASSERT_EQ(o.assignments.size(), 6u);
  EXPECT_EQ(o.assignments[3].value, "r\"\"\"\\\"\"\"\ndef test_e(): ...\n\"\"\"");
  EXPECT_EQ(o.assignments[5].value, "1");
  EXPECT_EQ(o.defs[0].line, 14u);
}

TEST(Scanner, FStrings) {
  auto o = outline(
      "a = f\"{x} {y!r:>{width}} {{literal}} {z=}\"\n"
      "b = f'{d[\"key\"]}' + F\"{'def test_x(): pass'}\"\n"
      "c = f\"{f\"{f\"{1}\"}\"}\"\n"
      "d = rf\"\\{x}\" + fr'\\d{n}' + f\"\\N{BULLET} {x}\"\n"
      "e = f\"\"\"\n"
      "def test_no(): {\n"
      "    value  # a comment in a replacement field\n"
      "}\n"
      "\"\"\"\n"
      "g = f\"{x:{'>'}10}\" + f\"{ {'a': 1}['a'] }\" + f\"{(lambda: 1)()}\" + f\"{a!=b}\"\n"
      "def after(): pass\n");
  ASSERT_EQ(names(o.defs), (Strings{"after"}));
  EXPECT_EQ(o.defs[0].line, 11u);
  ASSERT_EQ(o.assignments.size(), 6u);
  EXPECT_EQ(o.assignments[2].value, "f\"{f\"{f\"{1}\"}\"}\"");
}

TEST(Scanner, BackslashContinuations) {
  auto o = outline(
      "x = 1 + \\\n"
      "    2\n"
      "def f(a, \\\n"
      "      b): pass\n"
      "if a and \\\n"
      "   b:\n"
      "    def g(): pass\n"
      "@deco \\\n"
      "  .attr\n"
      "def h(): pass\n"
      "import a, \\\n"
      "    b\n");
  ASSERT_EQ(o.assignments.size(), 1u);
  EXPECT_EQ(o.assignments[0].value, "1 + 2");
  ASSERT_EQ(names(o.defs), (Strings{"f", "g", "h"}));
  EXPECT_EQ(o.defs[0].params, (Strings{"a", "b"}));
  EXPECT_TRUE(o.defs[1].conditional);
  EXPECT_EQ(o.defs[2].decorators[0].text, "deco .attr");
  EXPECT_EQ(o.defs[2].line, 10u);
  ASSERT_EQ(o.imports.size(), 2u);
  EXPECT_EQ(o.imports[1].line, 11u);
}

TEST(Scanner, UnicodeIdentifiers) {
  auto o = outline(
      "def tëst_ünïcode(ä, 名前): pass\n"
      "class Ωmega:\n"
      "    π = 3.14\n"
      "    def test_λ(self): pass\n"
      "σ = 'ß'\n");
  ASSERT_EQ(names(o.defs), (Strings{"tëst_ünïcode", "Ωmega"}));
  EXPECT_EQ(o.defs[0].params, (Strings{"ä", "名前"}));
  EXPECT_EQ(o.defs[1].assignments[0].name, "π");
  EXPECT_EQ(names(o.defs[1].body), (Strings{"test_λ"}));
  EXPECT_EQ(o.assignments[0].value, "'ß'");
}

// ---- assignments --------------------------------------------------------------------------

TEST(Scanner, AssignmentsAtBodyLevelOnly) {
  auto o = outline(
      "a = 1\n"
      "b: int = 2  # comment\n"
      "c: int\n"
      "d = e = 3\n"
      "f += 1\n"
      "g.h = 4\n"
      "i[0] = 5\n"
      "j, k = 6, 7\n"
      "l = [\n"
      "    1,  # one\n"
      "    2,\n"
      "]\n"
      "m = 1; n = 2;\n"
      "o = x == y\n"
      "p = lambda q=1: q\n"
      "(r := 8)\n"
      "s = yield\n"
      "def fn():\n"
      "    t = 9\n");
  std::vector<std::string> got;
  for (const auto& a : o.assignments) got.push_back(a.name + "=" + a.value);
  EXPECT_EQ(got, (Strings{"a=1", "b=2", "d=e = 3", "l=[ 1, 2, ]", "m=1", "n=2", "o=x == y", "p=lambda q=1: q",
                          "s=yield"}));
  EXPECT_EQ(o.assignments[3].line, 9u);
}

// ---- imports ------------------------------------------------------------------------------

TEST(Scanner, ImportsOfEveryForm) {
  auto o = outline(
      "import os\n"
      "import a.b.c as d, e\n"
      "import f . g\n"
      "from . import h\n"
      "from .. i import j as k, l\n"
      "from ...m.n import (\n"
      "    o,  # comment\n"
      "    p as q,\n"
      ")\n"
      "from .... import *\n"
      "from __future__ import annotations\n"
      "from r import *\n"
      "if TYPE_CHECKING:\n"
      "    import s\n"
      "try:\n"
      "    import t\n"
      "except ImportError: import u\n"
      "def fn():\n"
      "    from v import w\n"
      "    if x: import y; import z\n"
      "class C:\n"
      "    import aa\n"
      "x = 1; import bb\n");
  std::vector<std::string> got;
  for (const auto& i : o.imports) {
    std::string s = std::to_string(i.line) + ":" + std::string(i.level, '.') + i.module;
    if (!i.alias.empty()) s += " as " + i.alias;
    for (size_t k = 0; k < i.names.size(); ++k)
      s += " " + i.names[k] + (i.aliases.empty() || i.aliases[k].empty() ? "" : " as " + i.aliases[k]);
    EXPECT_TRUE(i.aliases.empty() || i.aliases.size() == i.names.size());
    if (i.nested) s += " (nested)";
    got.push_back(s);
  }
  EXPECT_EQ(got, (Strings{"1:os",
                          "2:a.b.c as d",
                          "2:e",
                          "3:f.g",
                          "4:. h",
                          "5:..i j as k l",
                          "6:...m.n o p as q",
                          "10:.... *",
                          "11:__future__ annotations",
                          "12:r *",
                          "14:s (nested)",
                          "16:t (nested)",
                          "17:u (nested)",
                          "19:v w (nested)",
                          "20:y (nested)",
                          "20:z (nested)",
                          "22:aa (nested)",
                          "23:bb"}));
}

// ---- layout -------------------------------------------------------------------------------

TEST(Scanner, LineEndingsTabsFormFeedsAndBom) {
  auto o = outline("x = 1\r\ndef f():\r\n    import a\r\n\r\nclass C:\r\n    y = 2\r\n");
  EXPECT_EQ(names(o.defs), (Strings{"f", "C"}));
  EXPECT_EQ(o.defs[1].line, 5u);
  EXPECT_EQ(o.defs[1].assignments[0].value, "2");
  o = outline("class C:\n\tdef f(self):\n\t\tpass\n\tdef g(self):\n\t\tpass\n\x0c\ndef h(): pass");
  EXPECT_EQ(names(o.defs[0].body), (Strings{"f", "g"}));
  EXPECT_EQ(o.defs[1].line, 7u);
  o = scan_outline("\xEF\xBB\xBF" "def f(): pass\n");
  EXPECT_EQ(names(o.defs), (Strings{"f"}));
  EXPECT_EQ(scan_outline(""), Outline{});
  EXPECT_EQ(outline("# only a comment"), Outline{});
  EXPECT_EQ(outline("\n\n   \n"), Outline{});
}

TEST(Scanner, CommentsAtAnyIndentation) {
  auto o = outline(
      "class A:\n"
      "    def f(self):\n"
      "        pass\n"
      "# flush left\n"
      "            # deep\n"
      "    def g(self):\n"
      "        pass\n");
  EXPECT_EQ(names(o.defs[0].body), (Strings{"f", "g"}));
}

TEST(Fold, CommentsLineBreaksAndBlanks) {
  EXPECT_EQ(fold_source_text("  a(\n    1,  # one\n    2)  "), "a( 1, 2)");
  EXPECT_EQ(fold_source_text("x \\\n  + y"), "x + y");
  EXPECT_EQ(fold_source_text("'a  #  b'  # c"), "'a  #  b'");
  EXPECT_EQ(fold_source_text("f'{x  #  y}'"), "f'{x  #  y}'");
  EXPECT_EQ(fold_source_text("\"\"\"a\n\n  b\"\"\"\t+\tc"), "\"\"\"a\n\n  b\"\"\" + c");
  EXPECT_EQ(fold_source_text("rb'\\''   x"), "rb'\\'' x");
  EXPECT_EQ(fold_source_text("'unterminated   x"), "'unterminated   x");
  EXPECT_EQ(fold_source_text(""), "");
}

// ---- syntax errors ------------------------------------------------------------------------

struct BrokenCase {
  const char* name;
  std::string_view source;
  uint32_t line;
  uint32_t tree_sitter_line;  // 0: tree-sitter's grammar ignores indentation errors
};

class Broken : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(Broken, IsReportedOnItsLine) {
  const BrokenCase& c = GetParam();
  Outline o = scan_outline(c.source);
  ASSERT_EQ(o.errors.size(), 1u) << describe(o);
  EXPECT_EQ(o.errors[0].line, c.line) << o.errors[0].message;
  EXPECT_TRUE(o.defs.empty() && o.imports.empty() && o.assignments.empty());
  Outline t = outline_with_tree_sitter(c.source);
  EXPECT_EQ(t.errors.empty() ? 0u : t.errors[0].line, c.tree_sitter_line);
}

INSTANTIATE_TEST_SUITE_P(
    Scanner, Broken,
    ::testing::Values(
        BrokenCase{"unclosed_call", "import os\n\ndef test_a():\n    x = foo(1,\n\ndef test_b():\n    pass\n", 4, 4},
        BrokenCase{"unclosed_list", "def test():\n    x = [1, 2\n    y = 3\n", 2, 2},
        BrokenCase{"stray_paren", "x = 1\ny = 2)\nz = 3\n", 2, 2},
        BrokenCase{"mismatched", "def test():\n    assert foo(]\n", 2, 2},
        BrokenCase{"def_paren_colon", "import os\n\ndef f(:\n    pass\n", 3, 3},
        BrokenCase{"missing_colon", "def test_a()\n    pass\n", 1, 1},
        BrokenCase{"else_without_colon", "if x:\n    pass\nelse\n    pass\n", 3, 3},
        BrokenCase{"unterminated_triple", "import os\n\ndef test_a():\n    \"\"\"doc\n    pass\n\ndef b(): pass\n", 4,
                   4},
        BrokenCase{"unterminated_string", "x = 1\ny = \"abc\nz = 3\n", 2, 2},
        BrokenCase{"unterminated_fstring", "x = f\"abc{x\"\n", 1, 1},
        BrokenCase{"bare_import", "import\n", 1, 1},
        BrokenCase{"from_without_names", "from x import\n", 1, 1},
        BrokenCase{"class_without_name", "def test():\n    pass\n\nclass\n", 4, 4},
        BrokenCase{"unexpected_indent", "def test_a():\n    x = 1\n      y = 2\n", 3, 0},
        BrokenCase{"unindent_mismatch", "class A:\n    def f(self):\n        pass\n   def g(self):\n        pass\n", 4,
                    0},
        BrokenCase{"missing_block", "def test_a():\nx = 1\n", 2, 0},
        BrokenCase{"block_at_eof", "x = 1\nclass A:\n", 3, 0},
        BrokenCase{"decorator_alone", "@pytest.fixture\nx = 1\n", 2, 1},
        BrokenCase{"nul_byte", std::string_view("x = 1\ny = '\0'\n", 12), 2, 2},
        BrokenCase{"invalid_character", "x = 1\ny = $\n", 2, 2},
        // Caught by the checks on neighbouring tokens.
        BrokenCase{"misspelt_keyword", "def test():\n    asert x == 1\n", 2, 2},
        BrokenCase{"missing_comma", "def test():\n    f(a b)\n", 2, 2},
        BrokenCase{"trailing_operator", "x = 1 +\ny = 2\n", 1, 1},
        BrokenCase{"bare_assert", "assert\n", 1, 1},
        BrokenCase{"double_assign", "x = = 1\n", 1, 1},
        BrokenCase{"empty_argument", "x = f(1, ,2)\n", 1, 1},
        BrokenCase{"colon_in_call", "def test():\n    f(:3)\n", 2, 2},
        BrokenCase{"leading_semicolon", "x = 1\n;x = 2\n", 2, 2},
        BrokenCase{"lambda_bracket", "x = (lambda [a]: 1)\n", 1, 1},
        BrokenCase{"statement_keyword_in_expression", "def test():\n    x = return\n", 2, 0},
        // As CPython: a tokenizer error later in the file is the likelier cause.
        BrokenCase{"tokenizer_error_wins", "x = 1 +\ny = \"abc\n", 2, 1},
        BrokenCase{"invalid_utf8_in_string", "x = 1\ny = \"\xff\"\n", 2, 0}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

TEST(Scanner, ValidTokenSequencesAreNotErrors) {
  auto o = outline(
      "x = [*a, *b]; f(**k); g = lambda *a, **k: 0; h = lambda: 0\n"
      "x, = y\n"
      "a[1:, ::2]; a[:, 0]; a[...]; x = ...\n"
      "print(*a, sep='', end=\"\")\n"
      "async def co():\n"
      "    x = await y\n"
      "    z = [v async for v in w if not v in q]\n"
      "    async with a as b, c: pass\n"
      "def gen():\n"
      "    x = yield\n"
      "    yield from g\n"
      "    raise X from e\n"
      "x = y is not None and not z\n"
      "from . import (a)\n"
      "from ...b import c\n"
      "def f(a, /, *, b): ...\n"
      "class A(B, **kw): ...\n"
      "match x:\n"
      "    case [1, *_]: pass\n"
      "    case {**rest}: pass\n"
      "    case \"s\" | -1 | 1+2j: pass\n"
      "type X = int\n"
      "if x: pass\n"
      "elif y: pass\n"
      "else: pass\n"
      "global a, b; del a, b\n"
      "assert x, \"message\"\n"
      "with (a as b): pass\n"
      "try: pass\n"
      "except* E: pass\n"
      "s = \"a\" \"b\" f\"c\" rb'd'\n"
      "f(v for v in y)\n"
      "x = -1 ** -2 + ~a - (y := 2) if b else c\n"
      "n = 0x_ff + 1_000.5e-3j + .5 + 1. + 1 .real + 1if y else 2\n"
      "def r() -> 'T': return\n"
      "x: int = 1\n"
      "x = 1;\n");
  EXPECT_EQ(o.assignments.size(), 10u);
}

// The lexer reads names, strings and indentation several bytes at a time where the
// source has them: every length, near the end of the input or not.
TEST(Scanner, NamesStringsAndIndentationAtEveryLengthAndPosition) {
  const Strings words = {"x",         "ab",        "abc",     "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnopq",
                         "nonlocal_", "continue_", "lambda_", "defx",    "classy",   "importer"};
  const Strings tails = {"", "\n", " \n", "\n# c\n"};
  for (const std::string& w : words) {
    for (const std::string& tail : tails) {
      std::string src = "class TestA:\n    " + w + " = 1\n    def test_m(self):\n        return " + w + tail;
      Outline o = outline(src);
      ASSERT_EQ(o.defs.size(), 1u) << src;
      ASSERT_EQ(o.defs[0].assignments.size(), 1u) << src;
      EXPECT_EQ(o.defs[0].assignments[0].name, w);
      src = w + " = " + w + tail;
      o = outline(src);
      ASSERT_EQ(o.assignments.size(), 1u) << src;
      EXPECT_EQ(o.assignments[0].value, w);
    }
  }
  // Eight-byte keywords, with and without eight more bytes after them.
  for (const std::string tail : {"", "\n", "\n        x = 1\n"}) {
    std::string src = "def test_k():\n    for i in y:\n        continue" + tail;
    EXPECT_EQ(outline(src).defs.size(), 1u) << src;
    src = "def test_k():\n    x = continue" + tail;
    Outline o = scan_outline(src);
    ASSERT_EQ(o.errors.size(), 1u) << src;
    EXPECT_EQ(o.errors[0].line, 2u);
    src = "def test_k():\n    def inner():\n        nonlocal y\n        y = nonlocal" + tail;
    o = scan_outline(src);
    ASSERT_EQ(o.errors.size(), 1u) << src;
    EXPECT_EQ(o.errors[0].line, 4u);
  }
  // String literals: empty, plain short and long, escaped, triple-quoted, at the very end.
  const Strings values = {R"('')",          R"("")",          R"('''''')",        R"('x')",
                          R"("a much longer plain string literal")", R"('a\'b')", "'''a\nb'''",
                          R"(b'\x00')",     R"(rb'\\')",       R"(f'{x!r:>{w}}')", R"('#')",
                          R"('a' 'b')"};
  for (const std::string& value : values) {
    for (const std::string tail : {"", "\n", "  # c\n"}) {
      std::string src = "v = " + value + tail;
      Outline o = outline(src);
      ASSERT_EQ(o.assignments.size(), 1u) << src;
      EXPECT_EQ(o.assignments[0].value, value);
    }
  }
  for (const char* src : {"v = 'abc", "v = 'abc\n", "v = ''' ", R"(v = "a\")", "v = 'a\\\n"}) {
    Outline o = scan_outline(src);
    ASSERT_EQ(o.errors.size(), 1u) << src;
    EXPECT_EQ(o.errors[0].line, 1u) << src;
  }
  // Numbers, as CPython's tokenizer splits them.
  Outline o =
      outline("a = 1if b else 2\nc = 0x1F + 0o17 + 0b101 + 1_000 + 1e-5 + 1.5j + 10. + .5 + 12345678901234567890\n");
  ASSERT_EQ(o.assignments.size(), 2u);
  EXPECT_EQ(o.assignments[0].value, "1if b else 2");
  // Indentation of every width up to well past eight spaces, and with tabs.
  std::string deep = "class TestD:\n";
  for (size_t width = 1; width <= 20; ++width)
    deep += "    def test_" + std::to_string(width) + "(self):\n" + std::string(4 + width, ' ') + "pass\n";
  o = outline(deep);
  ASSERT_EQ(o.defs.size(), 1u);
  EXPECT_EQ(o.defs[0].body.size(), 20u);
  o = outline("if x:\n\tdef a(): pass\n\tif y:\n\t\tdef b(): pass\n");
  EXPECT_EQ(names(o.defs), (Strings{"a", "b"}));
}

// Every prefix of some source, each in a buffer of its exact size: under AddressSanitizer a
// read past the end fails here (std::string keeps a byte to spare after its contents).
TEST(Scanner, ReadsNothingPastTheEnd) {
  const std::string full =
      "# comment\n        x = abcdefgh + 'plain' + \"\"\"doc\"\"\" + 12345 # c\nclass TestA(Base):\n    def test_m(self"
      "):\n        return continue_ + [f'{y!r}', b'\\x00']\n";
  for (size_t n = 0; n <= full.size(); ++n) {
    for (size_t offset : {0, 1}) {  // the source at an even and an odd address
      std::unique_ptr<char[]> exact(new char[offset + n]);
      std::memcpy(exact.get() + offset, full.data(), n);
      EXPECT_NO_FATAL_FAILURE(scan_outline(std::string_view(exact.get() + offset, n)));
    }
  }
}

TEST(Scanner, EncodingsAndComments) {
  Outline o = outline("# a comment need not be UTF-8: \xff\xfe\nx = 1\n");
  EXPECT_EQ(o.assignments.size(), 1u);
  o = outline("# -*- coding: latin-1 -*-\nx = \"caf\xe9\"\n");
  EXPECT_EQ(o.assignments[0].value, "\"caf\xe9\"");
  o = scan_outline("#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-15 :\nx = '\xa4'\n");
  EXPECT_TRUE(o.errors.empty());
  o = scan_outline("# coding: utf-8\nx = '\xa4'\n");
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_EQ(o.errors[0].line, 2u);
}

TEST(Scanner, NulByteInsideAString) {
  std::string src("x = 1\ny = '\0'\n", 12);
  Outline o = scan_outline(src);
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_EQ(o.errors[0].line, 2u);
}

TEST(Scanner, PathologicalInputsEndWithAnError) {
  EXPECT_FALSE(scan_outline(std::string(100000, '(')).errors.empty());
  EXPECT_FALSE(scan_outline(std::string(100000, '[') + std::string(100000, ']')).errors.empty());
  std::string fstrings;
  for (int i = 0; i < 5000; ++i) fstrings += "f\"{";
  EXPECT_FALSE(scan_outline(fstrings).errors.empty());
  std::string blocks;
  for (int i = 0; i < 500; ++i) blocks += std::string(static_cast<size_t>(i), ' ') + "if x:\n";
  EXPECT_FALSE(scan_outline(blocks).errors.empty());
  for (const char* s : {"\\", "'", "\"\"\"", "f'{", "f'{x:", "f'{x!", "rb'\\", "@", "def", "def f(", "class A(",
                        "from", "from .", "import a.", "\r", "\xff\xfe", "x = \\\n", "def f():\n  '''"})
    EXPECT_NO_FATAL_FAILURE(scan_outline(s)) << s;
}

// ---- properties ---------------------------------------------------------------------------

// Source with many Python-significant bytes, to reach the lexer's corners.
rc::Gen<std::string> pythonish_bytes() {
  static const std::vector<std::string> kPieces = {
      "def ", "class ", "async ", "if x", ":", "\n", "    ", "\t", "(", ")", "[", "]", "{", "}", "'", "\"",
      "'''", "\"\"\"", "f'", "rb\"", "f\"{", "}\"", "#", "\\", "\\\n", "@", "=", ",", ";", "import ", "from ",
      ".", "*", "**", "->", "lambda", "match ", "case ", "x", "test_a", "\r\n", "\x0c", "\0", "\xc3\xa9", "\xff"};
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(kPieces)),
                      [](const std::vector<std::string>& parts) {
                        std::string s;
                        for (const auto& p : parts) s += p;
                        return s;
                      });
}

RC_GTEST_PROP(ScannerProp, ArbitraryBytesNeverCrash, (const std::string& bytes)) {
  Outline o = scan_outline(bytes);
  RC_ASSERT(o.errors.size() <= 1u);
  (void)fold_source_text(bytes);
}

RC_GTEST_PROP(ScannerProp, PythonishBytesNeverCrash, ()) {
  std::string src = *pythonish_bytes();
  Outline o = scan_outline(src);
  RC_ASSERT(o.errors.size() <= 1u);
  if (!o.errors.empty()) RC_ASSERT(o.defs.empty() && o.imports.empty() && o.assignments.empty());
  (void)fold_source_text(src);
}

// Writes a random valid Python 3.12 module: definitions with decorators, parameters and
// bases, assignments, imports, compound blocks, strings that look like code, f-strings,
// comments, continuation lines. `pick(lo, hi)` returns a number in [lo, hi).
class ModuleWriter {
 public:
  explicit ModuleWriter(std::function<int(int, int)> pick) : pick_(std::move(pick)) {}

  std::string module() {
    unit_ = pick(0, 4) == 0 ? "\t" : pick(0, 2) ? "    " : "  ";
    std::string s;
    if (chance(30)) s += docstring("") + "\n";
    int n = pick(1, 12);
    for (int i = 0; i < n; ++i) statement(s, "", Where::kModule, 0);
    if (chance(20)) {
      std::string crlf;
      for (char c : s) c == '\n' ? void(crlf += "\r\n") : void(crlf += c);
      s = std::move(crlf);
    }
    if (chance(10) && !s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

 private:
  enum class Where { kModule, kClass, kFunction, kAsyncFunction };

  int pick(int lo, int hi) { return pick_(lo, hi); }
  bool chance(int percent) { return pick(0, 100) < percent; }
  template <class T>
  const T& one_of(const std::vector<T>& v) {
    return v[static_cast<size_t>(pick(0, static_cast<int>(v.size())))];
  }

  std::string name() {
    static const std::vector<std::string> kStarts = {"test_", "Test", "helper", "x", "_", "fix", "ñ", "π", "data"};
    static const std::string kRest = "abcxyz_019";
    std::string s = one_of(kStarts);
    int n = pick(0, 5);
    for (int i = 0; i < n; ++i) s += kRest[static_cast<size_t>(pick(0, static_cast<int>(kRest.size())))];
    return s + std::to_string(counter_++);
  }

  // A line break inside brackets: an optional comment, then a deeper indentation (never
  // shallower than the block: tree-sitter mis-parses some such lines).
  std::string bracket_break(const std::string& indent) {
    std::string s;
    if (chance(30)) s += "  # " + comment_text();
    return s + "\n" + indent + unit_ + std::string(static_cast<size_t>(pick(0, 6)), ' ');
  }
  std::string comment_text() {
    static const std::vector<std::string> kTexts = {"note", "def test_no(): pass", "class No:", "import os",
                                                    "'quote", "(", "\"\"\""};
    return one_of(kTexts);
  }

  // Separator between items in brackets.
  std::string sep(const std::string& indent, bool multiline) {
    if (multiline && chance(25)) return "," + bracket_break(indent);
    return chance(20) ? " , " : ", ";
  }

  std::string string_literal(const std::string& indent, int depth, bool multiline) {
    static const std::vector<std::string> kPrefixes = {"", "", "", "r", "b", "rb", "Rb", "BR", "u", "f", "F", "rf",
                                                       "fR", "t"};
    std::string prefix = one_of(kPrefixes);
    if (prefix == "t") prefix = "f";
    bool raw = prefix.find_first_of("rR") != std::string::npos;
    bool fmt = prefix.find_first_of("fF") != std::string::npos;
    bool bytes = prefix.find_first_of("bB") != std::string::npos;
    char q = chance(50) ? '\'' : '"';
    bool triple = multiline && chance(25);
    std::string quote = triple ? std::string(3, q) : std::string(1, q);
    std::string s = prefix + quote;
    int n = pick(0, 6);
    for (int i = 0; i < n; ++i) {
      switch (pick(0, 12)) {
        case 0: s += "def test_in_string(): pass"; break;
        case 1: s += "class InString:"; break;
        case 2: s += "# not a comment"; break;
        case 3: s += std::string("\\") + q; break;  // escaped quote, also valid raw
        case 4: s += q == '\'' ? "\"" : "'"; break;
        case 5: s += triple ? "\nsecond line\n" : "\\\\"; break;
        case 6: s += bytes ? "\\x00" : "\xc3\xa9"; break;
        case 7: s += fmt ? "{{" : "{"; break;
        case 8: s += fmt ? "}}" : "}"; break;
        case 9:
          if (fmt && depth < 2) s += "{" + field(indent, depth + 1, triple) + "}";
          break;
        case 10: s += raw ? "\\d" : "\\n"; break;
        default: s += " abc ";
      }
    }
    if (!s.empty() && s.back() == q) s += ' ';  // a quote right before the closing ones
    return s + quote;
  }

  // An f-string replacement field's contents.
  std::string field(const std::string& indent, int depth, bool multiline) {
    std::string e = expr(indent, depth + 1, multiline);
    if (!e.empty() && e[0] == '{') e = " " + e;
    if (multiline && chance(20)) return "\n" + indent + unit_ + e + "  # in a field\n" + indent;
    if (chance(15)) e += "=";
    if (chance(20)) e += one_of(std::vector<std::string>{"!r", "!s", "!a"});
    if (chance(20)) e += one_of(std::vector<std::string>{":>10", ":{width}", ":.{p}f", ":%Y-%m-%d"});
    return e;
  }

  std::string atom(const std::string& indent, int depth, bool multiline) {
    switch (pick(0, 8)) {
      case 0: return name();
      case 1: return one_of(std::vector<std::string>{"0", "12", "3.5", "1e-3", "0xFF", "1_000", "2j", ".5"});
      case 2: return one_of(std::vector<std::string>{"None", "True", "False", "..."});
      default: return string_literal(indent, depth, multiline);
    }
  }

  // An expression; `multiline`: line breaks are allowed inside its brackets.
  std::string expr(const std::string& indent, int depth, bool multiline) {
    if (depth > 3 || chance(35)) return atom(indent, depth, multiline);
    switch (pick(0, 14)) {
      case 0: {
        std::string s = name() + "(";
        int n = pick(0, 4);
        for (int i = 0; i < n; ++i) s += (i ? sep(indent, multiline) : "") + expr(indent, depth + 1, multiline);
        if (chance(30)) s += std::string(n ? ", " : "") + name() + "=" + expr(indent, depth + 1, multiline);
        return s + ")";
      }
      case 1: {
        std::string e = expr(indent, depth + 1, multiline);
        bool plain = cls_start(e[0]);
        return (plain ? e : "(" + e + ")") + "." + name();
      }
      case 2: return name() + "[" + expr(indent, depth + 1, multiline) + (chance(30) ? ":" : "") + "]";
      case 3:
      case 4: {
        const char* open = pick(0, 2) ? "[" : "(";
        std::string s = open;
        if (multiline && chance(30)) s += bracket_break(indent);
        int n = pick(0, 4);
        for (int i = 0; i < n; ++i) s += (i ? sep(indent, multiline) : "") + expr(indent, depth + 1, multiline);
        if (n == 1 && *open == '(') s += ",";
        else if (n && chance(30)) s += ",";
        return s + (*open == '[' ? "]" : ")");
      }
      case 5: {
        std::string s = "{";
        int n = pick(0, 3);
        for (int i = 0; i < n; ++i)
          s += (i ? sep(indent, multiline) : "") + string_literal(indent, depth + 1, multiline) + ": " +
               expr(indent, depth + 1, multiline);
        return s + "}";
      }
      case 6:
        return "(" + expr(indent, depth + 1, multiline) +
               one_of(std::vector<std::string>{" + ", " * ", " == ", " != ", " and ", " or ", " % ", " // "}) +
               expr(indent, depth + 1, multiline) + ")";
      case 7: return "-" + atom(indent, depth, multiline);
      case 8: return "(lambda " + name() + ", " + name() + "=1: " + expr(indent, depth + 1, multiline) + ")";
      case 9:
        return "(" + expr(indent, depth + 1, multiline) + " if " + expr(indent, depth + 1, multiline) + " else " +
               expr(indent, depth + 1, multiline) + ")";
      case 10: {
        std::string v = name();
        return "[" + v + " for " + v + " in " + expr(indent, depth + 1, multiline) + " if " + v + "]";
      }
      case 11: return "(not " + expr(indent, depth + 1, multiline) + ")";
      default: return string_literal(indent, depth, multiline);
    }
  }

  // Whether `.attr` may follow an expression starting with c without parentheses.
  static bool cls_start(char c) {
    return c == '_' || c == '\'' || c == '"' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           static_cast<unsigned char>(c) >= 0x80;
  }

  std::string docstring(const std::string& indent) {
    std::string q = chance(50) ? "\"\"\"" : "'''";
    return indent + (chance(30) ? "r" : "") + q + "Docstring.\n\n" + indent + "def test_in_doc(): pass\n" + indent +
           "class InDoc:\n" + indent + q;
  }

  std::string line_end() { return chance(15) ? "  # " + comment_text() + "\n" : "\n"; }

  void filler(std::string& s, const std::string& indent) {
    if (chance(15)) s += "\n";
    if (chance(10)) s += std::string(static_cast<size_t>(pick(0, 9)), ' ') + "# " + comment_text() + "\n";
    if (chance(5)) s += indent + "  \n";
  }

  std::string decorator(const std::string& indent) {
    switch (pick(0, 5)) {
      case 0: return "@" + name();
      case 1: return "@" + name() + "." + name();
      case 2: return "@ " + name() + "(" + expr(indent, 1, true) + ")";
      case 3:
        return "@pytest.mark.parametrize(" + bracket_break(indent) + "\"a, b\"," + bracket_break(indent) +
               "[(1, 2), (" +
               expr(indent, 2, true) + ", 4)]," + bracket_break(indent) + ")";
      default: return "@" + name() + "(" + name() + "=" + expr(indent, 1, true) + ")";
    }
  }

  std::string params(const std::string& indent) {
    std::vector<std::string> ps;
    bool defaults = false;
    auto positional = [&]() {
      std::string p = name();
      if (chance(25)) p += ": " + one_of(std::vector<std::string>{"int", "'str'", "list[int]", "A | None"});
      if (defaults || chance(25)) {
        defaults = true;
        p += (p.find(':') != std::string::npos ? " = " : "=") +
             (chance(20) ? "lambda " + name() + ", " + name() + "=2: 0" : expr(indent, 2, true));
      }
      return p;
    };
    int pos_only = chance(15) ? pick(1, 3) : 0;
    for (int i = 0; i < pos_only; ++i) ps.push_back(positional());
    if (pos_only) ps.push_back("/");
    int n = pick(0, 4);
    for (int i = 0; i < n; ++i) ps.push_back(positional());
    int star = pick(0, 4);
    if (star == 1) ps.push_back("*" + name() + (chance(30) ? ": int" : ""));
    if (star == 1 || star == 2) {
      if (star == 2) ps.push_back("*");
      int k = pick(star == 2 ? 1 : 0, 3);
      for (int i = 0; i < k; ++i) ps.push_back(name() + (chance(50) ? "=" + expr(indent, 2, true) : ""));
    }
    if (chance(25)) ps.push_back("**" + name());
    std::string s;
    for (size_t i = 0; i < ps.size(); ++i) s += (i ? sep(indent, true) : "") + ps[i];
    if (!ps.empty() && ps.back().rfind("**", 0) != 0 && chance(15)) s += ",";
    return s;
  }

  std::string bases(const std::string& indent) {
    std::vector<std::string> bs;
    int n = pick(0, 4);
    for (int i = 0; i < n; ++i) bs.push_back(chance(20) ? name() + "[" + name() + "]" : expr(indent, 2, true));
    if (chance(15)) bs.push_back("*" + name());
    if (chance(25)) bs.push_back("metaclass=" + name());
    if (chance(10)) bs.push_back("**" + name());
    std::string s;
    for (size_t i = 0; i < bs.size(); ++i) s += (i ? sep(indent, true) : "") + bs[i];
    return s;
  }

  void body(std::string& s, const std::string& indent, Where where, int depth) {
    std::string inner = indent + unit_;
    if (where != Where::kModule && chance(20)) s += docstring(inner) + "\n";
    int n = pick(1, depth > 2 ? 3 : 5);
    for (int i = 0; i < n; ++i) statement(s, inner, where, depth + 1);
  }

  void function(std::string& s, const std::string& indent, Where where, int depth) {
    int decorators = chance(40) ? pick(1, 4) : 0;
    for (int i = 0; i < decorators; ++i) {
      s += indent + decorator(indent) + line_end();
      // A comment left of the decorators' column breaks tree-sitter's decorator list.
      if (chance(10)) s += "\n" + indent + std::string(static_cast<size_t>(pick(0, 3)), ' ') + "# between\n";
    }
    bool async = chance(20);
    s += indent + (async ? "async def " : "def ") + name() + (chance(10) ? "[T]" : "") + "(" + params(indent) + ")";
    if (chance(20)) s += " -> " + one_of(std::vector<std::string>{"None", "'A'", "int | None"});
    if (chance(15)) {
      s += ": " + one_of(std::vector<std::string>{"pass", "...", "return 1", "import os", "x = 1; import json"}) +
           line_end();
      return;
    }
    s += ":" + line_end();
    body(s, indent, async ? Where::kAsyncFunction : Where::kFunction, depth);
    (void)where;
  }

  void class_def(std::string& s, const std::string& indent, int depth) {
    int decorators = chance(25) ? pick(1, 3) : 0;
    for (int i = 0; i < decorators; ++i) s += indent + decorator(indent) + line_end();
    s += indent + "class " + name() + (chance(10) ? "[T]" : "");
    int parens = pick(0, 3);
    if (parens == 1) s += "()";
    if (parens == 2) s += "(" + bases(indent) + ")";
    if (chance(10)) {
      s += ": " + one_of(std::vector<std::string>{"pass", "x = 1", "a = 1; b = 2"}) + line_end();
      return;
    }
    s += ":" + line_end();
    body(s, indent, Where::kClass, depth);
  }

  std::string simple(const std::string& indent, Where where) {
    switch (pick(0, 12)) {
      case 0: return "import " + name() + (chance(30) ? "." + name() : "") + (chance(30) ? " as " + name() : "") +
                     (chance(20) ? ", " + name() : "");
      case 1: {
        std::string dots(static_cast<size_t>(chance(30) ? pick(1, 4) : 0), '.');
        std::string mod = dots.empty() || chance(50) ? name() : "";
        if (chance(20)) return "from " + dots + mod + " import *";
        std::string names = name() + (chance(30) ? " as " + name() : "");
        if (chance(30))
          return "from " + dots + mod + " import (" + bracket_break(indent) + names + "," + bracket_break(indent) +
                 name() + ",)";
        return "from " + dots + mod + " import " + names;
      }
      case 2: return name() + " = " + expr(indent, 0, true);
      case 3: return name() + ": " + one_of(std::vector<std::string>{"int", "'T'", "list[int]"}) +
                     (chance(70) ? " = " + expr(indent, 0, true) : "");
      case 4: return name() + " = " + name() + " = " + expr(indent, 1, true);
      case 5: return name() + " += 1";
      case 6: return name() + "." + name() + " = " + expr(indent, 1, true);
      case 7: return name() + " = " + atom(indent, 1, false) + " + \\\n" + indent + unit_ + atom(indent, 1, false);
      case 8: return where == Where::kFunction || where == Where::kAsyncFunction ? "return " + expr(indent, 1, true)
                                                                                  : "pass";
      case 9: return expr(indent, 0, true);
      case 10: return name() + " = 1; " + name() + " = 2";
      default: return "pass";
    }
  }

  void compound(std::string& s, const std::string& indent, Where where, int depth) {
    auto block = [&](const std::string& header) {
      s += indent + header + ":" + line_end();
      body(s, indent, where, depth);
    };
    switch (pick(0, 7)) {
      case 0:
        block("if " + expr(indent, 1, false));
        if (chance(40)) block("elif " + expr(indent, 1, false));
        if (chance(40)) block("else");
        break;
      case 1: {
        block("try");
        bool handlers = chance(70);
        if (handlers) {
          block("except " + name() + (chance(50) ? " as " + name() : ""));
          if (chance(30)) block("else");
        }
        if (!handlers || chance(50)) block("finally");
        break;
      }
      case 2:
        block(std::string(where == Where::kAsyncFunction && chance(50) ? "async " : "") + "for " + name() + " in " +
              expr(indent, 1, false));
        if (chance(20)) block("else");
        break;
      case 3: block("while " + expr(indent, 1, false)); break;
      case 4: block("with " + expr(indent, 1, false) + " as " + name() + (chance(30) ? ", " + name() : "")); break;
      case 5: {
        s += indent + "match " + name() + ":" + line_end();
        std::string inner = indent + unit_;
        int n = pick(1, 3);
        for (int i = 0; i < n; ++i) {
          s += inner + "case " +
               one_of(std::vector<std::string>{"1", "[a, b, *rest]", "{\"k\": v}", "Point(x=0) | None", "str()"}) +
               (chance(30) ? " if " + name() : "") + ":" + line_end();
          body(s, inner, where, depth + 1);
        }
        if (chance(30)) {
          s += inner + "case _:" + line_end();
          body(s, inner, where, depth + 1);
        }
        break;
      }
      default: s += indent + "if " + name() + ": " + simple(indent, where) + line_end();
    }
  }

  void statement(std::string& s, const std::string& indent, Where where, int depth) {
    filler(s, indent);
    int kind = pick(0, depth > 3 ? 3 : 10);
    if (kind == 0 || kind == 1) {
      s += indent + simple(indent, where);
      if (chance(10)) s += "; " + simple(indent, where);
      s += line_end();
    } else if (kind == 2) {
      s += indent + string_literal(indent, 0, true) + line_end();
    } else if (kind <= 5) {
      function(s, indent, where, depth);
    } else if (kind <= 7) {
      class_def(s, indent, depth);
    } else {
      compound(s, indent, where, depth);
    }
  }

  std::function<int(int, int)> pick_;
  std::string unit_ = "    ";
  int counter_ = 0;
};

std::string random_module() {
  ModuleWriter w([](int lo, int hi) { return *rc::gen::inRange(lo, hi); });
  return w.module();
}

RC_GTEST_PROP(ScannerProp, GeneratedModulesMatchTreeSitter, ()) {
  std::string src = random_module();
  Outline a = scan_outline(src);
  Outline b = outline_with_tree_sitter(src);
  RC_ASSERT(b.errors.empty());  // the writer writes valid Python
  std::string diff = first_difference(a, b);
  if (!diff.empty()) RC_FAIL(diff + "\n--- source\n" + src);
}

RC_GTEST_PROP(ScannerProp, TruncatedModulesNeverCrash, ()) {
  std::string src = random_module();
  size_t cut = static_cast<size_t>(*rc::gen::inRange<size_t>(0, src.size() + 1));
  Outline o = scan_outline(std::string_view(src).substr(0, cut));
  RC_ASSERT(o.errors.size() <= 1u);
}

}  // namespace
}  // namespace dxpy::discovery
