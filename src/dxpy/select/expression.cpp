#include "dxpy/select/expression.h"

#include <algorithm>
#include <utility>

#include "dxpy/select/matchers.h"

namespace dxpy::select {

namespace {

constexpr int kMaxDepth = 500;

enum class Tok : uint8_t { kLParen, kRParen, kOr, kAnd, kNot, kIdent, kEof, kEqual, kString, kComma };

std::string_view describe(Tok t) {
  switch (t) {
    case Tok::kLParen: return "left parenthesis";
    case Tok::kRParen: return "right parenthesis";
    case Tok::kOr: return "or";
    case Tok::kAnd: return "and";
    case Tok::kNot: return "not";
    case Tok::kIdent: return "identifier";
    case Tok::kEof: return "end of input";
    case Tok::kEqual: return "=";
    case Tok::kString: return "string literal";
    case Tok::kComma: return ",";
  }
  return "?";
}

struct Token {
  Tok type = Tok::kEof;
  std::string value;
  size_t pos = 0;  // byte offset
};

// Decodes the UTF-8 sequence at s[i]; `len` gets its length. An invalid byte gives
// U+FFFD with length 1, which no rule below accepts as a word character.
char32_t decode_at(std::string_view s, size_t i, size_t& len) {
  auto b = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b < 0x80) return b;
  size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0xFFFD;
  char32_t cp = b & (0x3F >> (n - 1));
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (c & 0x3F);
  }
  len = n;
  return cp;
}

// Python's \w: str.isalnum() or '_'. Exact for ASCII and Latin-1; beyond, the common
// blocks of punctuation, symbols, arrows and emoji are non-word and the rest (letters of
// other scripts, CJK) word, which is close but not Unicode's exact table.
bool is_word(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  if (c < 0xC0) return c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA || (c >= 0xBC && c <= 0xBE);
  if (c == 0xD7 || c == 0xF7) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return (c >= 0x2150 && c <= 0x2189) || (c >= 0x2460 && c <= 0x24FF);
  if (c >= 0x2E00 && c <= 0x2E7F) return false;
  if (c >= 0x3000 && c <= 0x303F) return (c >= 0x3005 && c <= 0x3007) || (c >= 0x3021 && c <= 0x3029);
  if (c >= 0xD800 && c <= 0xF8FF) return false;
  if (c >= 0xFE30 && c <= 0xFE6F) return false;
  if (c >= 0xFF00 && c <= 0xFF0F) return false;
  if ((c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65)) return false;
  if (c >= 0xFFF0 && c <= 0xFFFF) return false;
  if (c >= 0x1F000 && c <= 0x1FAFF) return false;
  return c <= 0x10FFFF;
}

// The ident token: (\w|:|\+|-|\.|\[|\]|\\|/)+
bool is_ident_char(char32_t c) {
  return is_word(c) || c == ':' || c == '+' || c == '-' || c == '.' || c == '[' || c == ']' || c == '\\' || c == '/';
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// str.isidentifier(), approximated by word characters that do not start with a digit.
bool is_identifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  size_t len = 0;
  for (size_t i = 0; i < s.size(); i += len) {
    if (!is_word(decode_at(s, i, len))) return false;
  }
  return true;
}

bool is_keyword(std::string_view s) {
  static constexpr std::string_view kKeywords[] = {
      "False", "None",   "True",    "and",      "as",     "assert", "async",  "await", "break",
      "class", "continue", "def",   "del",      "elif",   "else",   "except", "finally", "for",
      "from",  "global", "if",      "import",   "in",     "is",     "lambda", "nonlocal", "not",
      "or",    "pass",   "raise",   "return",   "try",    "while",  "with",   "yield"};
  return std::find(std::begin(kKeywords), std::end(kKeywords), s) != std::end(kKeywords);
}

std::string canonical_int(std::string_view digits) {
  bool neg = !digits.empty() && digits[0] == '-';
  if (neg) digits.remove_prefix(1);
  auto nz = digits.find_first_not_of('0');
  if (nz == std::string_view::npos) return "0";
  std::string out = neg ? "-" : "";
  out.append(digits.substr(nz));
  return out;
}

}  // namespace

