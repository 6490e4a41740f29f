#pragma once
/// pytest's `-k`/`-m` match expressions (_pytest/mark/expression.py, pytest 9):
///
///   expression: expr? EOF
///   expr:       and_expr ('or' and_expr)*
///   and_expr:   not_expr ('and' not_expr)*
///   not_expr:   'not' not_expr | '(' expr ')' | ident kwargs?
///   ident:      (\w|:|\+|-|\.|\[|\]|\\|/)+
///   kwargs:     '(' name '=' value (',' name '=' value)* ')'
///   value:      'string' | "string" (no backslashes) | -?[0-9]+ | True | False | None
///
/// An empty expression is false. Compiled once to a tree, evaluated per test against a
/// matcher that says whether one identifier matches. Errors carry pytest's wording and
/// column, e.g. "Wrong expression passed to '-k': a and: at column 6: expected not OR left
/// parenthesis OR identifier; got end of input".

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::select {

class KeywordMatcher;
class MarkMatcher;

/// A keyword argument's value in `name(key=value)`.
struct KwargValue {
  enum class Kind : uint8_t { kString, kInt, kBool, kNone };
  Kind kind = Kind::kString;
  /// kString: the text between the quotes; kInt: canonical decimal ("7" for 007, "0" for
  /// -0, any length); kBool: "True" or "False"; kNone: "None".
  std::string text;
  friend bool operator==(const KwargValue&, const KwargValue&) = default;
};

struct Kwarg {
  std::string name;
  KwargValue value;
  friend bool operator==(const Kwarg&, const Kwarg&) = default;
};

/// Whether `name` (with `kwargs`, empty for a bare identifier) matches. An error aborts the
/// evaluation, as pytest's UsageError from a matcher does.
using Matcher = std::function<Expected<bool>(std::string_view name, const std::vector<Kwarg>& kwargs)>;

class Expression {
 public:
  /// `option` names the flag in error messages: "-k" or "-m". Errors are kUsage; kLimit
  /// for nesting deeper than 500 levels (where pytest itself fails with RecursionError).
  static Expected<Expression> compile(std::string_view input, std::string_view option = "-k");

  /// `and`/`or` short-circuit left to right, so a matcher error in a branch not taken
  /// does not surface, as in pytest.
  Expected<bool> evaluate(const Matcher& matcher) const;
  Expected<bool> evaluate(const KeywordMatcher& matcher) const;
  bool evaluate(const MarkMatcher& matcher) const;

  const std::string& input() const { return input_; }

  enum class Kind : uint8_t { kFalse, kIdent, kCall, kNot, kAnd, kOr };
  struct Node {
    Kind kind = Kind::kFalse;
    std::string name;               // kIdent, kCall
    std::vector<Kwarg> kwargs;      // kCall
    std::vector<uint32_t> children; // kNot: one; kAnd/kOr: two or more, left to right
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  uint32_t root() const { return root_; }

 private:
  friend class Parser;
  template <class F>
  auto eval(uint32_t n, const F& match) const -> decltype(match(std::string_view{}, std::vector<Kwarg>{}));

  std::string input_;
  std::vector<Node> nodes_;
  uint32_t root_ = 0;
};

/// pytest's handling of the -k value: leading whitespace is dropped first (so columns
/// count from the first non-blank), and an empty value selects everything (nullopt).
Expected<std::optional<Expression>> compile_keyword_option(std::string_view value);
/// The -m value: only an empty string selects everything; " " compiles to an empty
/// expression, which is false and deselects every test, exactly as pytest does.
Expected<std::optional<Expression>> compile_mark_option(std::string_view value);

}  // namespace dxpy::select
