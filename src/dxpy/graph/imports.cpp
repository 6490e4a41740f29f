#include "dxpy/graph/imports.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace dxpy::graph {

namespace {

enum CharClass : uint8_t {
  kOther,
  kIdent,  // letters, '_', and every byte >= 0x80 (UTF-8 identifiers, taken on trust)
  kDigit,
  kBlank,  // ' ', '\t', '\f'
  kLf,
  kCr,
  kQuote,
  kHash,
  kBackslash,
  kOpen,
  kClose,
  kSemi,
  kColon,
};

constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 128; c < 256; ++c) t[c] = kIdent;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kIdent;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kIdent;
  t['_'] = kIdent;
  for (int c = '0'; c <= '9'; ++c) t[c] = kDigit;
  t[' '] = t['\t'] = t['\f'] = kBlank;
  t['\n'] = kLf;
  t['\r'] = kCr;
  t['\''] = t['"'] = kQuote;
  t['#'] = kHash;
  t['\\'] = kBackslash;
  t['('] = t['['] = t['{'] = kOpen;
  t[')'] = t[']'] = t['}'] = kClose;
  t[';'] = kSemi;
  t[':'] = kColon;
  return t;
}();

inline uint8_t cls(char c) { return kClass[static_cast<unsigned char>(c)]; }
inline bool is_word(char c) {
  uint8_t k = cls(c);
  return k == kIdent || k == kDigit;
}

// Bytes that stop the scan of a plain (not f-) string body: either quote, '\\', line ends.
constexpr std::array<bool, 256> kStringStop = [] {
  std::array<bool, 256> t{};
  t['\''] = t['"'] = t['\\'] = t['\n'] = t['\r'] = true;
  return t;
}();

// A string prefix (r, u, b, f, t and their two-letter mixes, any case): 1 for a plain
// string, 2 for an f- or t-string (fields inside), 0 if `w` is no prefix.
int prefix_kind(std::string_view w) {
  if (w.empty() || w.size() > 2) return 0;
  bool fmt = false, raw = false, bytes = false, uni = false;
  for (char c : w) {
    switch (c | 0x20) {
      case 'f': case 't': if (fmt) return 0; fmt = true; break;
      case 'r': if (raw) return 0; raw = true; break;
      case 'b': if (bytes) return 0; bytes = true; break;
      case 'u': if (uni || w.size() > 1) return 0; uni = true; break;
      default: return 0;
    }
  }
  if (fmt && bytes) return 0;
  return fmt ? 2 : 1;
}

class ImportScanner {
 public:
  ImportScanner(std::string_view source, std::vector<ImportRef>& out)
      : p_(source.data()), end_(source.data() + source.size()), out_(out) {}

  void run() {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
    while (p_ < end_) {
      switch (cls(*p_)) {
        case kBlank:
          ++p_;
          break;
        case kLf:
          ++p_;
          newline();
          break;
        case kCr:
          ++p_;
          if (p_ < end_ && *p_ == '\n') ++p_;
          newline();
          break;
        case kHash:
          while (p_ < end_ && *p_ != '\n' && *p_ != '\r') ++p_;
          break;
        case kBackslash:
          ++p_;
          continuation();
          break;
        case kQuote:
          string(false);
          stmt_ = false;
          break;
        case kIdent:
          word();
          break;
        case kDigit:
          while (p_ < end_ && (is_word(*p_) || *p_ == '.')) ++p_;
          stmt_ = false;
          break;
        case kOpen:
          ++depth_;
          ++p_;
          stmt_ = false;
          break;
        case kClose:
          if (depth_) --depth_;
          ++p_;
          stmt_ = false;
          break;
        case kSemi:
          ++p_;
          if (!depth_) stmt_ = true;
          break;
        case kColon:
          ++p_;
          // After a compound statement's header, a statement may follow on the same line
          // (`try: import x`). Elsewhere at depth 0 (annotations, lambda) no import can.
          if (!depth_) {
            stmt_ = true;
            nested_ = true;
          }
          break;
        default:
          ++p_;
          stmt_ = false;
      }
    }
  }

