#pragma once
/// Just enough of Python's expression syntax to read decorator arguments statically:
/// splitting a call's arguments, and evaluating the literals whose pytest ids can be known
/// without importing (numbers, strings, bytes, True/False/None, tuples, lists).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dxpy::discovery {

/// `callee(arg, key=value, ...)` split at top-level commas. `args` holds positional
/// argument texts, `kwargs` (name, value text). nullopt when `text` is not a call.
struct CallParts {
  std::string callee;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> kwargs;
};
std::optional<CallParts> split_call(std::string_view text);

/// Splits the items of a tuple/list display "(a, b)", "[a, b]"; nullopt if not one.
/// A parenthesised single value without a trailing comma is not a tuple.
std::optional<std::vector<std::string>> split_sequence(std::string_view text);

/// A Python literal's pytest id fragment (IdMaker._idval_from_value) or, for tuples, lists
/// and other containers, the fact that pytest falls back to argname+index.
struct LiteralId {
  enum Kind { kId, kUseArgname, kUnknown } kind = kUnknown;
  std::string id;
};
LiteralId literal_id(std::string_view text);

/// The value of a plain string literal ('x', "x", r'x'), escapes decoded; nullopt otherwise.
std::optional<std::string> string_literal(std::string_view text);

/// Strips surrounding whitespace.
std::string_view trim(std::string_view s);

}  // namespace dxpy::discovery
