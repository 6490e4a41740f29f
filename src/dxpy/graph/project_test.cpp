// The graph against files on disk: what the walk reads, skips and re-reads, and the watch
// mode's one-path updates.
#include "dxpy/graph/project.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "dxpy/graph/test_support.h"

namespace dxpy::graph {
namespace {

using Strings = std::vector<std::string>;

class GraphProject : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_all({{"app/__init__.py", ""},
               {"app/core.py", "import os\n"},
               {"app/api.py", "from app import core\n"},
               {"tests/conftest.py", ""},
               {"tests/test_api.py", "from app import api\n"},
               {"tests/test_core.py", "import app.core\n"},
               {"tests/data/input.json", "{}"},
               {"build/lib/app/core.py", ""},
               {".venv/lib/site.py", ""},
               {"env/pyvenv.cfg", ""},
               {"env/lib/thing.py", ""},
               {"app/__pycache__/core.cpython-311.py", ""},
               {".git/hooks/pre-commit.py", ""},
               {"node_modules/x/y.py", ""}});
  }
  GraphOptions options() const {
    GraphOptions o;
    o.rootdir = dir_;
    return o;
  }
  Strings tests_for(const ImportGraph& g, const Strings& changed) const {
    Strings out;
    for (const auto& t : g.affected_by(changed).tests) out.push_back(t.path);
    return out;
  }
};

TEST_F(GraphProject, SyncReadsEveryPythonFileOutsideSkippedFolders) {
  ImportGraph g(options());
  SyncStats s = sync_graph(g);
  EXPECT_EQ(g.paths(), (Strings{"app/__init__.py", "app/api.py", "app/core.py", "tests/conftest.py",
                                "tests/test_api.py", "tests/test_core.py"}));
  EXPECT_EQ(s.scanned, 6u);
  EXPECT_EQ(s.unchanged, 0u);
  EXPECT_TRUE(s.changed());
  EXPECT_EQ(tests_for(g, {"app/core.py"}), (Strings{"tests/test_api.py", "tests/test_core.py"}));
  EXPECT_EQ(tests_for(g, {path("tests/data/input.json")}), (Strings{"tests/test_api.py", "tests/test_core.py"}));

  // Nothing changed: nothing read again.
  s = sync_graph(g);
  EXPECT_EQ(s.scanned, 0u);
  EXPECT_EQ(s.unchanged, 6u);
  EXPECT_FALSE(s.changed());
}

TEST_F(GraphProject, SyncReadsOnlyWhatChanged) {
  ImportGraph g(options());
  sync_graph(g);
  write("app/api.py", "import os\n# no longer imports core\n");
  std::filesystem::remove(path("tests/test_core.py"));
  write("tests/test_new.py", "import app.core\n");
  SyncStats s = sync_graph(g);
  EXPECT_EQ(s.scanned, 2u);
  EXPECT_EQ(s.removed, 1u);
  EXPECT_EQ(s.unchanged, 4u);
  EXPECT_EQ(tests_for(g, {"app/core.py"}), (Strings{"tests/test_new.py"}));
  // The deleted test file is no test any more; a changed path it was is placed nowhere.
  EXPECT_FALSE(g.contains("tests/test_core.py"));
}

TEST_F(GraphProject, NorecursedirsFromTheConfig) {
  GraphOptions o = options();
  o.norecursedirs = {"tests"};  // replaces pytest's defaults; the always-skipped stay skipped
  ImportGraph g(o);
  sync_graph(g);
  // .venv holds no pyvenv.cfg here: only ".*" kept it out.
  EXPECT_EQ(g.paths(), (Strings{".venv/lib/site.py", "app/__init__.py", "app/api.py", "app/core.py",
                                "build/lib/app/core.py", "node_modules/x/y.py"}));
}

TEST_F(GraphProject, SymlinkedFoldersAreNotFollowed) {
  ASSERT_EQ(::symlink(dir_.c_str(), path("app/loop").c_str()), 0);
  ASSERT_EQ(::symlink(path("app/core.py").c_str(), path("app/alias.py").c_str()), 0);
  ImportGraph g(options());
  sync_graph(g);
  EXPECT_TRUE(g.contains("app/alias.py"));  // a link to a file is a file
  EXPECT_EQ(g.size(), 7u);
}

TEST_F(GraphProject, UpdateOnePathAtATime) {
  ImportGraph g(options());
  sync_graph(g);
  // An edit.
  write("tests/test_api.py", "from app import api\nfrom app import core\n");
  EXPECT_TRUE(update_graph(g, path("tests/test_api.py")));
  EXPECT_EQ(g.dependents("app/core.py"), (Strings{"app/api.py", "tests/test_api.py", "tests/test_core.py"}));
  EXPECT_FALSE(update_graph(g, path("tests/test_api.py")));  // nothing new
  // A new module that an import was waiting for.
  write("tests/test_core.py", "import app.core\nimport app.extra\n");
  EXPECT_TRUE(update_graph(g, "tests/test_core.py"));
  EXPECT_EQ(g.unresolved("tests/test_core.py").size(), 1u);
  write("app/extra.py", "");
  EXPECT_TRUE(update_graph(g, path("app/extra.py")));
  EXPECT_EQ(g.dependents("app/extra.py"), (Strings{"tests/test_core.py"}));
  // A deletion.
  std::filesystem::remove(path("app/extra.py"));
  EXPECT_TRUE(update_graph(g, path("app/extra.py")));
  EXPECT_FALSE(g.contains("app/extra.py"));
  EXPECT_EQ(tests_for(g, {"app/extra.py"}), (Strings{"tests/test_core.py"}));
  // A new folder, then the folder gone.
  write("plugins/__init__.py", "");
  write("plugins/csv.py", "from app import core\n");
  EXPECT_TRUE(update_graph(g, path("plugins")));
  EXPECT_TRUE(g.contains("plugins/csv.py"));
  std::filesystem::remove_all(path("plugins"));
  EXPECT_TRUE(update_graph(g, path("plugins")));
  EXPECT_FALSE(g.contains("plugins/__init__.py"));
  EXPECT_FALSE(g.contains("plugins/csv.py"));
  // Ignored: skipped folders, non-Python files, paths outside the rootdir.
  write("build/lib/app/new.py", "");
  EXPECT_FALSE(update_graph(g, path("build/lib/app/new.py")));
  write(".venv/lib/new.py", "");
  EXPECT_FALSE(update_graph(g, path(".venv/lib/new.py")));
  write("env/lib/new.py", "");
  EXPECT_FALSE(update_graph(g, path("env/lib/new.py")));
  EXPECT_FALSE(update_graph(g, path("tests/data/input.json")));
  EXPECT_FALSE(update_graph(g, "/nowhere/x.py"));
}

TEST_F(GraphProject, UpdatesEqualAFreshSync) {
  ImportGraph g(options());
  sync_graph(g);
  write("app/__init__.py", "from app import api\n");
  update_graph(g, path("app/__init__.py"));
  std::filesystem::remove(path("tests/conftest.py"));
  update_graph(g, path("tests/conftest.py"));
  write("tests/__init__.py", "");
  update_graph(g, path("tests/__init__.py"));
  ImportGraph fresh(options());
  sync_graph(fresh);
  EXPECT_TRUE(g == fresh) << "incremental:\n" << g.describe() << "fresh:\n" << fresh.describe();
}

}  // namespace
}  // namespace dxpy::graph