// A transcription of expression.py's Scanner and recursive descent. The scanner there is a
// generator one token ahead of the parser, so a lexing error surfaces only when the parser
// moves onto the bad token: tokens are lexed up front and the error is kept until then.
class Parser {
 public:
  Parser(std::string_view input, std::string_view option)
      : input_(input), prefix_("Wrong expression passed to '" + std::string(option) + "'") {}

  Expected<Expression> parse() {
    lex();
    if (tokens_.empty()) return Unexpected<Error>{*lex_error_};
    Expression e;
    e.input_ = std::string(input_);
    nodes_ = &e.nodes_;
    if (current().type == Tok::kEof) {
      e.root_ = add(Expression::Node{});
    } else {
      DXPY_TRY(e.root_, expr(0));
      DXPY_TRY_VOID(expect(Tok::kEof));
    }
    DXPY_TRY_VOID(check_calls(e));
    return e;
  }

 private:
  Unexpected<Error> syntax_error(size_t byte_pos, std::string_view msg, Errc code = Errc::kUsage) const {
    return make_error(code, prefix_ + ": " + std::string(input_) + ": at column " +
                                std::to_string(column(byte_pos)) + ": " + std::string(msg));
  }

  // Python columns count code points.
  size_t column(size_t byte_pos) const {
    size_t cps = 0;
    for (size_t i = 0; i < byte_pos && i < input_.size(); ++i) {
      cps += (static_cast<unsigned char>(input_[i]) & 0xC0) != 0x80;
    }
    return cps + 1;
  }

  void lex() {
    size_t pos = 0;
    auto push = [&](Tok t, std::string v) {
      tokens_.push_back(Token{t, std::move(v), pos});
    };
    while (pos < input_.size()) {
      char c = input_[pos];
      if (c == ' ' || c == '\t') {
        ++pos;
      } else if (c == '(' || c == ')' || c == '=' || c == ',') {
        push(c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : c == '=' ? Tok::kEqual : Tok::kComma,
             std::string(1, c));
        ++pos;
      } else if (c == '\'' || c == '"') {
        auto end = input_.find(c, pos + 1);
        if (end == std::string_view::npos) {
          lex_error_ = syntax_error(pos, std::string("closing quote \"") + c + "\" is missing").error;
          return;
        }
        // pytest looks for a backslash anywhere in the input, not only in the string.
        auto backslash = input_.find('\\');
        if (backslash != std::string_view::npos) {
          lex_error_ = syntax_error(backslash, "escaping with \"\\\" not supported in marker expression").error;
          return;
        }
        push(Tok::kString, std::string(input_.substr(pos, end + 1 - pos)));
        pos = end + 1;
      } else {
        size_t len = 0;
        size_t end = pos;
        while (end < input_.size() && is_ident_char(decode_at(input_, end, len))) end += len;
        if (end == pos) {
          decode_at(input_, pos, len);
          lex_error_ = syntax_error(pos, "unexpected character \"" + std::string(input_.substr(pos, len)) + "\"").error;
          return;
        }
        std::string v(input_.substr(pos, end - pos));
        Tok t = v == "or" ? Tok::kOr : v == "and" ? Tok::kAnd : v == "not" ? Tok::kNot : Tok::kIdent;
        push(t, std::move(v));
        pos = end;
      }
    }
    push(Tok::kEof, "");
  }

  const Token& current() const { return tokens_[cur_]; }

  Expected<void> advance() {
    if (cur_ + 1 < tokens_.size()) {
      ++cur_;
      return {};
    }
    return Unexpected<Error>{*lex_error_};
  }

  // Scanner.accept without reject: nullopt if the current token is not `t`; an error only
  // if moving past it runs into a lexing error.
  Expected<std::optional<Token>> accept_or_error(Tok t) {
    if (current().type != t) return std::optional<Token>{};
    Token tok = current();
    if (t != Tok::kEof) DXPY_TRY_VOID(advance());
    return std::optional<Token>{std::move(tok)};
  }

  Expected<Token> expect(Tok t) {
    DXPY_TRY(auto tok, accept_or_error(t));
    if (tok) return std::move(*tok);
    return reject({t});
  }

