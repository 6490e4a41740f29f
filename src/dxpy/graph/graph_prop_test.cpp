// Property 7 (graph construction), Property 8 (transitive dependency detection), and the
// incremental updates the watch mode relies on: after any sequence of changes the graph
// equals one built from scratch.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dxpy/graph/graph.h"

namespace dxpy::graph {
namespace {

namespace gen = rc::gen;
using Files = std::map<std::string, std::string>;

GraphOptions options() {
  GraphOptions o;
  o.rootdir = "/repo";
  return o;
}

ImportGraph build(const Files& files) {
  ImportGraph g(options());
  for (const auto& [path, source] : files) g.set_file(path, source);
  g.resolve();
  return g;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// ---- Property 7 ----

// A random module tree. Folder names say their depth ("t" at the top, "n" below), modules
// are "m*" ("r0" at the top), so that no name can be found in an importer's basedir by accident:
// each import has exactly one right answer, computed from the tree, not by resolving.
struct Dir {
  std::vector<std::string> parts;  // from the rootdir; empty for the rootdir itself
  bool regular = false;            // has an __init__.py
  std::vector<std::string> modules;
  std::string path() const { return join(parts, '/'); }
};

std::vector<Dir> gen_tree() {
  std::vector<Dir> dirs(1);  // the rootdir
  dirs[0].modules = {"r0"};  // not "m*": a basedir's own m0.py would come first
  const int tops = *gen::inRange(1, 4);
  for (int t = 0; t < tops; ++t) {
    // Depth-first: each folder gets up to two children, three levels at most.
    std::vector<std::vector<std::string>> todo = {{"t" + std::to_string(t)}};
    while (!todo.empty()) {
      Dir d;
      d.parts = todo.back();
      todo.pop_back();
      d.regular = *gen::inRange(0, 10) < 7;
      const int mods = *gen::inRange(0, 3);
      for (int m = 0; m < mods; ++m) d.modules.push_back("m" + std::to_string(m));
      // The graph knows folders by the files below them; Python would also find an empty
      // namespace folder. Every folder gets a file.
      if (!d.regular && d.modules.empty()) d.modules.push_back("m0");
      if (d.parts.size() < 3) {
        const int kids = *gen::inRange(0, 3);
        for (int k = 0; k < kids; ++k) {
          auto p = d.parts;
          p.push_back("n" + std::to_string(d.parts.size()) + std::to_string(k));
          todo.push_back(p);
        }
      }
      dirs.push_back(std::move(d));
    }
  }
  return dirs;
}

struct Expected7 {
  std::set<std::string> imports;   // kImport targets
  std::set<std::string> packages;  // kPackage targets
  std::set<std::string> unresolved;
};

RC_GTEST_PROP(GraphProp, P7_EveryResolvableImportIsAnEdgeToTheRightFile, ()) {
  const auto dirs = gen_tree();
  Files files;
  std::map<std::string, const Dir*> by_path;
  for (const auto& d : dirs) {
    by_path[d.path()] = &d;
    std::string prefix = d.parts.empty() ? "" : d.path() + "/";
    if (d.regular) files[prefix + "__init__.py"] = "";
    for (const auto& m : d.modules) files[prefix + m + ".py"] = "";
  }
  auto init_of = [&](const std::vector<std::string>& parts) -> std::string {
    const Dir* d = by_path.at(join(parts, '/'));
    return d->regular ? join(parts, '/') + "/__init__.py" : "";
  };

  // Importers: test files in random folders, each with random imports of the tree.
  const int importers = *gen::inRange(1, 4);
  std::map<std::string, Expected7> expected;
  for (int i = 0; i < importers; ++i) {
    const Dir& home = dirs[*gen::inRange<size_t>(0, dirs.size())];
    const std::string path = (home.parts.empty() ? "" : home.path() + "/") + "test_i" + std::to_string(i) + ".py";
    Expected7& want = expected[path];
    // Its own package chain.
    for (auto p = home.parts; !p.empty() && by_path.at(join(p, '/'))->regular; p.pop_back())
      want.packages.insert(init_of(p));
    std::string source;
    const int count = *gen::inRange(1, 10);
    for (int k = 0; k < count; ++k) {
      const Dir& target_dir = dirs[*gen::inRange<size_t>(0, dirs.size())];
      // A module of that folder, or the folder itself as a package.
      const bool module = !target_dir.modules.empty() && *gen::inRange(0, 4) > 0;
      if (!module && target_dir.parts.empty()) continue;
      std::vector<std::string> target = target_dir.parts;
      std::string module_name;
      if (module) module_name = target_dir.modules[*gen::inRange<size_t>(0, target_dir.modules.size())];
      const int form = *gen::inRange(0, 6);
      if (form == 5) {
        // Something the tree does not hold: an external, or a missing submodule.
        if (target.empty()) {
          source += "import ext_" + std::to_string(k) + ".sub\n";
          want.unresolved.insert("ext_" + std::to_string(k) + ".sub");
        } else {
          source += "import " + join(target, '.') + ".missing\n";
          for (size_t n = 1; n <= target.size(); ++n) {
            std::string init = init_of({target.begin(), target.begin() + static_cast<ptrdiff_t>(n)});
            if (!init.empty()) want.imports.insert(init);
          }
          want.unresolved.insert(join(target, '.') + ".missing");
        }
        continue;
      }
      std::vector<std::string> full = target;
      if (module) full.push_back(module_name);
      const std::string file = module ? join(full, '/') + ".py" : "";
      if (form <= 3) {
        // Absolute: every __init__.py on the way, then the module.
        for (size_t n = 1; n <= target.size(); ++n) {
          std::string init = init_of({target.begin(), target.begin() + static_cast<ptrdiff_t>(n)});
          if (!init.empty()) want.imports.insert(init);
        }
        if (module) want.imports.insert(file);
        const std::string dotted = join(full, '.');
        if (form == 0) {
          source += "import " + dotted + "\n";
        } else if (form == 1 && module && !target.empty()) {
          source += "from " + join(target, '.') + " import " + module_name + "\n";
        } else if (form == 2) {
          source += "    \nif TYPE_CHECKING:\n    from " + dotted + " import something_else\n";
          if (!module) want.unresolved.insert(dotted + ".something_else");
        } else {
          source += "def f():\n    importlib.import_module('" + dotted + "')\n";
        }
      } else {
        // Relative, from the common ancestor of the importer's folder and the target's.
        size_t common = 0;
        while (common < home.parts.size() && common < target.size() && home.parts[common] == target[common]) ++common;
        const size_t level = home.parts.size() - common + 1;
        std::vector<std::string> rest(target.begin() + static_cast<ptrdiff_t>(common), target.end());
        for (size_t n = common + 1; n <= target.size(); ++n) {
          std::string init = init_of({target.begin(), target.begin() + static_cast<ptrdiff_t>(n)});
          if (!init.empty()) want.imports.insert(init);
        }
        if (!module && rest.empty()) continue;  // `from .. import` of no name
        if (module) {
          want.imports.insert(file);
          source += "from " + std::string(level, '.') + join(rest, '.') + " import " + module_name + "\n";
        } else {
          source += "from " + std::string(level, '.') + join(rest, '.') + " import *\n";
        }
      }
    }
    files[path] = source;
  }
  const ImportGraph g = build(files);
  for (const auto& [path, want] : expected) {
    std::set<std::string> got_imports, got_packages;
    for (const auto& d : g.dependencies(path)) {
      RC_ASSERT(d.kind != DepKind::kConftest);
      (d.kind == DepKind::kImport ? got_imports : got_packages).insert(d.path);
    }
    std::set<std::string> want_packages;
    for (const auto& p : want.packages)
      if (!want.imports.count(p)) want_packages.insert(p);  // one edge per file: the import's
    RC_ASSERT(got_imports == want.imports);
    RC_ASSERT(got_packages == want_packages);
    std::set<std::string> got_unresolved;
    for (const auto& u : g.unresolved(path)) got_unresolved.insert(u.name);
    RC_ASSERT(got_unresolved == want.unresolved);
  }
}

// ---- Property 8 ----

// A random project: modules at the top and in a package, test files, conftests, imports
// in every form (cycles included).
Files gen_project() {
  Files files;
  const int modules = *gen::inRange(1, 12);
  const int tests = *gen::inRange(1, 6);
  std::vector<std::string> names;  // importable dotted names
  for (int m = 0; m < modules; ++m) {
    const bool in_pkg = *gen::inRange(0, 2) == 1;
    const std::string name = "mod" + std::to_string(m);
    names.push_back(in_pkg ? "pkg." + name : name);
  }
  auto imports = [&](int max) {
    std::string src;
    const int n = *gen::inRange(0, max + 1);
    for (int k = 0; k < n; ++k) {
      const std::string& target = names[*gen::inRange<size_t>(0, names.size())];
      if (target.rfind("pkg.", 0) == 0 && *gen::inRange(0, 2)) src += "from pkg import " + target.substr(4) + "\n";
      else src += "import " + target + "\n";
    }
    return src;
  };
  for (int m = 0; m < modules; ++m) {
    const std::string& name = names[static_cast<size_t>(m)];
    const std::string path = name.rfind("pkg.", 0) == 0 ? "pkg/" + name.substr(4) + ".py" : name + ".py";
    files[path] = imports(3);
  }
  if (*gen::inRange(0, 2)) files["pkg/__init__.py"] = imports(1);
  if (*gen::inRange(0, 3) == 0) files["tests/conftest.py"] = imports(2);
  for (int t = 0; t < tests; ++t) {
    const bool nested = *gen::inRange(0, 2) == 1;
    files[(nested ? "tests/" : "") + std::string("test_") + std::to_string(t) + ".py"] = imports(3);
  }
  return files;
}

RC_GTEST_PROP(GraphProp, P8_DependentsAreTheReverseReachability, ()) {
  const Files files = gen_project();
  const ImportGraph g = build(files);
  std::vector<std::string> all;
  for (const auto& [path, source] : files) all.push_back(path);
  std::vector<std::string> changed;
  for (const auto& path : all)
    if (*gen::inRange(0, 4) == 0) changed.push_back(path);

  // Naively: distances by relaxing every edge until nothing changes.
  std::map<std::string, size_t> dist;
  for (const auto& c : changed) dist[c] = 0;
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& path : all)
      for (const auto& d : g.dependencies(path)) {
        auto from = dist.find(d.path);
        if (from == dist.end()) continue;
        auto to = dist.find(path);
        if (to == dist.end() || to->second > from->second + 1) {
          dist[path] = from->second + 1;
          grew = true;
        }
      }
  }
  const Affected a = g.affected_by(changed);
  std::vector<std::string> want_files, want_tests;
  for (const auto& [path, d] : dist) {
    want_files.push_back(path);
    if (g.is_test_file(path)) want_tests.push_back(path);
  }
  RC_ASSERT(a.files == want_files);
  RC_ASSERT(!a.everything);
  std::vector<std::string> got_tests;
  for (const auto& t : a.tests) {
    got_tests.push_back(t.path);
    // A chain from a changed file to the test, each link an edge, and a shortest one.
    RC_ASSERT(!t.chain.empty());
    RC_ASSERT(t.chain.back() == t.path);
    RC_ASSERT(std::find(changed.begin(), changed.end(), t.chain.front()) != changed.end());
    RC_ASSERT(t.chain.size() == dist.at(t.path) + 1);
    for (size_t k = 1; k < t.chain.size(); ++k) {
      auto deps = g.dependencies(t.chain[k]);
      RC_ASSERT(std::any_of(deps.begin(), deps.end(), [&](const Dependency& d) { return d.path == t.chain[k - 1]; }));
    }
    RC_ASSERT(t.reason == (t.chain.size() == 1 ? Reason::kChanged : Reason::kDepends));
  }
  RC_ASSERT(got_tests == want_tests);
}

// ---- incremental updates ----

// Paths and sources drawn from a small vocabulary, so that changes collide: modules that
// shadow each other, __init__.py and conftest.py coming and going, a src/ root appearing.
std::string gen_path() {
  static const char* dirs[] = {"", "a/", "a/b/", "tests/", "tests/a/", "src/", "src/a/", "lib/"};
  static const char* names[] = {"__init__.py", "conftest.py", "a.py", "b.py", "m.py", "test_x.py", "test_y.py"};
  return std::string(dirs[*gen::inRange(0, 8)]) + names[*gen::inRange(0, 7)];
}

std::string gen_source() {
  static const char* stmts[] = {
      "import a\n",         "import a.b\n",      "import a.b.m\n",        "from a import b\n",
      "from a.b import m\n", "from . import m\n", "from .. import a\n",    "from .b import m\n",
      "import m\n",          "import b\n",        "from a import m, x\n", "import ext\n",
      "def f():\n    importlib.import_module('a.m')\n"};
  std::string src;
  const int n = *gen::inRange(0, 4);
  for (int k = 0; k < n; ++k) src += stmts[*gen::inRange(0, 13)];
  return src;
}

RC_GTEST_PROP(GraphProp, IncrementalUpdatesEqualAFreshBuild, ()) {
  Files files;
  ImportGraph g(options());
  const int steps = *gen::inRange(1, 25);
  for (int s = 0; s < steps; ++s) {
    // A batch of changes, then resolve.
    const int batch = *gen::inRange(1, 4);
    for (int b = 0; b < batch; ++b) {
      const std::string path = gen_path();
      if (files.count(path) && *gen::inRange(0, 3) == 0) {
        files.erase(path);
        RC_ASSERT(g.remove_file(path));
      } else {
        files[path] = gen_source();
        g.set_file(path, files[path]);
      }
    }
    g.resolve();
    const ImportGraph fresh = build(files);
    if (!(g == fresh)) RC_FAIL("incremental:\n" + g.describe() + "fresh:\n" + fresh.describe());
  }
}

}  // namespace
}  // namespace dxpy::graph
