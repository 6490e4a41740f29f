// The import graph on small in-memory projects: each resolution rule (relative imports,
// src layout, pythonpath, namespace packages, __init__ chains, pytest's basedir), the
// selection rules (conftest, config files, files the graph cannot place), chains, and
// incremental updates against a graph built from scratch.
#include "dxpy/graph/graph.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "dxpy/graph/test_support.h"

namespace dxpy::graph {

namespace {

using Strings = std::vector<std::string>;
using Files = std::map<std::string, std::string>;

GraphOptions options() {
  GraphOptions o;
  o.rootdir = "/repo";
  return o;
}

ImportGraph build(const Files& files, GraphOptions o = options()) {
  ImportGraph g(std::move(o));
  for (const auto& [path, source] : files) g.set_file(path, source);
  g.resolve();
  return g;
}

// "path" for imports, "path (package)" / "path (conftest)" for the other kinds.
Strings deps(const ImportGraph& g, std::string_view path) {
  Strings out;
  for (const auto& d : g.dependencies(path))
    out.push_back(d.kind == DepKind::kImport ? d.path : d.path + " (" + std::string(to_string(d.kind)) + ")");
  return out;
}

Strings unresolved(const ImportGraph& g, std::string_view path) {
  Strings out;
  for (const auto& u : g.unresolved(path)) out.push_back(u.name + (u.external ? " (external)" : ""));
  return out;
}

// "path: reason: chain" per selected test.
Strings selected(const ImportGraph& g, const Strings& changed) {
  Strings out;
  for (const auto& t : g.affected_by(changed).tests)
    out.push_back(t.path + ": " + std::string(to_string(t.reason)) + ": " + describe(t));
  return out;
}

TEST(Graph, AbsoluteImportDependsOnEveryInitOnTheWay) {
  auto g = build({{"a/__init__.py", ""},
                  {"a/b/__init__.py", ""},
                  {"a/b/c.py", ""},
                  {"tests/test_x.py", "import a.b.c\n"}});
  EXPECT_EQ(deps(g, "tests/test_x.py"), (Strings{"a/__init__.py", "a/b/__init__.py", "a/b/c.py"}));
  EXPECT_EQ(deps(g, "a/b/c.py"), (Strings{"a/__init__.py (package)", "a/b/__init__.py (package)"}));
  EXPECT_EQ(deps(g, "a/b/__init__.py"), (Strings{"a/__init__.py (package)"}));
  EXPECT_EQ(deps(g, "a/__init__.py"), Strings{});
  EXPECT_TRUE(g.is_test_file("tests/test_x.py"));
  EXPECT_FALSE(g.is_test_file("a/b/c.py"));
}

TEST(Graph, FromImportNamesAreSubmodulesOrAttributes) {
  auto g = build({{"app/__init__.py", "VERSION = 1\n"},
                  {"app/mod.py", "def value(x): return x\n"},
                  {"app/sub/__init__.py", ""},
                  {"test_app.py", "from app import mod, sub, VERSION\nfrom app.mod import value\n"}});
  EXPECT_EQ(deps(g, "test_app.py"), (Strings{"app/__init__.py", "app/mod.py", "app/sub/__init__.py"}));
  // VERSION is an attribute; kept by name in case app/VERSION.py appears. `value` follows a
  // plain module: an attribute, not kept.
  EXPECT_EQ(unresolved(g, "test_app.py"), (Strings{"app.VERSION"}));
}

TEST(Graph, RelativeImportsOfEveryLevel) {
  auto g = build({{"top.py", ""},
                  {"pkg/__init__.py", ""},
                  {"pkg/y.py", ""},
                  {"pkg/z/__init__.py", ""},
                  {"pkg/z/w.py", ""},
                  {"pkg/sub/__init__.py", "from . import m\n"},
                  {"pkg/sub/x.py", ""},
                  {"pkg/sub/m.py",
                   "from . import x\nfrom .. import y\nfrom ..z import w\nfrom ...top import q\n"
                   "from .... import far\nfrom .missing import thing\n"}});
  EXPECT_EQ(deps(g, "pkg/sub/m.py"), (Strings{"pkg/__init__.py (package)", "pkg/sub/__init__.py (package)",
                                              "pkg/sub/x.py", "pkg/y.py", "pkg/z/__init__.py", "pkg/z/w.py",
                                              "top.py"}));
  EXPECT_EQ(unresolved(g, "pkg/sub/m.py"), (Strings{"....", "pkg.sub.missing"}));
  EXPECT_EQ(deps(g, "pkg/sub/__init__.py"), (Strings{"pkg/__init__.py (package)", "pkg/sub/m.py"}));
}

TEST(Graph, SrcLayout) {
  auto g = build({{"src/mypkg/__init__.py", ""},
                  {"src/mypkg/core.py", "from mypkg import util\n"},
                  {"src/mypkg/util.py", ""},
                  {"tests/test_core.py", "from mypkg.core import f\n"}});
  EXPECT_EQ(deps(g, "tests/test_core.py"), (Strings{"src/mypkg/__init__.py", "src/mypkg/core.py"}));
  // One edge per file: the import's kind comes first.
  EXPECT_EQ(deps(g, "src/mypkg/core.py"), (Strings{"src/mypkg/__init__.py", "src/mypkg/util.py"}));
  auto a = g.affected_by({"src/mypkg/util.py"});
  ASSERT_EQ(a.tests.size(), 1u);
  EXPECT_EQ(describe(a.tests[0]), "src/mypkg/util.py -> src/mypkg/core.py -> tests/test_core.py");
}

TEST(Graph, PythonpathEntries) {
  GraphOptions o = options();
  o.pythonpath = {"/repo/lib", "/elsewhere"};  // the second is outside the rootdir: not searched
  auto g = build({{"lib/util.py", ""}, {"util.py", ""}, {"tests/test_u.py", "import util\n"}}, o);
  // pythonpath comes before the rootdir, as pytest inserts it at the front of sys.path.
  EXPECT_EQ(deps(g, "tests/test_u.py"), (Strings{"lib/util.py"}));
}

TEST(Graph, NamespacePackagesSpanRoots) {
  auto g = build({{"ns/a/x.py", ""},
                  {"src/ns/b/__init__.py", ""},
                  {"src/ns/b/y.py", ""},
                  {"tests/test_ns.py", "import ns.a.x\nimport ns.b.y\nfrom ns import b\nimport ns.c\n"}});
  EXPECT_EQ(deps(g, "tests/test_ns.py"), (Strings{"ns/a/x.py", "src/ns/b/__init__.py", "src/ns/b/y.py"}));
  EXPECT_EQ(unresolved(g, "tests/test_ns.py"), (Strings{"ns.c"}));
  // A regular package anywhere on the path wins over namespace portions before it.
  auto h = build({{"ns/x.py", ""}, {"src/ns/__init__.py", ""}, {"test_a.py", "import ns.x\n"}});
  EXPECT_EQ(deps(h, "test_a.py"), (Strings{"src/ns/__init__.py"}));
  EXPECT_EQ(unresolved(h, "test_a.py"), (Strings{"ns.x"}));
}

TEST(Graph, BasedirOfPrependModeComesFirst) {
  Files files = {{"helpers.py", ""}, {"tests/helpers.py", ""}, {"tests/test_a.py", "import helpers\n"}};
  EXPECT_EQ(deps(build(files), "tests/test_a.py"), (Strings{"tests/helpers.py"}));
  // With tests/__init__.py the basedir is the rootdir, and `helpers` is the top-level one.
  files["tests/__init__.py"] = "";
  EXPECT_EQ(deps(build(files), "tests/test_a.py"), (Strings{"helpers.py", "tests/__init__.py (package)"}));
}

TEST(Graph, ExternalModulesByName) {
  auto g = build({{"app/__init__.py", ""},
                  {"test_e.py",
                   "from __future__ import annotations\nimport os.path\nimport numpy as np\nfrom requests import get\n"
                   "import app.missing\nimportlib.import_module('yaml')\n"}});
  EXPECT_EQ(unresolved(g, "test_e.py"),
            (Strings{"app.missing", "numpy (external)", "os.path (external)", "requests (external)",
                     "yaml (external)"}));
  EXPECT_EQ(g.external_modules(), (Strings{"numpy", "os.path", "requests", "yaml"}));
}

TEST(Graph, ImportlibLiteralsAreEdges) {
  auto g = build({{"plugins/__init__.py", ""},
                  {"plugins/csv.py", ""},
                  {"test_p.py", "import importlib\ndef load():\n    return importlib.import_module('plugins.csv')\n"}});
  EXPECT_EQ(deps(g, "test_p.py"), (Strings{"plugins/__init__.py", "plugins/csv.py"}));
}

TEST(Graph, ConftestsAboveATestFile) {
  auto g = build({{"conftest.py", "import fixtures_lib\n"},
                  {"fixtures_lib.py", ""},
                  {"tests/conftest.py", ""},
                  {"tests/unit/test_a.py", ""},
                  {"tests/unit/helper.py", ""},
                  {"other/test_b.py", ""}});
  EXPECT_EQ(deps(g, "tests/unit/test_a.py"), (Strings{"conftest.py (conftest)", "tests/conftest.py (conftest)"}));
  EXPECT_EQ(deps(g, "tests/conftest.py"), (Strings{"conftest.py (conftest)"}));
  EXPECT_EQ(deps(g, "tests/unit/helper.py"), Strings{});  // not a test file
  EXPECT_EQ(selected(g, {"tests/conftest.py"}),
            (Strings{"tests/unit/test_a.py: depends: tests/conftest.py -> tests/unit/test_a.py"}));
  EXPECT_EQ(selected(g, {"fixtures_lib.py"}),
            (Strings{"other/test_b.py: depends: fixtures_lib.py -> conftest.py -> other/test_b.py",
                     "tests/unit/test_a.py: depends: fixtures_lib.py -> conftest.py -> tests/unit/test_a.py"}));
}

TEST(Graph, ConfigFilesSelectEverything) {
  auto g = build({{"app.py", ""}, {"tests/test_a.py", "import app\n"}, {"tests/test_b.py", ""}});
  for (const char* config : {"pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini", "/repo/sub/tox.ini"}) {
    auto a = g.affected_by({config, "app.py"});
    EXPECT_TRUE(a.everything) << config;
    ASSERT_EQ(a.tests.size(), 2u) << config;
    EXPECT_EQ(a.tests[0].reason, Reason::kDepends);  // what the graph explains keeps its chain
    EXPECT_EQ(a.tests[1].reason, Reason::kConfig);
    EXPECT_EQ(a.tests[1].chain.back(), "tests/test_b.py");
  }
}

TEST(Graph, UnplacedFilesSelectTheirFolderAndBelow) {
  auto g = build({{"tests/test_top.py", ""},
                  {"tests/unit/test_a.py", ""},
                  {"tests/unit/deep/test_b.py", ""},
                  {"tests/other/test_c.py", ""}});
  EXPECT_EQ(selected(g, {"tests/unit/data.json"}),
            (Strings{"tests/unit/deep/test_b.py: folder: tests/unit/data.json -> tests/unit/deep/test_b.py",
                     "tests/unit/test_a.py: folder: tests/unit/data.json -> tests/unit/test_a.py"}));
  EXPECT_EQ(g.affected_by({"README.md"}).tests.size(), 4u);  // at the rootdir: everything below
  // No test file below its folder: the nearest folder above with some.
  EXPECT_EQ(selected(g, {"tests/other/data/x.csv"}),
            (Strings{"tests/other/test_c.py: folder: tests/other/data/x.csv -> tests/other/test_c.py"}));
  EXPECT_EQ(g.affected_by({"docs/index.md"}).tests.size(), 4u);
  EXPECT_EQ(g.affected_by({"/elsewhere/file.txt"}).tests.size(), 0u);  // outside the rootdir
  // A Python file the graph does not hold and no import names fails open the same way.
  EXPECT_EQ(g.affected_by({"tests/other/new_helper.py"}).tests.size(), 1u);
}

TEST(Graph, DeletedModulesArePlacedByTheNamesThatImportThem) {
  Files files = {{"app/__init__.py", ""},
                 {"app/gone.py", ""},
                 {"app/other.py", "import app.gone\n"},
                 {"tests/test_from.py", "from app import gone\n"},
                 {"tests/test_deep.py", "import app.other\n"},
                 {"tests/test_unrelated.py", "import app\n"}};
  ImportGraph g = build(files);
  g.remove_file("app/gone.py");
  g.resolve();
  EXPECT_EQ(selected(g, {"app/gone.py"}),
            (Strings{"tests/test_deep.py: depends: app/gone.py -> app/other.py -> tests/test_deep.py",
                     "tests/test_from.py: depends: app/gone.py -> tests/test_from.py"}));
  // An extension module is placed the same way.
  auto h = build({{"test_fast.py", "import fastmod\n"}, {"test_slow.py", ""}});
  EXPECT_EQ(selected(h, {"fastmod.cpython-311-x86_64-linux-gnu.so"}),
            (Strings{"test_fast.py: depends: fastmod.cpython-311-x86_64-linux-gnu.so -> test_fast.py"}));
}

TEST(Graph, ChainsAndChangedTests) {
  auto g = build({{"app/__init__.py", ""},
                  {"app/a.py", ""},
                  {"app/b.py", "from app import a\n"},
                  {"app/c.py", "from app import b\n"},
                  {"tests/test_c.py", "from app import c\n"},
                  {"tests/test_x.py", "import os\n"}});
  auto a = g.affected_by({"app/a.py", "tests/test_x.py"});
  EXPECT_EQ(a.files, (Strings{"app/a.py", "app/b.py", "app/c.py", "tests/test_c.py", "tests/test_x.py"}));
  ASSERT_EQ(a.tests.size(), 2u);
  EXPECT_EQ(describe(a.tests[0]), "app/a.py -> app/b.py -> app/c.py -> tests/test_c.py");
  EXPECT_EQ(a.tests[1].reason, Reason::kChanged);
  EXPECT_EQ(a.tests[1].chain, (Strings{"tests/test_x.py"}));
  // app/__init__.py runs before every module of the package.
  EXPECT_EQ(g.affected_by({"/repo/app/__init__.py"}).files,
            (Strings{"app/__init__.py", "app/a.py", "app/b.py", "app/c.py", "tests/test_c.py"}));
}

TEST(Graph, CyclesTerminate) {
  auto g = build({{"a.py", "import b\n"}, {"b.py", "import a\n"}, {"test_a.py", "import a\n"}});
  EXPECT_EQ(selected(g, {"b.py"}), (Strings{"test_a.py: depends: b.py -> a.py -> test_a.py"}));
}

TEST(Graph, PythonFilesPatterns) {
  GraphOptions o = options();
  o.python_files = {"check_*.py", "tests/*_spec.py"};
  auto g = build({{"check_a.py", ""}, {"test_b.py", ""}, {"tests/x_spec.py", ""}, {"conftest.py", ""}}, o);
  EXPECT_EQ(g.test_files(), (Strings{"check_a.py", "tests/x_spec.py"}));
}

TEST(Graph, GraphPaths) {
  ImportGraph g(options());
  EXPECT_EQ(g.graph_path("/repo/a/../b/./c.py"), "b/c.py");
  EXPECT_EQ(g.graph_path("b/c.py"), "b/c.py");
  EXPECT_EQ(g.graph_path("/repo"), "");
  EXPECT_EQ(g.graph_path("/repository/x.py"), std::nullopt);
  EXPECT_EQ(g.graph_path("../x.py"), std::nullopt);
}

// Incremental changes give the graph a build from scratch of the final files gives.
TEST(Graph, IncrementalUpdatesMatchAFreshBuild) {
  Files files = {{"app/__init__.py", ""},
                 {"app/a.py", "from app import b\n"},
                 {"app/b.py", ""},
                 {"tests/test_a.py", "from app import a\nimport app.c\nimport helpers\n"},
                 {"tests/conftest.py", ""}};
  ImportGraph g = build(files);
  auto step = [&](const char* what, auto change) {
    change();
    g.resolve();
    EXPECT_EQ(g, build(files)) << what;
  };
  step("add a missing module", [&] {
    files["app/c.py"] = "import app.b\n";
    g.set_file("app/c.py", files["app/c.py"]);
  });
  step("add a shadowing module in the basedir", [&] {
    files["tests/helpers.py"] = "";
    g.set_file("tests/helpers.py", "");
  });
  step("add tests/__init__.py: the basedir moves up", [&] {
    files["tests/__init__.py"] = "";
    g.set_file("tests/__init__.py", "");
  });
  step("add a top-level helpers.py", [&] {
    files["helpers.py"] = "";
    g.set_file("helpers.py", "");
  });
  step("remove app/__init__.py: a namespace package", [&] {
    files.erase("app/__init__.py");
    g.remove_file("app/__init__.py");
  });
  step("remove the conftest", [&] {
    files.erase("tests/conftest.py");
    g.remove_file("tests/conftest.py");
  });
  step("edit imports", [&] {
    files["app/b.py"] = "from . import c\n";
    g.set_file("app/b.py", files["app/b.py"]);
  });
  step("a src folder appears: a new root", [&] {
    files["src/helpers.py"] = "";
    g.set_file("src/helpers.py", "");
  });
  step("remove a whole folder", [&] {
    for (const char* p : {"app/a.py", "app/b.py", "app/c.py"}) {
      files.erase(p);
      g.remove_file(p);
    }
  });
}

}  // namespace
}  // namespace dxpy::graph