  Unexpected<Error> reject(std::initializer_list<Tok> expected) const {
    std::string msg = "expected ";
    bool first = true;
    for (Tok t : expected) {
      if (!first) msg += " OR ";
      msg += describe(t);
      first = false;
    }
    msg += "; got ";
    msg += describe(current().type);
    return syntax_error(current().pos, msg);
  }

  uint32_t add(Expression::Node n) {
    nodes_->push_back(std::move(n));
    return static_cast<uint32_t>(nodes_->size() - 1);
  }

  Expected<uint32_t> expr(int depth) { return binary(depth, Tok::kOr); }

  // expr and and_expr: a chain of one operator becomes one n-ary node.
  Expected<uint32_t> binary(int depth, Tok op) {
    auto operand = [&]() -> Expected<uint32_t> { return op == Tok::kOr ? binary(depth, Tok::kAnd) : not_expr(depth); };
    DXPY_TRY(uint32_t first, operand());
    std::vector<uint32_t> items{first};
    for (;;) {
      DXPY_TRY(auto tok, accept_or_error(op));
      if (!tok) break;
      DXPY_TRY(uint32_t next, operand());
      items.push_back(next);
    }
    if (items.size() == 1) return first;
    Expression::Node n;
    n.kind = op == Tok::kOr ? Expression::Kind::kOr : Expression::Kind::kAnd;
    n.children = std::move(items);
    return add(std::move(n));
  }

  Expected<uint32_t> not_expr(int depth) {
    if (depth >= kMaxDepth) return syntax_error(current().pos, "nested too deeply", Errc::kLimit);
    DXPY_TRY(auto not_tok, accept_or_error(Tok::kNot));
    if (not_tok) {
      DXPY_TRY(uint32_t child, not_expr(depth + 1));
      Expression::Node n;
      n.kind = Expression::Kind::kNot;
      n.children = {child};
      return add(std::move(n));
    }
    DXPY_TRY(auto lparen, accept_or_error(Tok::kLParen));
    if (lparen) {
      DXPY_TRY(uint32_t inner, expr(depth + 1));
      DXPY_TRY_VOID(expect(Tok::kRParen));
      return inner;
    }
    DXPY_TRY(auto ident, accept_or_error(Tok::kIdent));
    if (ident) {
      Expression::Node n;
      n.kind = Expression::Kind::kIdent;
      n.name = std::move(ident->value);
      DXPY_TRY(auto call, accept_or_error(Tok::kLParen));
      if (call) {
        n.kind = Expression::Kind::kCall;
        DXPY_TRY(n.kwargs, all_kwargs());
        DXPY_TRY_VOID(expect(Tok::kRParen));
      }
      return add(std::move(n));
    }
    return reject({Tok::kNot, Tok::kLParen, Tok::kIdent});
  }

  Expected<std::vector<Kwarg>> all_kwargs() {
    std::vector<Kwarg> out;
    DXPY_TRY(Kwarg first, single_kwarg());
    out.push_back(std::move(first));
    for (;;) {
      DXPY_TRY(auto comma, accept_or_error(Tok::kComma));
      if (!comma) break;
      DXPY_TRY(Kwarg next, single_kwarg());
      out.push_back(std::move(next));
    }
    return out;
  }

  Expected<Kwarg> single_kwarg() {
    DXPY_TRY(Token name, expect(Tok::kIdent));
    if (!is_identifier(name.value)) return syntax_error(name.pos, "not a valid python identifier " + name.value);
    if (is_keyword(name.value)) {
      return syntax_error(name.pos, "unexpected reserved python keyword `" + name.value + "`");
    }
    DXPY_TRY_VOID(expect(Tok::kEqual));
    Kwarg kw;
    kw.name = std::move(name.value);
    DXPY_TRY(auto str, accept_or_error(Tok::kString));
    if (str) {
      kw.value = KwargValue{KwargValue::Kind::kString, str->value.substr(1, str->value.size() - 2)};
      return kw;
    }
    DXPY_TRY(Token v, expect(Tok::kIdent));
    std::string_view t = v.value;
    if (is_digits(t) || (t.size() > 1 && t[0] == '-' && is_digits(t.substr(1)))) {
      kw.value = KwargValue{KwargValue::Kind::kInt, canonical_int(t)};
    } else if (t == "True" || t == "False") {
      kw.value = KwargValue{KwargValue::Kind::kBool, v.value};
    } else if (t == "None") {
      kw.value = KwargValue{KwargValue::Kind::kNone, v.value};
    } else {
      return syntax_error(v.pos, "unexpected character/s \"" + v.value + "\"");
    }
    return kw;
  }

