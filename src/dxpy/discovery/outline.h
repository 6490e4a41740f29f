#pragma once
/// The outline of a Python module: what discovery needs from a source file, and nothing
/// else. Two front ends produce it: the fast scanner (scanner.h) and tree-sitter
/// (ts_outline.h), which is the scanner's oracle in the differential tests. Collection
/// rules (collector.h) work on the outline only, so they are written once.

#include <cstdint>
#include <string>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::discovery {

/// A decorator: its expression's source text without the '@', whitespace as written
/// (comments and line breaks inside brackets removed, runs of blanks folded to one).
struct Decorator {
  std::string text;
  uint32_t line = 0;
  friend bool operator==(const Decorator&, const Decorator&) = default;
};

/// `NAME = VALUE` (or `NAME: T = VALUE`) directly in a module or class body; VALUE's
/// source text normalised like Decorator::text. Only simple names are recorded, and only
/// at the body's own level (not inside compound blocks).
struct Assignment {
  std::string name;
  std::string value;
  uint32_t line = 0;
  friend bool operator==(const Assignment&, const Assignment&) = default;
};

/// Imports are core's ImportRef: the index stores them as they are.
using Import = ImportRef;

enum class DefKind : uint8_t { kFunction = 0, kAsyncFunction = 1, kClass = 2 };

/// A def, async def or class in a module or class body, not inside a function. Defs in
/// compound blocks of that body (if/elif/else, try/except/else/finally, with, for, while)
/// are listed too, in source order, with `conditional` set: whether they exist is only
/// known at import time.
struct Def {
  DefKind kind = DefKind::kFunction;
  std::string name;
  uint32_t line = 0;  // of the `def`/`class` keyword (after the decorators)
  std::vector<Decorator> decorators;
  /// Functions: parameter names in order, without defaults, annotations or `*`/`**`
  /// markers (a bare `*` or `/` separator is omitted; `*args` gives "args").
  std::vector<std::string> params;
  /// Classes: the text of each base-class expression (keywords such as metaclass= omitted).
  std::vector<std::string> bases;
  /// Classes: their body's defs and assignments.
  std::vector<Def> body;
  std::vector<Assignment> assignments;
  bool conditional = false;
  friend bool operator==(const Def&, const Def&) = default;
};

struct SyntaxIssue {
  uint32_t line = 0;  // 1-based
  std::string message;
  friend bool operator==(const SyntaxIssue&, const SyntaxIssue&) = default;
};

struct Outline {
  std::vector<Def> defs;
  std::vector<Assignment> assignments;  // module level
  std::vector<Import> imports;          // every import in the file, in source order
  std::vector<SyntaxIssue> errors;      // non-empty: the file would not compile
  friend bool operator==(const Outline&, const Outline&) = default;
};

}  // namespace dxpy::discovery
