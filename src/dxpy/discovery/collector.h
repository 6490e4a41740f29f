#pragma once
/// Static collection: what one Python source file holds for pytest, found by parsing it,
/// never by importing it; and the test files under a folder.

#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/discovery/outline.h"
#include "dxpy/discovery/rules.h"

namespace dxpy::discovery {

/// The outline of a source file, from the front end in use.
Outline parse_outline(std::string_view source);

/// Everything discovery learns from one file: tests, fixtures, imports, collection error.
/// `record.path` (rootdir-relative) must be set; size, mtime and hash are the caller's.
/// Returns whether a class names a base defined in another module (see has_foreign_bases).
bool describe_source(std::string_view source, const NameRules& rules, FileRecord& record);
/// describe_source with the tests' `id.path` left empty (see apply_rules_compact).
bool describe_source_compact(std::string_view source, const NameRules& rules, FileRecord& record);

/// The ini options that decide which files are test modules.
struct FileRules {
  std::vector<std::string> python_files = {"test_*.py", "*_test.py"};
  std::vector<std::string> norecursedirs = {"*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv",
                                            "{arch}"};
};

/// True when `name` matches python_files.
bool is_test_file_name(std::string_view name, const FileRules& rules = {});

/// Test files under each of `paths` (a file given explicitly is taken whatever its name),
/// in the order pytest visits them, skipping norecursedirs and virtualenvs.
std::vector<std::string> find_test_files(const std::vector<std::string>& paths, const FileRules& rules = {});

}  // namespace dxpy::discovery
