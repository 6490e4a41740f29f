#pragma once
/// pytest's collection rules applied to a module's Outline: which defs are tests, their
/// node ids, marks, requested fixtures and statically expanded parametrizations; which
/// defs are fixtures.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/discovery/outline.h"

namespace dxpy::discovery {

/// The name-matching ini options (python_classes, python_functions): each entry is a
/// prefix, or a glob when it holds a glob character, as pytest's
/// _matches_prefix_or_glob_option.
struct NameRules {
  std::vector<std::string> classes = {"Test"};
  std::vector<std::string> functions = {"test"};
};


/// A class in some module, with what resolving its own bases needs.
struct ClassRef {
  const Def* def = nullptr;
  const Outline* outline = nullptr;  // of the module defining it
  std::string path;                  // that module's rootdir-relative path
};

/// Resolves a base-class expression written in module `from_path` (outline `from`) to a
/// class defined in another module; nullopt when it cannot be found statically.
using BaseResolver =
    std::function<std::optional<ClassRef>(const Outline& from, const std::string& from_path, const std::string& base)>;

/// True when some class of `outline` names a base that the file itself does not define:
/// inheritance that only another module's outline can complete.
bool has_foreign_bases(const Outline& outline);

/// Fills `record.tests`, `record.fixtures`, `record.imports` and the collection error
/// from `outline`. `record.path` (rootdir-relative) must be set; the tests' `file` is left
/// empty. A conftest.py yields fixtures and imports but no tests.
void apply_rules(const Outline& outline, const NameRules& rules, FileRecord& record,
                 const BaseResolver* resolver = nullptr);

/// apply_rules, but each test's `id.path` is left empty: the record's path stands for it,
/// as in the index (index::prepare_record), which spares a string per test.
void apply_rules_compact(const Outline& outline, const NameRules& rules, FileRecord& record,
                         const BaseResolver* resolver = nullptr);

}  // namespace dxpy::discovery
