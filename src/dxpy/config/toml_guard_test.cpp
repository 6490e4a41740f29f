#include "dxpy/config/toml_guard.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "dxpy/config/config.h"
#include "dxpy/util/fs.h"

namespace dxpy::config {
namespace {

TEST(TomlGuard, NonAsciiInStringsAndCommentsIsFine) {
  EXPECT_FALSE(check_toml_for_toml_plus_plus("[project]\nauthors = [{name = \"Jos\xC3\xA9\"}]  # \xC3\xA9t\xC3\xA9\n"));
  EXPECT_FALSE(check_toml_for_toml_plus_plus("a = '\xD2\x95'\nb = '''\n\xD2\x95\n'''\nc = \"\"\"\n\xD2\x95\\n\"\"\"\n"));
  EXPECT_FALSE(check_toml_for_toml_plus_plus("\"k\xC3\xA9y\" = 1\n"));  // a quoted key
  EXPECT_FALSE(check_toml_for_toml_plus_plus("a = \"\"\"x\"\"\"\"\"\nb = 'x'\n"));
}

TEST(TomlGuard, NonAsciiWhereTomlAllowsNoneIsRefusedWithItsPlace) {
  auto bad = check_toml_for_toml_plus_plus("[tool.pytest]\nk\xC3\xA9y = 1\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->line, 2u);
  EXPECT_EQ(bad->column, 2u);
  EXPECT_TRUE(check_toml_for_toml_plus_plus("a = \"\\\xC3\xA9\"\n"));        // not an escape
  EXPECT_TRUE(check_toml_for_toml_plus_plus("a = \"\"\"x\\\n  \xC3\xA9\"\"\"\n"));  // after a line-ending backslash
  EXPECT_FALSE(check_toml_for_toml_plus_plus("a = \"\"\"x\\\n  y\xC3\xA9\"\"\"\n"));
}

// What the config fuzzer found (undefined behaviour inside toml++ 3.3.0): now a parse error
// naming the file, never toml++'s unreachable code.
TEST(TomlGuard, TheFuzzersInputIsAParseError) {
  // src/dxpy/config/fuzz_corpus/regression-toml-unreachable
  const char raw[] = "\x03[tool\xD2\x95ytest]\nadsIon = \"8\"*.py\"]\ncO\0\0" "1-01T00:00:00Z, true] }\n";
  const std::string input(raw, sizeof raw - 1);
  ASSERT_EQ(input.size(), 62u);
  EXPECT_TRUE(check_toml_for_toml_plus_plus(input));
  std::string tmpl = ::testing::TempDir() + "dxpy_toml_guard_XXXXXX";
  std::string dir = std::filesystem::canonical(mkdtemp(tmpl.data())).string();
  ASSERT_TRUE(write_file_atomic(join_path(dir, "pyproject.toml"), input));
  auto cfg = load_config({}, dir, "", "");
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("pyproject.toml"), std::string::npos) << cfg.error().message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dxpy::config