 private:
  // After a line break outside a string.
  void newline() {
    ++line_;
    if (depth_) {
      // An unclosed bracket would hide every later statement. A line that starts with
      // import, from, def or class cannot be inside brackets (but for a `yield from` split
      // before its `from`): the file has a syntax error there, and the rest is read as
      // statements again.
      if (!at_statement_keyword()) return;
      depth_ = 0;
    }
    stmt_ = true;
    nested_ = p_ < end_ && cls(*p_) == kBlank;
  }

  bool at_statement_keyword() const {
    const char* q = p_;
    while (q < end_ && cls(*q) == kBlank) ++q;
    for (std::string_view kw : {"import", "from", "def", "class"}) {
      const auto n = static_cast<ptrdiff_t>(kw.size());
      if (end_ - q > n && std::memcmp(q, kw.data(), kw.size()) == 0 && !is_word(q[n])) return true;
    }
    return false;
  }

  // After a backslash outside a string: a line continuation joins the next line.
  void continuation() {
    if (p_ < end_ && *p_ == '\r') {
      ++p_;
      if (p_ < end_ && *p_ == '\n') ++p_;
      ++line_;
    } else if (p_ < end_ && *p_ == '\n') {
      ++p_;
      ++line_;
    }
  }

  void word() {
    const char* b = p_;
    while (p_ < end_ && is_word(*p_)) ++p_;
    std::string_view w(b, static_cast<size_t>(p_ - b));
    if (p_ < end_ && cls(*p_) == kQuote) {
      if (int kind = prefix_kind(w)) {
        string(kind == 2);
        stmt_ = false;
        return;
      }
    }
    const bool stmt = stmt_ && depth_ == 0;
    stmt_ = false;
    if (stmt && w == "import") return import_names();
    if (stmt && w == "from") return import_from();
    if (w == "import_module" || w == "__import__") literal_call();
  }

  // ---- strings ----

  // p_ on the opening quote; leaves p_ after the closing one (or at the line end of an
  // unterminated single-quoted literal, or at the end).
  void string(bool fmt) {
    const char q = *p_;
    const bool triple = end_ - p_ >= 3 && p_[1] == q && p_[2] == q;
    p_ += triple ? 3 : 1;
    body(q, triple, fmt);
  }

  // A backslash in a literal escapes the next character, a line end included (even in raw
  // literals, where it stays in the value: it still keeps a quote from closing it).
  void escape() {
    ++p_;
    if (p_ >= end_) return;
    if (*p_ == '\n') {
      ++line_;
    } else if (*p_ == '\r') {
      ++line_;
      if (p_ + 1 < end_ && p_[1] == '\n') ++p_;
    }
    ++p_;
  }

  // Returns true at a line end that ends a single-quoted literal (p_ left on it).
  bool line_end_in_literal(bool triple) {
    if (!triple) return true;
    if (*p_ == '\r' && p_ + 1 < end_ && p_[1] == '\n') ++p_;
    ++p_;
    ++line_;
    return false;
  }

  void body(char q, bool triple, bool fmt) {
    while (p_ < end_) {
      if (!fmt) {
        while (p_ < end_ && !kStringStop[static_cast<unsigned char>(*p_)]) ++p_;
        if (p_ >= end_) return;
      }
      const char c = *p_;
      if (c == q) {
        if (!triple) {
          ++p_;
          return;
        }
        if (end_ - p_ >= 3 && p_[1] == q && p_[2] == q) {
          p_ += 3;
          return;
        }
        ++p_;
      } else if (c == '\\') {
        escape();
      } else if (c == '\n' || c == '\r') {
        if (line_end_in_literal(triple)) return;
      } else if (fmt && c == '{') {
        if (p_ + 1 < end_ && p_[1] == '{') {
          p_ += 2;
        } else {
          ++p_;
          field(q, triple);
        }
      } else {
        ++p_;
      }
    }
  }

