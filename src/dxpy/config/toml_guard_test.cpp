#include "dxpy/config/toml_guard.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "dxpy/config/config.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/test_temp_dir.h"

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
  std::string dir = std::filesystem::canonical(dxpy::testing::make_temp_dir("dxpy_toml_guard_")).string();
  ASSERT_TRUE(write_file_atomic(join_path(dir, "pyproject.toml"), input));
  auto cfg = load_config({}, dir, "", "");
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("pyproject.toml"), std::string::npos) << cfg.error().message;
  std::filesystem::remove_all(dir);
}


// The fuzzer's second input: a quote inside a bare value does not open a string, and toml++
// reads on through the non-ASCII character after it.
TEST(TomlGuard, AQuoteInsideABareValueOpensNoString) {
  // src/dxpy/config/fuzz_corpus/regression-toml-unreachable-2
  const char raw[] = "\x04\x5b\x70\x79\x74\x65\x73\x74\x5d\x0a\x74\x65\x73\x74\x70\x61\x74\x68\x73\x20\x3d\x20\x5b\x22\x61\x22\x2c\x20\x22\x62\x22\x5d\x0a\x6c\x6f\x67\x5f\x63\x6c\x69\x20\x3d\x20\x74\x72\x75\x65\x0a\x6c\x6f\x67\x5f\x6c\x65\x76\x65\x6c\x20\x3d\x20\x22\x49\x4e\x46\x4f\x22\x0a\x6d\x61\x78\x20\x3d\x20\x39\x37\x37\x35\x38\x37\x32\x37\x39\x38\x30\x36\x30\x30\x34\x7e\x37\x32\x37\x37\x35\x38\x37\x32\x30\x33\x36\x38\x75\x65\x08\x6c\x6f\x67\x5f\x6c\x65\x03\x27\x27\x27\x6f\x6c\xd2\x95\x0a\x76\x65\x6c\x6e\x61\x6d\x65\x49\x4e\x46\x4f\x22\x0a\x6d\x61\x78\x20\x3d\x20\x74\x6f\x6f\x6c\x3a\x70\x79\x74\x65\x73\x7a\x6d\x6d\x0a\x61\x69\x6c\x48\x48\x48\x39";
  const std::string input(raw, sizeof raw - 1);
  ASSERT_EQ(input.size(), 159u);
  EXPECT_TRUE(check_toml_for_toml_plus_plus(input));
  EXPECT_TRUE(check_toml_for_toml_plus_plus("a = 1'\xC3\xA9'\n"));
  EXPECT_FALSE(check_toml_for_toml_plus_plus("a = [\n  'x\xC3\xA9',\n  \"\xC3\xA9\"\n]\nb = {c = '\xC3\xA9'}\n[\"t\xC3\xA9\".'u\xC3\xA9']\n"));
}

TEST(TomlGuard, ABracketInsideABareValueOpensNoArrayAndControlCharactersAreRefused) {
  // src/dxpy/config/fuzz_corpus/regression-toml-unreachable-3 (CI's config fuzzer, 30 s run)
  const char raw[] = "\x03\x5b\x74\x6f\x6f\x6c\x2e\x70\x79\x74\x65\x73\x74\x5d\x0a\x61\x64\x6f\x70\x64\x74\x73\x20\x3d\x20\x32\x5b\x22\x00\x03\x2d\x32\x00\x00\x00\x00\x00\x00\x00\x6e\x6e\x6e\x6e\x6e\x6e\x6f\x6c\xd2\x95\x79\x6e\x5d\x6e\x6e\x6e\x6e\x6e\x6e\x6e\x6e\x6e\x00\x00\x00\x5c\x5c\x5c\x5c\x5c\x5c\x20\x3c\x20\x78\x0a\x5b\x74\x6f\x6f\x6c\x3a\x70\x79\x74\x65\x73\x74\x5d\x22\x5d\x0a\x70\x79";
  const std::string input(raw, sizeof raw - 1);
  ASSERT_EQ(input.size(), 93u);
  auto refused = check_toml_for_toml_plus_plus(input);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->line, 1u);
  EXPECT_EQ(refused->column, 1u);  // the control character \x03
  // The same without control characters: "2[" is one bare token to toml++, so the quote
  // after it opens no string and the non-ASCII character is outside one.
  auto bare = check_toml_for_toml_plus_plus("[tool.pytest]\nadopdts = 2[\"nnol\xD2\x95yn]\"]\n");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->line, 2u);
  // Control characters are refused in strings and comments too; tab is allowed.
  EXPECT_TRUE(check_toml_for_toml_plus_plus("a = \"x\x01\"\n"));
  EXPECT_TRUE(check_toml_for_toml_plus_plus("# c\x7f\n"));
  EXPECT_FALSE(check_toml_for_toml_plus_plus("a = \"x\ty\"\r\n# tab\there\n"));
  // Arrays, nested arrays, inline tables and table headers still open strings.
  EXPECT_FALSE(check_toml_for_toml_plus_plus("a = [[1], [\"\xC3\xA9\"]]\nb = {c = [\"\xC3\xA9\"]}\n[[\"t\xC3\xA9\"]]\n"));
}

}  // namespace
}  // namespace dxpy::config
