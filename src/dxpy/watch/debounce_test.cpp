#include "dxpy/watch/debounce.h"

#include <gtest/gtest.h>

namespace dxpy::watch {
namespace {

TEST(Ignored, CachesVersionControlAndVirtualEnvironments) {
  EXPECT_TRUE(ignored(".git/index"));
  EXPECT_TRUE(ignored("pkg/__pycache__/mod.cpython-311.pyc"));
  EXPECT_TRUE(ignored(".dx-py/index.dxti"));
  EXPECT_TRUE(ignored(".pytest_cache/v/cache/lastfailed"));
  EXPECT_TRUE(ignored(".venv/lib/python3.11/site-packages/x.py"));
  EXPECT_TRUE(ignored("src/pkg.egg-info/PKG-INFO"));
  EXPECT_TRUE(ignored("node_modules/a/b.py"));
  EXPECT_FALSE(ignored("pkg/mod.py"));
  EXPECT_FALSE(ignored("tests/test_a.py"));
  EXPECT_FALSE(ignored("pytest.ini"));
  EXPECT_FALSE(ignored("git/mod.py"));  // only the exact folder names
  EXPECT_FALSE(ignored("/abs/pkg/mod.py"));
}

TEST(Ignored, EditorTemporaryFiles) {
  for (const char* name : {"mod.py.swp", ".mod.py.swo", "mod.py.swx", "mod.py~", "4913", ".#mod.py", "#mod.py#",
                           "mod.py.tmp", "mod.py.kate-swp", "mod.pyc", ".DS_Store"}) {
    EXPECT_TRUE(ignored_file_name(name)) << name;
    EXPECT_TRUE(ignored(std::string("pkg/") + name)) << name;
  }
  for (const char* name : {"mod.py", "conftest.py", "setup.cfg", "pyproject.toml", "49130.py", "snap.ambr"})
    EXPECT_FALSE(ignored_file_name(name)) << name;
}

TEST(Debouncer, WaitsForQuietThenEmitsEachPathOnce) {
  Debouncer d({20, 200});
  EXPECT_FALSE(d.deadline());
  d.add("b.py", 100);
  d.add("a.py", 110);
  d.add("b.py", 115);
  EXPECT_EQ(d.deadline(), 135);
  EXPECT_TRUE(d.poll(134).empty());
  EXPECT_EQ(d.poll(135), (std::vector<std::string>{"a.py", "b.py"}));
  EXPECT_FALSE(d.pending());
  EXPECT_TRUE(d.poll(1000).empty());
}

TEST(Debouncer, ASteadyStreamStillGetsABatchAtMaxWait) {
  Debouncer d({20, 100});
  for (int64_t t = 0; t < 100; t += 10) d.add("a.py", t);
  EXPECT_EQ(d.deadline(), 100);
  EXPECT_EQ(d.poll(100), std::vector<std::string>{"a.py"});
  d.add("c.py", 105);  // a new batch starts its own clock
  EXPECT_EQ(d.deadline(), 125);
}

}  // namespace
}  // namespace dxpy::watch