  // An f-string's replacement field, p_ after its '{': an expression (brackets, strings,
  // which since Python 3.12 may reuse the outer quote), then an optional format spec, up
  // to the matching '}'. Returns with p_ after it, or on the outer literal's end.
  void field(char q, bool triple) {
    uint32_t depth = 0;
    expect_end_ = false;
    while (p_ < end_) {
      const char c = *p_;
      switch (cls(c)) {
        case kQuote:
          // Since 3.12 a field may hold strings in the outer quote. Where an operand is
          // expected (after the '{', an operator or an opening bracket) the quote opens
          // one; where the field could end it is taken to close the literal (invalid
          // code: a field left open).
          if (c == q && depth == 0 && expect_end_) return;
          string(false);
          expect_end_ = true;
          break;
        case kIdent: {
          const char* b = p_;
          while (p_ < end_ && is_word(*p_)) ++p_;
          std::string_view w(b, static_cast<size_t>(p_ - b));
          if (p_ < end_ && cls(*p_) == kQuote) {
            if (int kind = prefix_kind(w)) {
              string(kind == 2);
              expect_end_ = true;
              break;
            }
          }
          expect_end_ = true;
          break;
        }
        case kOpen:
          ++depth;
          ++p_;
          expect_end_ = false;
          break;
        case kClose:
          ++p_;
          if (depth == 0) {
            expect_end_ = false;
            return;  // '}' ends the field (or a stray bracket: invalid code)
          }
          --depth;
          expect_end_ = true;
          break;
        case kColon:
          ++p_;
          if (depth == 0) {
            expect_end_ = false;
            return spec(q, triple);
          }
          expect_end_ = false;
          break;
        case kLf:
        case kCr:
          if (!triple && depth == 0 && expect_end_) return;
          if (c == '\r' && p_ + 1 < end_ && p_[1] == '\n') ++p_;
          ++p_;
          ++line_;
          break;
        case kHash:
          while (p_ < end_ && *p_ != '\n' && *p_ != '\r') ++p_;
          break;
        case kBackslash:
          escape();
          break;
        case kBlank:
          ++p_;
          break;
        case kDigit:
          while (p_ < end_ && (is_word(*p_) || *p_ == '.')) ++p_;
          expect_end_ = true;
          break;
        default:  // operators want an operand
          expect_end_ = false;
          ++p_;
      }
    }
  }

  // A format spec, p_ after the ':': literal text with nested fields, up to the '}'.
  void spec(char q, bool triple) {
    while (p_ < end_) {
      const char c = *p_;
      if (c == '{') {
        ++p_;
        field(q, triple);
      } else if (c == '}') {
        ++p_;
        return;
      } else if (c == q) {
        return;
      } else if (c == '\\') {
        escape();
      } else if (c == '\n' || c == '\r') {
        if (line_end_in_literal(triple)) return;
      } else {
        ++p_;
      }
    }
  }

  // ---- import statements ----

  // Blanks and line continuations; with `multiline` (inside an import's parentheses) also
  // line ends and comments.
  void skip(bool multiline) {
    while (p_ < end_) {
      const char c = *p_;
      if (c == ' ' || c == '\t' || c == '\f') {
        ++p_;
      } else if (c == '\\') {
        const char* before = p_;
        ++p_;
        continuation();
        if (p_ == before + 1) {  // not a continuation
          p_ = before;
          return;
        }
      } else if (multiline && (c == '\n' || c == '\r')) {
        ++p_;
        if (c == '\r' && p_ < end_ && *p_ == '\n') ++p_;
        ++line_;
      } else if (multiline && c == '#') {
        while (p_ < end_ && *p_ != '\n' && *p_ != '\r') ++p_;
      } else {
        return;
      }
    }
  }

  // An identifier at p_ (empty if none), consumed.
  std::string_view name() {
    if (p_ >= end_ || cls(*p_) != kIdent) return {};
    const char* b = p_;
    while (p_ < end_ && is_word(*p_)) ++p_;
    return {b, static_cast<size_t>(p_ - b)};
  }

  // Whether the identifier at p_ is `kw` (not just starting with it); not consumed.
  bool at_word(std::string_view kw) const {
    return static_cast<size_t>(end_ - p_) >= kw.size() && std::memcmp(p_, kw.data(), kw.size()) == 0 &&
           (end_ - p_ == static_cast<ptrdiff_t>(kw.size()) || !is_word(p_[kw.size()]));
  }

  // NAME ('.' NAME)*, blanks allowed around the dots as the tokenizer allows them.
  bool dotted(std::string& out, bool multiline) {
    std::string_view n = name();
    if (n.empty()) return false;
    out.assign(n);
    for (;;) {
      const char* save = p_;
      const uint32_t save_line = line_;
      skip(multiline);
      if (p_ >= end_ || *p_ != '.') {
        p_ = save;
        line_ = save_line;
        return true;
      }
      ++p_;
      skip(multiline);
      n = name();
      if (n.empty()) return true;  // `import a.` is invalid; keep "a"
      out += '.';
      out += n;
    }
  }

