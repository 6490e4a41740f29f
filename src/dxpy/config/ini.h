#pragma once
/// INI files read with iniconfig's rules, the parser pytest uses for pytest.ini, tox.ini
/// and setup.cfg (IniConfig(path), so inline comments are *kept* in values):
///
///   [section]            a header; text after '#' or ';' is cut from header lines only
///   key = value          split at the first '=', unless the name part would hold a ':',
///   key: value           then at the first ':'; name and value are stripped
///       more             an indented line continues the previous value ("value\nmore")
///   # or ; comment       lines that start (after blanks) with '#' or ';' are skipped,
///                        as are blank lines, even inside a continued value
///
/// A leading UTF-8 BOM is dropped; "\r\n" and "\r" are line breaks, as Python's text mode.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::config {

struct IniSection {
  std::string name;
  uint32_t line = 0;  // 1-based
  std::vector<std::pair<std::string, std::string>> entries;  // in file order
  const std::string* find(std::string_view key) const;
};

struct IniFile {
  std::vector<IniSection> sections;  // in file order
  const IniSection* find(std::string_view name) const;
};

/// Errors are kParse, worded as iniconfig.ParseError prints: "PATH:LINE: message", e.g.
/// "tox.ini:3: unexpected line: 'oops'", "no section header defined", "duplicate name 'a'".
Expected<IniFile> parse_ini(std::string_view path, std::string_view text);

}  // namespace dxpy::config
