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
void describe_source(std::string_view source, const std::string& abs_path, const NameRules& rules, FileRecord& record);

/// True for file names pytest collects by default: test_*.py and *_test.py.
bool is_test_file_name(std::string_view name);

/// Test files under each of `paths` (files are taken as given), sorted the way pytest
/// visits them, skipping pytest's default norecursedirs.
std::vector<std::string> find_test_files(const std::vector<std::string>& paths);

}  // namespace dxpy::discovery