  // What CPython's compiler rejects when pytest compiles the tree: a repeated keyword, then
  // a keyword named __debug__; call by call in source order, with no source text or column.
  Expected<void> check_calls(const Expression& e) const {
    for (const auto& n : e.nodes_) {
      if (n.kind != Expression::Kind::kCall) continue;
      for (size_t i = 0; i < n.kwargs.size(); ++i) {
        for (size_t j = i + 1; j < n.kwargs.size(); ++j) {
          if (n.kwargs[i].name == n.kwargs[j].name) {
            return make_error(Errc::kUsage, prefix_ + ": None: at column 1: keyword argument repeated: " + n.kwargs[i].name);
          }
        }
      }
      for (const auto& kw : n.kwargs) {
        if (kw.name == "__debug__") {
          return make_error(Errc::kUsage, prefix_ + ": None: at column 1: cannot assign to __debug__");
        }
      }
    }
    return {};
  }

  std::string_view input_;
  std::string prefix_;
  std::vector<Token> tokens_;
  std::optional<Error> lex_error_;
  size_t cur_ = 0;
  std::vector<Expression::Node>* nodes_ = nullptr;
};

Expected<Expression> Expression::compile(std::string_view input, std::string_view option) {
  return Parser(input, option).parse();
}

template <class F>
auto Expression::eval(uint32_t n, const F& match) const -> decltype(match(std::string_view{}, std::vector<Kwarg>{})) {
  static const std::vector<Kwarg> kNoKwargs;
  const Node& node = nodes_[n];
  switch (node.kind) {
    case Kind::kFalse: return false;
    case Kind::kIdent: return match(node.name, kNoKwargs);
    case Kind::kCall: return match(node.name, node.kwargs);
    case Kind::kNot: {
      auto r = eval(node.children[0], match);
      if constexpr (std::is_same_v<decltype(r), bool>) {
        return !r;
      } else {
        if (!r) return r;
        return !*r;
      }
    }
    case Kind::kAnd:
    case Kind::kOr: {
      const bool is_or = node.kind == Kind::kOr;
      for (uint32_t c : node.children) {
        auto r = eval(c, match);
        if constexpr (std::is_same_v<decltype(r), bool>) {
          if (r == is_or) return is_or;
        } else {
          if (!r) return r;
          if (*r == is_or) return is_or;
        }
      }
      return !is_or;
    }
  }
  return false;
}

Expected<bool> Expression::evaluate(const Matcher& matcher) const { return eval(root_, matcher); }

Expected<bool> Expression::evaluate(const KeywordMatcher& matcher) const {
  return eval(root_, [&](std::string_view name, const std::vector<Kwarg>& kwargs) -> Expected<bool> {
    return matcher(name, kwargs);
  });
}

bool Expression::evaluate(const MarkMatcher& matcher) const {
  return eval(root_, [&](std::string_view name, const std::vector<Kwarg>& kwargs) { return matcher(name, kwargs); });
}

Expected<std::optional<Expression>> compile_keyword_option(std::string_view value) {
  auto start = value.find_first_not_of(" \t\n\r\v\f");
  if (start == std::string_view::npos) return std::optional<Expression>{};
  DXPY_TRY(Expression e, Expression::compile(value.substr(start), "-k"));
  return std::optional<Expression>{std::move(e)};
}

Expected<std::optional<Expression>> compile_mark_option(std::string_view value) {
  if (value.empty()) return std::optional<Expression>{};
  DXPY_TRY(Expression e, Expression::compile(value, "-m"));
  return std::optional<Expression>{std::move(e)};
}

}  // namespace dxpy::select
