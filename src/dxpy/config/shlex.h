#pragma once
/// Python's shlex.split (POSIX mode, no comments): how pytest splits "args"-typed ini
/// values such as addopts, python_files and testpaths.

#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::config {

/// Splits at spaces, tabs and line breaks; '...' is literal, "..." honours \" and \\ only,
/// a backslash outside quotes escapes any character, and `""` gives an empty word.
/// Errors (kParse) with shlex's wording: "No closing quotation", "No escaped character".
Expected<std::vector<std::string>> shlex_split(std::string_view s);

}  // namespace dxpy::config
