#include "dxpy/config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "dxpy/config/locate.h"
#include "dxpy/util/test_temp_dir.h"

namespace dxpy::config {
namespace {

using V = std::vector<std::string>;

// A scoped temporary folder, kept when a test fails.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::canonical(dxpy::testing::make_temp_dir("dxpy_config_")).string();
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(root_);
  }
  std::string path(std::string_view rel) const { return root_ + "/" + std::string(rel); }
  void write(std::string_view rel, std::string_view text) const {
    std::filesystem::path p = path(rel);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  void mkdir(std::string_view rel) const { std::filesystem::create_directories(path(rel)); }
  Config load(const V& args, std::string_view cwd_rel = "", std::string_view inifile = "",
              std::string_view rootdir = "") const {
    auto r = load_config(args, cwd_rel.empty() ? root_ : path(cwd_rel), inifile, rootdir);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? std::move(*r) : Config{};
  }
  Error load_error(const V& args, std::string_view inifile = "", std::string_view rootdir = "") const {
    auto r = load_config(args, root_, inifile, rootdir);
    EXPECT_FALSE(r);
    return r ? Error{} : r.error();
  }
  std::string root_;
};

TEST_F(ConfigTest, PytestIniAlwaysCountsAndSetsRootdir) {
  write("pytest.ini", "");
  write("tests/test_a.py", "");
  Config c = load({"tests/test_a.py::test_x"}, "tests");
  EXPECT_EQ(c.rootdir, root_);
  EXPECT_EQ(c.inifile, path("pytest.ini"));
  EXPECT_EQ(c.confcutdir, root_);
  EXPECT_EQ(c.python_files, (V{"test_*.py", "*_test.py"}));
  EXPECT_EQ(c.python_classes, V{"Test"});
  EXPECT_EQ(c.python_functions, V{"test"});
  EXPECT_EQ(c.norecursedirs, (V{"*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}"}));
  EXPECT_FALSE(c.xfail_strict);
}

TEST_F(ConfigTest, NearestFolderWinsAndFileOrderWithinAFolder) {
  write("pytest.ini", "[pytest]\npython_files = outer_*.py\n");
  write("sub/tox.ini", "[pytest]\npython_files = tox_*.py\n");
  write("sub/setup.cfg", "[tool:pytest]\npython_files = cfg_*.py\n");
  write("sub/pyproject.toml", "[tool.pytest.ini_options]\npython_files = ['pp_*.py', 'x.py']\n");
  Config c = load({"sub"});
  EXPECT_EQ(c.rootdir, path("sub"));
  EXPECT_EQ(c.inifile, path("sub/pyproject.toml"));
  EXPECT_EQ(c.python_files, (V{"pp_*.py", "x.py"}));
  EXPECT_EQ(c.ignored_config_files, (V{"tox.ini", "setup.cfg"}));
}

TEST_F(ConfigTest, SectionlessFilesDoNotCountButPyprojectIsTheLastResort) {
  write("pytest.ini", "[pytest]\nmarkers = slow\n");
  write("sub/pyproject.toml", "[project]\nname = 'x'\n");
  write("sub/tox.ini", "[tox]\nenvlist = py3\n");
  write("sub/setup.cfg", "[metadata]\nname = x\n");
  Config c = load({"sub"});
  EXPECT_EQ(c.rootdir, root_);  // pytest.ini above beats the sectionless pyproject.toml
  EXPECT_EQ(c.markers, V{"slow"});

  std::filesystem::remove(path("pytest.ini"));
  Config d = load({"sub"});
  EXPECT_EQ(d.rootdir, path("sub"));
  EXPECT_EQ(d.inifile, path("sub/pyproject.toml"));
  EXPECT_TRUE(d.ini.empty());
}

TEST_F(ConfigTest, SetupCfgNeedsToolPytest) {
  write("setup.cfg", "[tool:pytest]\ntestpaths = tests\n  integration\n");
  Config c = load({});
  EXPECT_EQ(c.inifile, path("setup.cfg"));
  EXPECT_EQ(c.testpaths, (V{"tests", "integration"}));

  write("setup.cfg", "[pytest]\ntestpaths = tests\n");
  Error e = load_error({});
  EXPECT_EQ(e.code, Errc::kUsage);
  EXPECT_EQ(e.message, "[pytest] section in setup.cfg files is no longer supported, change to [tool:pytest] instead.");
}

TEST_F(ConfigTest, WithoutConfigFilesTheSetupPyFolderOrTheCommonAncestor) {
  write("proj/setup.py", "");
  write("proj/a/test_a.py", "");
  write("proj/b/test_b.py", "");
  Config c = load({"proj/a/test_a.py", "proj/b"});
  EXPECT_EQ(c.rootdir, path("proj"));
  EXPECT_TRUE(c.inifile.empty());

  std::filesystem::remove(path("proj/setup.py"));
  // Common ancestor of the arguments (proj) and of it with the invocation folder (root_).
  EXPECT_EQ(load({"proj/a/test_a.py", "proj/b"}).rootdir, root_);
  EXPECT_EQ(load({"a", "b"}, "proj").rootdir, path("proj"));
  EXPECT_EQ(load({}, "proj/a").rootdir, path("proj/a"));
  // Paths that do not exist are ignored.
  EXPECT_EQ(load({"proj/a", "missing/x.py", "-k"}, "proj/a").rootdir, path("proj/a"));
}

TEST_F(ConfigTest, ExplicitInifileAndRootdir) {
  write("conf/custom.ini", "[pytest]\npython_classes = Check\n");
  mkdir("tests");
  Config c = load({"tests"}, "", "conf/custom.ini");
  EXPECT_EQ(c.inifile, path("conf/custom.ini"));
  EXPECT_EQ(c.rootdir, path("conf"));
  EXPECT_EQ(c.python_classes, V{"Check"});

  Config d = load({"tests"}, "", "conf/custom.ini", "tests");
  EXPECT_EQ(d.rootdir, path("tests"));
  EXPECT_EQ(d.confcutdir, path("conf"));

  ::setenv("DXPY_TEST_ROOT", root_.c_str(), 1);
  EXPECT_EQ(load({}, "", "", "${DXPY_TEST_ROOT}/tests").rootdir, path("tests"));

  Error e = load_error({}, "", "nope");
  EXPECT_EQ(e.code, Errc::kUsage);
  EXPECT_EQ(e.message, "Directory '" + path("nope") + "' not found. Check your '--rootdir' option.");
}

TEST_F(ConfigTest, IniOptionsAreTypedAsPytestTypesThem) {
  write("tox.ini",
        "[tox]\nenvlist = py3\n"
        "[pytest]\n"
        "addopts = -ra --tb=short\n    -k \"not slow\"\n"
        "markers =\n    slow: marks tests as slow\n\n    # comment\n    serial\n"
        "filterwarnings =\n    error\n    ignore::DeprecationWarning\n"
        "pythonpath = src lib\n"
        "xfail_strict = True\n"
        "norecursedirs = .git build\n"
        "python_functions = check_* test\n"
        "custom_key = some value  # not a comment\n");
  Config c = load({});
  EXPECT_EQ(c.addopts, (V{"-ra", "--tb=short", "-k", "not slow"}));
  EXPECT_EQ(c.markers, (V{"slow: marks tests as slow", "serial"}));
  EXPECT_EQ(c.filterwarnings, (V{"error", "ignore::DeprecationWarning"}));
  EXPECT_EQ(c.pythonpath, (V{path("src"), path("lib")}));
  EXPECT_TRUE(c.xfail_strict);
  EXPECT_EQ(c.norecursedirs, (V{".git", "build"}));
  EXPECT_EQ(c.python_functions, (V{"check_*", "test"}));
  ASSERT_TRUE(c.ini.count("custom_key"));
  EXPECT_EQ(c.ini.at("custom_key").text, "some value  # not a comment");
  EXPECT_FALSE(c.ini.count("envlist"));
}

TEST_F(ConfigTest, StrictXfailAliasAndFallback) {
  write("pytest.ini", "[pytest]\nstrict = true\n");
  EXPECT_TRUE(load({}).xfail_strict);
  write("pytest.ini", "[pytest]\nstrict = true\nxfail_strict = false\n");
  EXPECT_FALSE(load({}).xfail_strict);
  write("pytest.ini", "[pytest]\nxfail_strict = false\nstrict_xfail = yes\n");
  EXPECT_TRUE(load({}).xfail_strict);  // the canonical name wins
  write("pytest.ini", "[pytest]\nxfail_strict = maybe\n");
  Error e = load_error({});
  EXPECT_EQ(e.code, Errc::kUsage);
  EXPECT_NE(e.message.find("invalid truth value 'maybe'"), std::string::npos) << e.message;
}

TEST_F(ConfigTest, NativeTomlTablesKeepTypesAndAreChecked) {
  write("pyproject.toml",
        "[tool.pytest]\nminversion = '9.0'\naddopts = ['-ra', '-q']\nxfail_strict = true\n"
        "markers = ['slow: slow']\n\n[tool.dx-py]\nworkers = 4\npreload = ['a', 'b']\n");
  Config c = load({});
  EXPECT_EQ(c.addopts, (V{"-ra", "-q"}));
  EXPECT_TRUE(c.xfail_strict);
  EXPECT_EQ(c.markers, V{"slow: slow"});
  EXPECT_EQ(c.ini.at("minversion").text, "9.0");
  EXPECT_EQ(c.dx_py.at("workers").type, IniValue::Type::kInteger);
  EXPECT_EQ(c.dx_py.at("workers").text, "4");
  EXPECT_EQ(c.dx_py.at("preload").items, (V{"a", "b"}));
  EXPECT_EQ(c.dx.workers, 4u);
  EXPECT_EQ(c.dx.preload, (V{"a", "b"}));

  write("pyproject.toml", "[tool.pytest]\npython_files = 'check_*.py'\n");
  Error e = load_error({});
  EXPECT_EQ(e.code, Errc::kUsage);
  EXPECT_EQ(e.message, path("pyproject.toml") +
                           ": config option 'python_files' expects a list for type 'args', got str: 'check_*.py'");

  write("pyproject.toml", "[tool.pytest]\naddopts = ['-q']\n[tool.pytest.ini_options]\naddopts = '-q'\n");
  EXPECT_NE(load_error({}).message.find("Cannot use both [tool.pytest]"), std::string::npos);
}

TEST_F(ConfigTest, DxPyTableIsTyped) {
  write("pyproject.toml",
        "[tool.pytest.ini_options]\naddopts = '-q'\n\n[tool.dx-py]\nworkers = 'auto'\npreload = ['numpy']\n"
        "timeout = 2.5\nretries = 2\nsnapshot_dir = 'snaps'\ncache_dir = '/tmp/dxcache'\ngc_freeze = false\n");
  Config c = load({});
  EXPECT_EQ(c.addopts, V{"-q"});  // [tool.pytest.ini_options] is honoured beside it
  EXPECT_EQ(c.dx.file, path("pyproject.toml"));
  EXPECT_EQ(c.dx.workers, 0u);  // auto
  EXPECT_EQ(c.dx.preload, V{"numpy"});
  EXPECT_EQ(c.dx.timeout, 2.5);
  EXPECT_EQ(c.dx.retries, 2u);
  EXPECT_EQ(c.dx.snapshot_dir, path("snaps"));
  EXPECT_EQ(c.dx.cache_dir, "/tmp/dxcache");
  EXPECT_FALSE(c.dx.gc_freeze);

  write("pyproject.toml", "[tool.dx-py]\ntimeout = 3\n");
  c = load({});
  EXPECT_EQ(c.dx.timeout, 3.0);
  EXPECT_FALSE(c.dx.workers);
  EXPECT_FALSE(c.dx.retries);
  EXPECT_TRUE(c.dx.snapshot_dir.empty());
  EXPECT_TRUE(c.dx.gc_freeze);  // on unless the table turns it off

  write("pyproject.toml", "[project]\nname = 'x'\n");
  c = load({});
  EXPECT_TRUE(c.dx.file.empty());
}

TEST_F(ConfigTest, DxPyTableErrorsNameTheFileAndTheKey) {
  auto error_for = [&](const std::string& table) {
    write("pyproject.toml", "[tool.dx-py]\n" + table + "\n");
    Error e = load_error({});
    EXPECT_EQ(e.code, Errc::kUsage) << table;
    EXPECT_EQ(e.message.rfind(path("pyproject.toml") + ": [tool.dx-py] ", 0), 0u) << e.message;
    return e.message;
  };
  EXPECT_NE(error_for("workers = 'four'").find("workers must be a positive integer or \"auto\", got a string: 'four'"),
            std::string::npos);
  EXPECT_NE(error_for("workers = 0").find("workers must be"), std::string::npos);
  EXPECT_NE(error_for("workers = -2").find("workers must be"), std::string::npos);
  EXPECT_NE(error_for("timeout = '30'").find("timeout must be a number of seconds (0 or more), got a string: '30'"),
            std::string::npos);
  EXPECT_NE(error_for("timeout = -1").find("timeout must be"), std::string::npos);
  EXPECT_NE(error_for("timeout = true").find("got a boolean: True"), std::string::npos);
  EXPECT_NE(error_for("retries = 1.5").find("retries must be an integer (0 or more), got a float: 1.5"),
            std::string::npos);
  EXPECT_NE(error_for("preload = 'numpy'").find("preload must be a list of module names, got a string"),
            std::string::npos);
  EXPECT_NE(error_for("preload = ['a', 1]").find("(item 1 is not)"), std::string::npos);
  EXPECT_NE(error_for("gc_freeze = 'no'").find("gc_freeze must be true or false, got a string: 'no'"),
            std::string::npos);
  EXPECT_NE(error_for("snapshot_dir = 3").find("snapshot_dir must be a folder path"), std::string::npos);
  EXPECT_NE(error_for("snapshot-dir = 'x'").find("unknown key 'snapshot-dir' (did you mean 'snapshot_dir'?)"),
            std::string::npos);
  EXPECT_NE(error_for("wrokers = 2").find("unknown key 'wrokers' (did you mean 'workers'?)"), std::string::npos);
  std::string far = error_for("colour = 'yes'");
  EXPECT_NE(far.find("unknown key 'colour'; the keys are workers, preload"), std::string::npos) << far;
}

TEST_F(ConfigTest, IniOptionsTableStringifiesScalars) {
  write("pyproject.toml", "[tool.pytest.ini_options]\naddopts = '-ra -q'\nxfail_strict = true\ntimeout = 30\n");
  Config c = load({});
  EXPECT_EQ(c.addopts, (V{"-ra", "-q"}));
  EXPECT_TRUE(c.xfail_strict);
  EXPECT_EQ(c.ini.at("xfail_strict").text, "True");
  EXPECT_EQ(c.ini.at("timeout").type, IniValue::Type::kString);
  EXPECT_EQ(c.ini.at("timeout").text, "30");
  // An empty ini_options table still makes pyproject.toml the config file.
  write("pyproject.toml", "[tool.pytest.ini_options]\n");
  write("sub/tox.ini", "[tox]\n");
  EXPECT_EQ(load({"sub"}).inifile, path("pyproject.toml"));
}

TEST_F(ConfigTest, PytestTomlComesFirst) {
  write("pytest.toml", "[pytest]\ntestpaths = ['t']\n");
  write("pytest.ini", "[pytest]\ntestpaths = other\n");
  Config c = load({});
  EXPECT_EQ(c.inifile, path("pytest.toml"));
  EXPECT_EQ(c.testpaths, V{"t"});
  EXPECT_EQ(c.ignored_config_files, V{"pytest.ini"});
}

TEST_F(ConfigTest, BrokenFilesNameTheFileAndLine) {
  write("pyproject.toml", "[tool.pytest.ini_options]\naddopts = [\n");
  Error e = load_error({});
  EXPECT_EQ(e.code, Errc::kParse);
  EXPECT_EQ(e.message.rfind(path("pyproject.toml") + ": ", 0), 0u) << e.message;
  EXPECT_NE(e.message.find("(at line 2"), std::string::npos) << e.message;

  std::filesystem::remove(path("pyproject.toml"));
  write("tox.ini", "[tox]\nenvlist = py3\nthis line is wrong\n");  // tox.ini is parsed even without [pytest]
  Error f = load_error({});
  EXPECT_EQ(f.code, Errc::kParse);
  EXPECT_EQ(f.message, path("tox.ini") + ":3: unexpected line: 'this line is wrong'");
}

TEST_F(ConfigTest, OverridesBeatTheFile) {
  write("pytest.ini", "[pytest]\nstrict_xfail = false\npython_files = a_*.py\n");
  Config c = load({});
  ASSERT_TRUE(apply_overrides(c, {"xfail_strict=true", "python_files=b_*.py c_*.py", "python_files=d.py"}));
  EXPECT_TRUE(c.xfail_strict);
  EXPECT_EQ(c.python_files, V{"d.py"});
  auto bad = apply_overrides(c, {"novalue"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "-o/--override-ini expects option=value style (got: 'novalue').");
}

TEST(Matching, PythonFilesClassesFunctions) {
  Config c;
  EXPECT_TRUE(matches_python_files("test_a.py", c));
  EXPECT_TRUE(matches_python_files("/r/pkg/a_test.py", c));
  EXPECT_FALSE(matches_python_files("/r/test_pkg/a.py", c));
  EXPECT_FALSE(matches_python_files("test_a.pyc", c));
  c.python_files = {"tests/check_*.py"};
  EXPECT_TRUE(matches_python_files("/r/tests/check_x.py", c));
  EXPECT_FALSE(matches_python_files("/r/other/check_x.py", c));

  EXPECT_TRUE(matches_python_classes("TestThing", c));
  EXPECT_TRUE(matches_python_classes("Test", c));
  EXPECT_FALSE(matches_python_classes("MyTest", c));
  EXPECT_TRUE(matches_python_functions("test_x", c));
  EXPECT_TRUE(matches_python_functions("testing", c));  // a prefix, not a word
  c.python_classes = {"*Suite", "Check"};
  EXPECT_TRUE(matches_python_classes("MySuite", c));
  EXPECT_TRUE(matches_python_classes("Checker", c));
  EXPECT_FALSE(matches_python_classes("Suites", c));
}

}  // namespace
}  // namespace dxpy::config
