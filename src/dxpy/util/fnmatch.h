#pragma once
/// Glob matching with the exact semantics pytest inherits from Python's `fnmatch` (3.11):
/// '*' matches any run of characters and '?' any one character, '/' included; "[seq]" and
/// "[!seq]" are sets with ranges ("[a-z]"); a '[' without a closing ']' is a literal; a
/// reversed range such as "[z-a]" is dropped with its end points, as Python does. Matching is
/// case-sensitive (os.path.normcase is the identity on POSIX) and works on code points, so
/// '?' matches one UTF-8 character; bytes that are not valid UTF-8 count as one character each.

#include <string>
#include <string_view>
#include <vector>

namespace dxpy {

/// fnmatch.fnmatch(name, pattern): the whole of `name` must match.
bool fnmatch(std::string_view name, std::string_view pattern);

/// pytest's fnmatch_ex (python_files and other path globs): a pattern without '/' matches
/// the path's last component; otherwise it matches the whole path, and a relative pattern
/// against an absolute path gets a "*/" prefix, so "tests/test_*.py" matches anywhere.
bool fnmatch_path(std::string_view pattern, std::string_view path);

/// pytest's _matches_prefix_or_glob_option (python_classes, python_functions): `name`
/// starts with a pattern, or matches it as a glob when it holds a glob character.
bool matches_prefix_or_glob(std::string_view name, const std::vector<std::string>& patterns);

}  // namespace dxpy
