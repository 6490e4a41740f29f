#include "dxpy/config/ini.h"

#include <gtest/gtest.h>

namespace dxpy::config {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries section(std::string_view text, std::string_view name) {
  auto r = parse_ini("t.ini", text);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return {};
  const IniSection* s = r->find(name);
  return s ? s->entries : Entries{{"<missing>", ""}};
}

std::string error_of(std::string_view text) {
  auto r = parse_ini("t.ini", text);
  EXPECT_FALSE(r) << text;
  if (r) return "";
  EXPECT_EQ(r.error().code, Errc::kParse);
  return r.error().message;
}

// Expected values from iniconfig.IniConfig, as pytest reads ini files.
TEST(Ini, ContinuationLinesSkipBlanksAndComments) {
  EXPECT_EQ(section("[pytest]\nmarkers =\n    slow: slow tests\n\n    # a comment\n    fast: quick ; not a comment\n"
                    "addopts = -ra  # kept\n",
                    "pytest"),
            (Entries{{"markers", "slow: slow tests\nfast: quick ; not a comment"}, {"addopts", "-ra  # kept"}}));
  EXPECT_EQ(section("[pytest]\na =\nb=\n  x\n", "pytest"), (Entries{{"a", ""}, {"b", "x"}}));
  EXPECT_EQ(section("[pytest]\r\na = 1\r\n  2\r\n", "pytest"), (Entries{{"a", "1\n2"}}));
}

TEST(Ini, KeyValueSeparators) {
  EXPECT_EQ(section("[pytest]\nkey: value\nurl = http://x\nk:a=b\n", "pytest"),
            (Entries{{"key", "value"}, {"url", "http://x"}, {"k", "a=b"}}));
}

TEST(Ini, SectionHeadersDropComments) {
  auto r = parse_ini("t.ini", "\xef\xbb\xbf[pytest] ; c\na=1\n[other]#x\nb=2\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->sections.size(), 2u);
  EXPECT_EQ(r->sections[0].name, "pytest");
  EXPECT_EQ(r->sections[1].name, "other");
  EXPECT_EQ(r->sections[1].line, 3u);
  // A '[' line without a closing ']' continues the previous value, as iniconfig has it.
  EXPECT_EQ(section("[pytest]\na=1\n[notasection\n", "pytest"), (Entries{{"a", "1\n[notasection"}}));
}

TEST(Ini, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of("[pytest]\noops\n"), "t.ini:2: unexpected line: 'oops'");
  EXPECT_EQ(error_of("a=1\n[pytest]\n"), "t.ini:1: no section header defined");
  EXPECT_EQ(error_of("[pytest]\na=1\na=2\n"), "t.ini:3: duplicate name 'a'");
  EXPECT_EQ(error_of("[pytest]\n[pytest]\n"), "t.ini:2: duplicate section 'pytest'");
  EXPECT_EQ(error_of("  x\n"), "t.ini:1: unexpected value continuation");
  EXPECT_EQ(error_of("[pytest]\n  x\n"), "t.ini:2: unexpected value continuation");
  EXPECT_EQ(error_of("[]\n"), "t.ini:1: empty section name");
  // Line errors come before structural ones, as iniconfig's two passes order them.
  EXPECT_EQ(error_of("a=1\n[pytest\noops\n"), "t.ini:3: unexpected line: 'oops'");
  EXPECT_EQ(error_of("[pytest]\nit's\n"), "t.ini:2: unexpected line: \"it's\"");
}

}  // namespace
}  // namespace dxpy::config
