#pragma once
/// The Outline of a module built from a tree-sitter-python syntax tree: the reference the
/// fast scanner (scanner.h) is checked against. About 15x slower than the scanner.

#include <string>
#include <string_view>

#include "dxpy/discovery/outline.h"

namespace dxpy::discovery {

/// Parses `source` with tree-sitter's Python grammar. When the tree holds an ERROR or
/// MISSING node the outline holds only that error (line of the first such node, depth
/// first); a partial tree would give an arbitrary outline.
Outline outline_with_tree_sitter(std::string_view source);

/// For the differential tests' reports: the first field where `a` and `b` differ, as
/// `defs[2].body[0].params: [self, x] != [self]`; empty when the outlines are equal.
std::string first_difference(const Outline& a, const Outline& b);

/// An outline one item per line, indented by nesting.
std::string describe(const Outline& outline);

}  // namespace dxpy::discovery
