#pragma once
/// The fast front end: one pass over Python source, tokenising only as far as an Outline
/// needs (strings of every kind, comments, brackets, line continuations, indentation)
/// and never building a tree. Function bodies are skipped except for their imports.
///
/// On valid Python its Outline equals outline_with_tree_sitter's (scanner_diff_test.cpp
/// checks this over real code). On invalid input it never reads out of bounds and reports
/// the errors CPython's tokenizer would (unclosed or mismatched brackets, unterminated
/// strings, bad indentation, NUL bytes) plus malformed def/class/import/decorator lines;
/// other errors, such as a malformed expression, go unnoticed. An outline with errors
/// holds nothing else, as tree-sitter's does.

#include <string>
#include <string_view>

#include "dxpy/discovery/outline.h"

namespace dxpy::discovery {

/// The outline of one module's source (UTF-8, or any ASCII-compatible encoding).
Outline scan_outline(std::string_view source);
/// scan_outline into `out`, replacing what it held: a caller scanning many files reuses
/// one Outline and so the capacity of its lists.
void scan_outline_into(std::string_view source, Outline& out);

/// Source text as Outline stores it (Decorator::text, Assignment::value, Def::bases):
/// comments dropped; line breaks, continuations and runs of blanks outside string
/// literals folded to one space; leading and trailing blanks trimmed; literals verbatim.
std::string fold_source_text(std::string_view text);

}  // namespace dxpy::discovery
