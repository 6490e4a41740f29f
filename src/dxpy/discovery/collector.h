#pragma once
/// Static collection: the test items of one Python source file, found by parsing it
/// (tree-sitter's Python grammar), never by importing it.

#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/discovery/rules.h"

namespace dxpy::discovery {

/// A file that cannot be collected, as pytest's "ERROR collecting path".
struct CollectError {
  std::string path;
  uint32_t line = 0;  // 1-based; 0 when unknown
  std::string message;
};

struct ModuleItems {
  std::vector<TestCase> tests;
  std::vector<CollectError> errors;  // at most one for now: a syntax error
};

/// Collects the tests of `source`, whose rootdir-relative path is `rel_path` and whose
/// path for the worker is `abs_path`.
ModuleItems collect_module(std::string_view source, const std::string& rel_path, const std::string& abs_path);

/// Everything discovery learns from one file: tests, fixtures, imports, collection error.
/// `record.path` (rootdir-relative) must be set; size, mtime and hash are the caller's.
void describe_source(std::string_view source, const std::string& abs_path, const NameRules& rules, FileRecord& record);

/// True for file names pytest collects by default: test_*.py and *_test.py.
bool is_test_file_name(std::string_view name);

/// Test files under each of `paths` (files are taken as given), sorted the way pytest
/// visits them, skipping pytest's default norecursedirs.
std::vector<std::string> find_test_files(const std::vector<std::string>& paths);

}  // namespace dxpy::discovery
