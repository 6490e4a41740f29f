// The import-only scanner on hand-written cases: every statement form, every block, the
// literal importlib calls, and the strings and comments that must hide imports.
#include "dxpy/graph/imports.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace dxpy::graph {
namespace {

using Strings = std::vector<std::string>;

// "module|level|names,..|line|n" for nested, one per import: easy to read in a failure.
Strings brief(std::string_view src) {
  Strings out;
  for (const auto& r : scan_imports(src)) {
    std::string s = r.module + "|" + std::to_string(r.level) + "|";
    for (size_t k = 0; k < r.names.size(); ++k) s += (k ? "," : "") + r.names[k];
    s += "|" + std::to_string(r.line);
    if (r.nested) s += "|n";
    out.push_back(s);
  }
  return out;
}

TEST(GraphImports, PlainImports) {
  EXPECT_EQ(brief("import os\nimport a.b.c\nimport x as y, p.q as r\n"),
            (Strings{"os|0||1", "a.b.c|0||2", "x|0||3", "p.q|0||3"}));
  EXPECT_EQ(brief("import a . b\n"), (Strings{"a.b|0||1"}));
  EXPECT_EQ(brief("import a, \\\n  b\n"), (Strings{"a|0||1", "b|0||1"}));
}

TEST(GraphImports, FromImports) {
  EXPECT_EQ(brief("from a.b import c\nfrom a import (x,\n  y as z,  # why\n  w,\n)\nfrom m import *\n"),
            (Strings{"a.b|0|c|1", "a|0|x,y,w|2", "m|0|*|6"}));
}

TEST(GraphImports, RelativeImportsOfEveryLevel) {
  EXPECT_EQ(brief("from . import x\nfrom .m import y\nfrom .. import z\nfrom ..p.q import r\n"
                  "from ... import s\nfrom .....deep import t\nfrom .import u\nfrom . . m import v\n"),
            (Strings{"|1|x|1", "m|1|y|2", "|2|z|3", "p.q|2|r|4", "|3|s|5", "deep|5|t|6", "|1|u|7",
                     "m|2|v|8"}));
}

TEST(GraphImports, ImportsInEveryBlock) {
  const char* src =
      "try:\n"
      "    import ujson as json\n"
      "except ImportError:\n"
      "    import json\n"
      "if TYPE_CHECKING:\n"
      "    from app.models import User\n"
      "def f():\n"
      "    import inner\n"
      "    def g(): from deep import h\n"
      "class C:\n"
      "    import in_class\n"
      "    async def m(self):\n"
      "        with x: import in_with\n"
      "try: import a\n"
      "except: import b\n"
      "x = 1; import c; import d\n";
  EXPECT_EQ(brief(src), (Strings{"ujson|0||2|n", "json|0||4|n", "app.models|0|User|6|n", "inner|0||8|n",
                                 "deep|0|h|9|n", "in_class|0||11|n", "in_with|0||13|n", "a|0||14|n",
                                 "b|0||15|n", "c|0||16", "d|0||16"}));
}

TEST(GraphImports, LiteralImportlibCalls) {
  const char* src =
      "import importlib\n"
      "mod = importlib.import_module('app.plugins.csv')\n"
      "rel = import_module(\".sibling\", __package__)\n"
      "def f():\n"
      "    return __import__(\"pkg.sub\", fromlist=['x'])\n"
      "dyn = importlib.import_module(name)\n"
      "fmt = importlib.import_module(f'app.{x}')\n"
      "bad = importlib.import_module('not a module')\n"
      "multi = importlib.import_module(\n"
      "    'app.multi',\n"
      ")\n";
  EXPECT_EQ(brief(src), (Strings{"importlib|0||1", "app.plugins.csv|0||2", "sibling|1||3", "pkg.sub|0||5|n",
                                 "app.multi|0||9"}));
}

TEST(GraphImports, StringsAndCommentsHideImports) {
  const char* src =
      "'''\n"
      "import not_me\n"
      "'''\n"
      "# import nor_me\n"
      "s = \"import neither\"\n"
      "b = rb'from x import y'\n"
      "t = f\"{a!r:>{w}} import q\"\n"
      "u = f'{d[\"k\"]}' ; import after_fstring\n"
      "v = f\"{'nested' + f'{1}'}\"\n"
      "w = \"\"\"a \\\"\"\" import fake\n"
      "\"\"\"\n"
      "import real\n";
  EXPECT_EQ(brief(src), (Strings{"after_fstring|0||8", "real|0||12"}));
}

TEST(GraphImports, Python312FStringsMayReuseTheQuote) {
  EXPECT_EQ(brief("x = f\"{d[\"a\"]} {\"b\" + \"c\"}\"\nimport after\n"), (Strings{"after|0||2"}));
  EXPECT_EQ(brief("x = f'''{\n  y  # comment\n}'''\nimport after\n"), (Strings{"after|0||4"}));
}

TEST(GraphImports, OnlyStatementStartsCount) {
  // `from` in yield from / raise from, a name ending in "import", attributes.
  const char* src =
      "def g():\n"
      "    yield from other\n"
      "    raise E from err\n"
      "x.import_thing = 1\n"
      "reimport = 2\n"
      "d = {'a': 1}\n"
      "lambda: 0\n";
  EXPECT_EQ(brief(src), Strings{});
}

TEST(GraphImports, LineNumbersThroughContinuationsAndStrings) {
  const char* src = "x = '''\n\n'''\ny = (1,\n2)\nz = 1 + \\\n  2\nimport a\r\nimport b\rimport c\n";
  EXPECT_EQ(brief(src), (Strings{"a|0||8", "b|0||9", "c|0||10"}));
}

TEST(GraphImports, KeepsWhatItCanReadInBrokenCode) {
  // An unclosed bracket: the statements after it are still read.
  EXPECT_EQ(brief("import a\nx = foo(\nimport b\ndef f(:\n    import c\n"),
            (Strings{"a|0||1", "b|0||3", "c|0||5|n"}));
  // Malformed imports keep their readable part and never read past the end.
  EXPECT_EQ(brief("import a.\nfrom . import\nfrom x imp\nimport"), (Strings{"a|0||1"}));
  EXPECT_EQ(brief("from a import (b,"), (Strings{"a|0|b|1"}));
  EXPECT_EQ(brief("x = 'unterminated\nimport after\n"), (Strings{"after|0||2"}));
  EXPECT_EQ(brief("x = f'{unterminated\nimport after\n"), (Strings{"after|0||2"}));
  EXPECT_EQ(brief(std::string_view("import a\0\nimport b\n", 19)), (Strings{"a|0||1", "b|0||2"}));
}

TEST(GraphImports, ByteOrderMarkAndUnicode) {
  EXPECT_EQ(brief("\xEF\xBB\xBFimport caf\xC3\xA9\nfrom \xC3\xA9t\xC3\xA9 import x\n"),
            (Strings{"caf\xC3\xA9|0||1", "\xC3\xA9t\xC3\xA9|0|x|2"}));
}

TEST(GraphImports, EveryPrefixOfSourceIsSafe) {
  // Cut anywhere, the scan stays in bounds (ASan builds check the reads).
  const std::string src =
      "from ..a import (b as c,\n d)\nx = f'{y[\"k\"]:{w}}'\nimportlib.import_module('m.n')\n"
      "s = r'''\\'''' \\\n# c\nimport e\n";
  for (size_t n = 0; n <= src.size(); ++n) (void)scan_imports(std::string_view(src).substr(0, n));
}

// Sources stitched from the pieces the scanner treats specially, in any order: whatever
// it is fed, it stays in bounds (ASan builds check) and reports lines within the source.
RC_GTEST_PROP(GraphImports, AnySourceIsSafe, ()) {
  const auto pieces = *rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
      rc::gen::element<std::string>("import ", "from ", " import ", "as ", ".", "..", ",", "(", ")", "[", "]", "{",
                                    "}", "{{", "}}", ":", ";", "\\", "\\\n", "\n", "\r", "\r\n", " ", "    ", "#",
                                    "'", "\"", "'''", "\"\"\"", "f'", "rb\"", "f\"\"\"", "!r", "=", "import_module(",
                                    "__import__(", "a", "b.c", "TYPE_CHECKING", "\xC3\xA9", std::string("\0", 1)),
      rc::gen::string<std::string>()));
  std::string src;
  for (const auto& p : pieces) src += p;
  uint32_t lines = 1;
  for (size_t k = 0; k < src.size(); ++k)
    lines += src[k] == '\n' || (src[k] == '\r' && (k + 1 == src.size() || src[k + 1] != '\n'));
  for (const auto& r : scan_imports(src)) RC_ASSERT(r.line >= 1u && r.line <= lines);
}

}  // namespace
}  // namespace dxpy::graph