  // An optional `as NAME`.
  void alias(bool multiline) {
    const char* save = p_;
    const uint32_t save_line = line_;
    skip(multiline);
    if (!at_word("as")) {
      p_ = save;
      line_ = save_line;
      return;
    }
    p_ += 2;
    skip(multiline);
    name();
  }

  void import_names() {
    const uint32_t line = line_;
    for (;;) {
      skip(false);
      ImportRef r;
      r.line = line;
      r.nested = nested_;
      if (!dotted(r.module, false)) return;
      out_.push_back(std::move(r));
      alias(false);
      skip(false);
      if (p_ >= end_ || *p_ != ',') return;
      ++p_;
    }
  }

  void import_from() {
    ImportRef r;
    r.line = line_;
    r.nested = nested_;
    for (;;) {
      skip(false);
      if (p_ < end_ && *p_ == '.') {
        ++r.level;
        ++p_;
      } else {
        break;
      }
    }
    if (!at_word("import")) {
      if (!dotted(r.module, false)) return;
      skip(false);
      if (!at_word("import")) return;
    }
    p_ += 6;
    skip(false);
    if (p_ < end_ && *p_ == '*') {
      ++p_;
      r.names.emplace_back("*");
    } else {
      const bool parens = p_ < end_ && *p_ == '(';
      if (parens) ++p_;
      for (;;) {
        skip(parens);
        std::string_view n = name();
        if (n.empty()) break;
        r.names.emplace_back(n);
        alias(parens);
        skip(parens);
        if (p_ >= end_ || *p_ != ',') break;
        ++p_;
      }
      if (parens) {
        skip(true);
        if (p_ < end_ && *p_ == ')') ++p_;
      }
    }
    if (r.names.empty() || (r.level == 0 && r.module.empty())) return;
    out_.push_back(std::move(r));
  }

  // ---- importlib.import_module("a.b"), __import__("a") ----

  // p_ after the function's name; looks ahead without consuming: the main loop reads the
  // call's brackets and string as usual.
  void literal_call() {
    const char* q = p_;
    auto blanks = [&](bool lines) {
      while (q < end_ && (*q == ' ' || *q == '\t' || (lines && (*q == '\n' || *q == '\r')))) ++q;
    };
    blanks(false);
    if (q >= end_ || *q != '(') return;
    ++q;
    blanks(true);
    if (q < end_ && (*q == 'r' || *q == 'R' || *q == 'u' || *q == 'U')) ++q;
    if (q >= end_ || cls(*q) != kQuote) return;
    const char quote = *q++;
    const char* b = q;
    while (q < end_ && *q != quote) {
      if (*q == '\\' || *q == '\n' || *q == '\r') return;
      ++q;
    }
    if (q >= end_ || q == b) return;
    std::string_view text(b, static_cast<size_t>(q - b));
    ++q;
    blanks(true);
    if (q >= end_ || (*q != ',' && *q != ')')) return;
    ImportRef r;
    r.line = line_;
    r.nested = nested_;
    while (r.level < text.size() && text[r.level] == '.') ++r.level;
    text.remove_prefix(r.level);
    // A dotted name: NAME ('.' NAME)*.
    bool want_name = true;
    for (char c : text) {
      if (c == '.') {
        if (want_name) return;
        want_name = true;
      } else if (cls(c) == kIdent || (cls(c) == kDigit && !want_name)) {
        want_name = false;
      } else {
        return;
      }
    }
    if (want_name && !(text.empty() && r.level > 0)) return;
    r.module.assign(text);
    out_.push_back(std::move(r));
  }

  const char* p_;
  const char* end_;
  uint32_t line_ = 1;
  uint32_t depth_ = 0;    // bracket depth outside strings
  bool stmt_ = true;      // the next token starts a statement
  bool nested_ = false;   // the current statement is not directly in the module body
  bool expect_end_ = false;  // in an f-string field: the expression may end here
  std::vector<ImportRef>& out_;
};

}  // namespace

void scan_imports(std::string_view source, std::vector<ImportRef>& out) { ImportScanner(source, out).run(); }

std::vector<ImportRef> scan_imports(std::string_view source) {
  std::vector<ImportRef> out;
  scan_imports(source, out);
  return out;
}

}  // namespace dxpy::graph
