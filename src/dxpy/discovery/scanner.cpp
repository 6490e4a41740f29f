#include "dxpy/discovery/scanner.h"

#include <array>
#include <bit>
#include <cctype>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dxpy::discovery {

namespace {

#if defined(__GNUC__) || defined(__clang__)
#define DXPY_ALWAYS_INLINE inline __attribute__((always_inline))
#define DXPY_UNREACHABLE() __builtin_unreachable()
#else
#define DXPY_ALWAYS_INLINE inline
#define DXPY_UNREACHABLE() ((void)0)
#endif

// ---- characters ---------------------------------------------------------------------

enum CharClass : uint8_t {
  kOther,      // operator characters
  kIdent,      // letters, '_', and every byte >= 0x80 (UTF-8 identifiers, taken on trust)
  kDigit,
  kBlank,      // ' ', '\t', '\f'
  kLf,
  kCr,
  kQuote,
  kHash,
  kBackslash,
  kOpen,
  kClose,
  kDot,
  kBad,        // never valid outside a literal or comment: NUL, control characters, $ ? `
};

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 32; ++c) t[c] = kBad;
  t[127] = kBad;
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
  t['.'] = kDot;
  t['$'] = t['?'] = t['`'] = kBad;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

inline uint8_t cls(char c) { return kClass[static_cast<unsigned char>(c)]; }
constexpr std::array<bool, 256> kWordChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = kClass[c] == kIdent || kClass[c] == kDigit;
  return t;
}();
inline bool is_word(char c) { return kWordChar[static_cast<unsigned char>(c)]; }

// Characters after a run of digits that make it more than a decimal integer (see
// Scanner::number_end): a fraction, exponent, imaginary unit, '_' or radix letter.
constexpr std::array<bool, 256> kNumberTail = [] {
  std::array<bool, 256> t{};
  for (char c : std::string_view("._eEjJxXoObB")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

constexpr bool kLittleEndian = std::endian::native == std::endian::little;
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// Bit 7 of each byte of `w` that equals `c` (exact for the lowest such byte, and zero
// when there is none: enough to find the first match).
inline uint64_t bytes_equal(uint64_t w, char c) {
  uint64_t x = w ^ (kOnes * static_cast<unsigned char>(c));
  return (x - kOnes) & ~x & kHighs;
}

// The first '\n' or '\r' at or after p, or end: where a comment ends. Eight bytes at a time.
inline const char* find_line_end(const char* p, const char* end) {
  if constexpr (kLittleEndian) {
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (uint64_t m = bytes_equal(w, '\n') | bytes_equal(w, '\r')) return p + std::countr_zero(m) / 8;
      p += 8;
    }
  }
  while (p < end && *p != '\n' && *p != '\r') ++p;
  return p;
}

// The first byte at or after p that may end or escape a plain string literal quoted with
// q (q, '\\', '\n' or '\r'), or end; eight bytes at a time.
inline const char* find_string_stop(const char* p, const char* end, char q) {
  if constexpr (kLittleEndian) {
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      const uint64_t m = bytes_equal(w, q) | bytes_equal(w, '\\') | bytes_equal(w, '\n') | bytes_equal(w, '\r');
      if (m) return p + std::countr_zero(m) / 8;
      p += 8;
    }
  }
  while (p < end && *p != q && *p != '\\' && *p != '\n' && *p != '\r') ++p;
  return p;
}

// String prefix flags.
constexpr uint8_t kRaw = 1;
constexpr uint8_t kFormat = 2;  // f-strings, and 3.14's t-strings
constexpr uint8_t kPrefix = 4;  // set for every valid prefix, including the empty one

// The flags of a string prefix, or 0 if [b, e) is not one (r, u, f, t, b, and r with f, t or b).
uint8_t prefix_flags(const char* b, const char* e) {
  size_t n = static_cast<size_t>(e - b);
  if (n == 0 || n > 2) return n == 0 ? kPrefix : 0;
  uint8_t flags = kPrefix;
  bool r = false, u = false, other = false;
  for (const char* p = b; p < e; ++p) {
    switch (*p | 0x20) {
      case 'r':
        if (r) return 0;
        r = true;
        flags |= kRaw;
        break;
      case 'u':
        u = true;
        break;
      case 'f':
      case 't':
        if (other) return 0;
        other = true;
        flags |= kFormat;
        break;
      case 'b':
        if (other) return 0;
        other = true;
        break;
      default:
        return 0;
    }
  }
  if (u && n > 1) return 0;
  return flags;
}

// ---- string literals ----------------------------------------------------------------

constexpr int kMaxNesting = 200;  // CPython's limit for brackets; f-strings allow fewer

// Skips string literals, f-strings with nested replacement fields (PEP 701 rules) included.
struct StringLexer {
  const char* p;
  const char* end;
  uint32_t line;
  const char* error = nullptr;
  uint32_t error_line = 0;

  void fail(const char* message, uint32_t at) {
    if (!error) {
      error = message;
      error_line = at;
    }
    p = end;
  }

  // Skips a newline at p (\n, \r\n or a lone \r). Rows count '\n' as tree-sitter does.
  void newline() {
    if (*p == '\r' && p + 1 < end && p[1] == '\n') ++p;
    if (*p == '\n') ++line;
    ++p;
  }

  // p at the opening quote; leaves p after the closing one.
  void string(uint8_t flags, int level) {
    const uint32_t start = line;
    const char q = *p;
    const bool triple = p + 2 < end && p[1] == q && p[2] == q;
    p += triple ? 3 : 1;
    if (flags & kFormat) return fstring_body(q, triple, flags & kRaw, start, level);
    if (triple) {
      while (p < end) {
        p = find_string_stop(p, end, q);
        if (p >= end) break;
        char c = *p;
        if (c == q) {
          if (p + 2 < end && p[1] == q && p[2] == q) {
            p += 3;
            return;
          }
          ++p;
        } else if (c == '\\') {
          ++p;
          if (p < end) (*p == '\n' || *p == '\r') ? newline() : void(++p);
        } else if (c == '\n') {
          ++line;
          ++p;
        } else {
          ++p;
        }
      }
      return fail("unterminated triple-quoted string literal", start);
    }
    while (p < end) {
      p = find_string_stop(p, end, q);
      if (p >= end) break;
      char c = *p;
      if (c == q) {
        ++p;
        return;
      }
      if (c == '\\') {
        ++p;
        if (p < end) (*p == '\n' || *p == '\r') ? newline() : void(++p);
      } else if (c == '\n' || c == '\r') {
        break;
      } else {
        ++p;
      }
    }
    fail("unterminated string literal", start);
  }

  bool at_closing_quote(char q, bool triple) const {
    return *p == q && (!triple || (p + 2 < end && p[1] == q && p[2] == q));
  }

  void fstring_body(char q, bool triple, bool raw, uint32_t start, int level) {
    while (p < end) {
      char c = *p;
      if (c == q && at_closing_quote(q, triple)) {
        p += triple ? 3 : 1;
        return;
      }
      switch (c) {
        case '\\':
          if (p + 1 >= end) {
            ++p;
          } else if (!raw && p[1] == 'N' && p + 2 < end && p[2] == '{') {
            // \N{NAME}: the braces are not a replacement field.
            p += 3;
            while (p < end && *p != '}' && *p != q && *p != '\n') ++p;
            if (p < end && *p == '}') ++p;
          } else if (p[1] == '{' || p[1] == '}') {
            ++p;  // a backslash does not escape a brace
          } else {
            ++p;
            (*p == '\n' || *p == '\r') ? newline() : void(++p);
          }
          break;
        case '{':
          if (p + 1 < end && p[1] == '{') {
            p += 2;
          } else {
            ++p;
            replacement_field(q, triple, level + 1);
          }
          break;
        case '}':
          if (p + 1 < end && p[1] == '}') p += 2;
          else return fail("f-string: single '}' is not allowed", line);
          break;
        case '\n':
        case '\r':
          if (!triple) return fail("unterminated f-string literal", start);
          newline();
          break;
        default:
          ++p;
      }
    }
    fail(triple ? "unterminated triple-quoted f-string literal" : "unterminated f-string literal", start);
  }

  // After '{': an expression, then optional '=', '!conversion' and ':format spec', then '}'.
  void replacement_field(char q, bool triple, int level) {
    if (level > kMaxNesting) return fail("too many nested f-strings", line);
    int depth = 0;
    while (p < end) {
      char c = *p;
      switch (cls(c)) {
        case kLf:
        case kCr:
          newline();
          break;
        case kHash:
          while (p < end && *p != '\n' && *p != '\r') ++p;
          break;
        case kQuote:
          string(kPrefix, level + 1);
          break;
        case kIdent: {
          const char* b = p;
          while (p < end && is_word(*p)) ++p;
          if (p < end && cls(*p) == kQuote) {
            if (uint8_t f = prefix_flags(b, p)) string(f, level + 1);
          }
          break;
        }
        case kOpen:
          if (++depth > kMaxNesting) return fail("too many nested parentheses", line);
          ++p;
          break;
        case kClose:
          if (depth == 0) {
            if (c != '}') return fail("f-string: unmatched bracket", line);
            ++p;
            return;
          }
          --depth;
          ++p;
          break;
        case kBackslash:
          ++p;
          if (p < end) (*p == '\n' || *p == '\r') ? newline() : void(++p);
          break;
        default:
          if (depth == 0 && c == '!' && !(p + 1 < end && p[1] == '=')) {
            ++p;  // conversion: !r, !s, !a
            while (p < end && is_word(*p)) ++p;
          } else if (depth == 0 && c == ':') {
            ++p;
            return format_spec(q, triple, level);
          } else {
            ++p;
          }
      }
    }
    fail("f-string: expecting '}'", line);
  }

  void format_spec(char q, bool triple, int level) {
    while (p < end) {
      char c = *p;
      if (c == q && at_closing_quote(q, triple)) return fail("f-string: expecting '}'", line);
      switch (c) {
        case '{':
          ++p;
          replacement_field(q, triple, level + 1);
          break;
        case '}':
          ++p;
          return;
        case '\\':
          p += p + 1 < end ? 2 : 1;
          break;
        case '\n':
        case '\r':
          if (!triple) return fail("unterminated f-string literal", line);
          newline();
          break;
        default:
          ++p;
      }
    }
    fail("f-string: expecting '}'", line);
  }
};

// The commonest literal: plain ('x', "some name"), on one line, without escapes or
// replacement fields. At its opening quote p, its end; nullptr for any other literal,
// which StringLexer reads. Saves StringLexer's setup on most literals, which are short.
inline const char* plain_string_end(const char* p, const char* end, uint8_t flags) {
  if (flags & kFormat) return nullptr;
  const char q = *p++;
  if (p < end && *p == q) return p + 1 < end && p[1] == q ? nullptr : p + 1;  // empty, or triple-quoted
  for (; p < end; ++p) {
    const char c = *p;
    if (c == q) return p + 1;
    if (c == '\\' || c == '\n' || c == '\r') return nullptr;
  }
  return nullptr;
}

// ---- encoding -------------------------------------------------------------------------

// The first byte of an invalid UTF-8 sequence (overlong forms, surrogates and code points
// above U+10FFFF included, as Python's strict decoder), or `end`.
const char* invalid_utf8(const char* p, const char* end) {
  while (p < end) {
    // Source is mostly ASCII: 32 bytes per step while it lasts, then 8.
    while (end - p >= 32) {
#if defined(__SSE2__)
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
      if (_mm_movemask_epi8(_mm_or_si128(a, b)) != 0) break;
#else
      uint64_t w0, w1, w2, w3;
      std::memcpy(&w0, p, 8);
      std::memcpy(&w1, p + 8, 8);
      std::memcpy(&w2, p + 16, 8);
      std::memcpy(&w3, p + 24, 8);
      if (((w0 | w1 | w2 | w3) & 0x8080808080808080ull) != 0) break;
#endif
      p += 32;
    }
    if (p == end) break;
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {
      ++p;
      continue;
    }
    int trail = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      trail = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      trail = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      trail = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return p;
    }
    if (end - p <= trail) return p;
    auto c1 = static_cast<unsigned char>(p[1]);
    if (c1 < lo || c1 > hi) return p;
    for (int i = 2; i <= trail; ++i)
      if ((static_cast<unsigned char>(p[i]) & 0xC0) != 0x80) return p;
    p += trail + 1;
  }
  return end;
}

// Whether a PEP 263 declaration (`# -*- coding: latin-1 -*-` on line 1 or 2) names an
// encoding other than UTF-8, so that bytes are not to be checked as UTF-8.
bool declares_other_encoding(std::string_view src) {
  for (int line = 0; line < 2 && !src.empty(); ++line) {
    size_t eol = src.find_first_of("\r\n");
    std::string_view l = src.substr(0, eol);
    size_t i = l.find_first_not_of(" \t\f");
    if (i != std::string_view::npos && l[i] == '#') {
      for (size_t at = l.find("coding", i); at != std::string_view::npos; at = l.find("coding", at + 1)) {
        size_t k = at + 6;
        if (k >= l.size() || (l[k] != ':' && l[k] != '=')) continue;
        ++k;
        while (k < l.size() && (l[k] == ' ' || l[k] == '\t')) ++k;
        std::string name;
        for (; k < l.size() && (is_word(l[k]) || l[k] == '-' || l[k] == '.'); ++k)
          name += static_cast<char>(l[k] == '_' ? '-' : (l[k] | 0x20));
        if (name.empty()) continue;
        return !(name == "utf8" || name.rfind("utf-8", 0) == 0);
      }
    }
    if (eol == std::string_view::npos) break;
    src.remove_prefix(eol + (src[eol] == '\r' && eol + 1 < src.size() && src[eol + 1] == '\n' ? 2 : 1));
  }
  return false;
}

// ---- tokens ---------------------------------------------------------------------------

enum class T : uint8_t {
  kEof,
  kNewline,  // end of a logical line
  kName,
  kNumber,
  kString,
  kOpen,
  kClose,
  kColon,
  kWalrus,
  kAssign,  // '=' alone
  kSemi,
  kComma,
  kDot,
  kEllipsis,
  kStar,
  kStarStar,
  kSlash,
  kAt,
  kArrow,
  kOp,  // any other operator
};

// A name of up to 8 bytes packed into an integer, so that keywords compare as integers;
// 0 for longer names, which are never keywords.
constexpr uint64_t word_key(std::string_view w) {
  if (w.size() > 8) return 0;
  uint64_t k = 0;
  for (size_t i = 0; i < w.size(); ++i) k |= static_cast<uint64_t>(static_cast<unsigned char>(w[i])) << (8 * i);
  return k;
}
consteval uint64_t kw(std::string_view w) { return word_key(w); }

// The end of the name that starts at b (a name character), and its word_key. Names are
// mostly shorter than 8 bytes: where 8 bytes remain, those are tested without bounds
// checks (a fully unrolled loop) and the key is masked out of them.
DXPY_ALWAYS_INLINE const char* name_end(const char* b, const char* end, uint64_t& key) {
  if (kLittleEndian && end - b >= 8) {
    int n = 1;
    for (; n < 8; ++n)
      if (!is_word(b[n])) break;
    uint64_t w;
    std::memcpy(&w, b, 8);
    if (n < 8) {
      key = w & ((uint64_t{1} << (8 * n)) - 1);
      return b + n;
    }
    const char* p = b + 8;
    while (p < end && is_word(*p)) ++p;
    key = p - b == 8 ? w : 0;
    return p;
  }
  const char* p = b + 1;
  while (p < end && is_word(*p)) ++p;
  key = word_key(std::string_view(b, static_cast<size_t>(p - b)));
  return p;
}

// Facts about a token for the checks on neighbouring tokens (Scanner::check_pair).
using Traits = uint16_t;
constexpr Traits kOperand = 1;          // a name, literal or True/False/None: starts and ends an operand
constexpr Traits kEndsOperand = 2;      // kOperand, or a closing bracket
constexpr Traits kNeedsOperand = 4;     // an operator or keyword that needs an operand after it
constexpr Traits kStatementOnly = 8;    // a keyword only a statement (or clause) starts with
constexpr Traits kLambda = 16;
constexpr Traits kAsync = 32;
constexpr Traits kString = 64;
constexpr Traits kSoftStart = 128;      // match, case or type at the start of a statement
constexpr Traits kOpenBracket = 256;
constexpr Traits kOpenNoSlice = 512;    // '(' or '{': no ':' may follow
constexpr Traits kComma = 1024;
constexpr Traits kStatementStart = 2048;  // the line's start, ';' or ':'

// Token classes: all that check_pair needs to know of a token (its kind, its traits, and
// for names whether it is def/with or a soft keyword), in a byte, so that the check is a
// lookup in kPairTable. Names get theirs from kKeywords, other tokens from their kind.
enum Tc : uint8_t {
  kTcName,  // any other name, and True, False, None
  kTcSoftKeyword,
  kTcNeedsOperand,
  kTcStatementNeedsOperand,
  kTcWith,
  kTcStatementOnly,
  kTcDef,
  kTcAsync,
  kTcLambda,
  kTcPlainKeyword,
  kTcNumber,
  kTcString,
  kTcClose,
  kTcOpenSquare,
  kTcOpenOther,
  kTcComma,
  kTcAssign,
  kTcOperator,  // ':=', '->', '.', '@' and the operators without a class of their own
  kTcNewline,
  kTcSemi,
  kTcColon,
  kTcEof,
  kTcStar,
  kTcStarStar,
  kTcNoTraits,  // '...', '/'
  kTcCount
};

static_assert(kTcCount <= 32, "PairTable rows hold 32 classes (kPairRow)");

struct TcInfo {
  T kind;
  Traits traits;
  bool def_or_with = false;
  bool soft = false;
};

constexpr TcInfo kTcInfo[kTcCount] = {
    {T::kName, kOperand | kEndsOperand},
    {T::kName, kOperand | kEndsOperand, false, true},
    {T::kName, kNeedsOperand},
    {T::kName, kNeedsOperand | kStatementOnly},
    {T::kName, kNeedsOperand | kStatementOnly, true},
    {T::kName, kStatementOnly},
    {T::kName, kStatementOnly, true},
    {T::kName, kNeedsOperand | kAsync},
    {T::kName, kNeedsOperand | kLambda},
    {T::kName, 0},
    {T::kNumber, kOperand | kEndsOperand},
    {T::kString, kOperand | kEndsOperand | kString},
    {T::kClose, kEndsOperand},
    {T::kOpen, kOpenBracket},
    {T::kOpen, kOpenBracket | kOpenNoSlice},
    {T::kComma, kComma},
    {T::kAssign, kNeedsOperand},
    {T::kOp, kNeedsOperand},
    {T::kNewline, kStatementStart},
    {T::kSemi, kStatementStart},
    {T::kColon, kStatementStart},
    {T::kEof, 0},
    {T::kStar, 0},
    {T::kStarStar, 0},
    {T::kEllipsis, 0},
};

// The class of every token kind but kName (kKeywords) and kOpen (by its character).
constexpr Tc kind_class(T kind) {
  switch (kind) {
    case T::kEof: return kTcEof;
    case T::kNewline: return kTcNewline;
    case T::kNumber: return kTcNumber;
    case T::kString: return kTcString;
    case T::kClose: return kTcClose;
    case T::kColon: return kTcColon;
    case T::kAssign: return kTcAssign;
    case T::kSemi: return kTcSemi;
    case T::kComma: return kTcComma;
    case T::kStar: return kTcStar;
    case T::kStarStar: return kTcStarStar;
    case T::kWalrus: case T::kDot: case T::kAt: case T::kArrow: case T::kOp: return kTcOperator;
    case T::kEllipsis: case T::kSlash: return kTcNoTraits;
    case T::kName: case T::kOpen: break;
  }
  return kTcNoTraits;
}
constexpr auto kKindClass = [] {
  std::array<uint8_t, static_cast<size_t>(T::kOp) + 1> t{};
  for (size_t k = 0; k < t.size(); ++k) t[k] = kind_class(static_cast<T>(k));
  return t;
}();

// The traits of each token kind, as the neighbouring-token rules see them (names: by
// kKeywords; '(' and '{' add kOpenNoSlice).
constexpr Traits kind_traits(T kind) {
  switch (kind) {
    case T::kNumber: return kOperand | kEndsOperand;
    case T::kString: return kOperand | kEndsOperand | kString;
    case T::kClose: return kEndsOperand;
    case T::kOpen: return kOpenBracket;
    case T::kComma: return kComma;
    case T::kAssign: case T::kWalrus: case T::kArrow: case T::kDot: case T::kAt: case T::kOp: return kNeedsOperand;
    case T::kNewline: case T::kSemi: case T::kColon: return kStatementStart;
    default: return 0;
  }
}
// The kinds pair_rule tells apart by kind, not only by traits.
constexpr bool kind_matters(T kind) {
  switch (kind) {
    case T::kNewline: case T::kEof: case T::kClose: case T::kComma: case T::kSemi: case T::kAssign:
    case T::kColon: case T::kStar: case T::kStarStar:
      return true;
    default:
      return false;
  }
}
// kTcInfo is in Tc's order, and each kind's class stands for it faithfully.
consteval bool classes_are_consistent() {
  for (size_t k = 0; k < kKindClass.size(); ++k) {
    const T kind = static_cast<T>(k);
    if (kind == T::kName || kind == T::kOpen) continue;
    const TcInfo& info = kTcInfo[kKindClass[k]];
    if (info.traits != kind_traits(kind) || info.soft || info.def_or_with) return false;
    if (kind_matters(kind) ? info.kind != kind : kind_matters(info.kind)) return false;
  }
  return kTcInfo[kTcOpenSquare].traits == kind_traits(T::kOpen) &&
         kTcInfo[kTcOpenOther].traits == (kind_traits(T::kOpen) | kOpenNoSlice);
}
static_assert(classes_are_consistent());

// The keywords, by the grammar: names not listed are operands.
struct Keyword {
  std::string_view word;
  Tc tc;
};
constexpr Keyword kKeywords[] = {
    {"and", kTcNeedsOperand}, {"as", kTcNeedsOperand}, {"await", kTcNeedsOperand},
    {"for", kTcNeedsOperand}, {"from", kTcNeedsOperand}, {"if", kTcNeedsOperand},
    {"in", kTcNeedsOperand}, {"is", kTcNeedsOperand}, {"not", kTcNeedsOperand},
    {"or", kTcNeedsOperand}, {"assert", kTcStatementNeedsOperand}, {"del", kTcStatementNeedsOperand},
    {"elif", kTcStatementNeedsOperand}, {"global", kTcStatementNeedsOperand},
    {"nonlocal", kTcStatementNeedsOperand}, {"while", kTcStatementNeedsOperand}, {"with", kTcWith},
    {"break", kTcStatementOnly}, {"class", kTcStatementOnly}, {"continue", kTcStatementOnly},
    {"def", kTcDef}, {"except", kTcStatementOnly}, {"finally", kTcStatementOnly},
    {"pass", kTcStatementOnly}, {"raise", kTcStatementOnly}, {"return", kTcStatementOnly},
    {"try", kTcStatementOnly}, {"async", kTcAsync}, {"lambda", kTcLambda},
    {"else", kTcPlainKeyword}, {"import", kTcPlainKeyword}, {"yield", kTcPlainKeyword},
    {"match", kTcSoftKeyword}, {"case", kTcSoftKeyword}, {"type", kTcSoftKeyword},
};

// A perfect hash of the keywords' word_keys: (key * mul) >> (64 - kKeywordBits) gives each
// keyword a slot of its own; every other slot holds key 0 and kTcName. Names longer than 8
// bytes (key 0) thus find kTcName too, whatever slot they hash to. The multiplier is
// searched for at compile time.
constexpr int kKeywordBits = 7;
struct KeywordTable {
  uint64_t mul = 0;
  std::array<uint64_t, size_t{1} << kKeywordBits> keys{};
  std::array<uint8_t, size_t{1} << kKeywordBits> tc{};
  constexpr size_t slot(uint64_t key) const { return static_cast<size_t>((key * mul) >> (64 - kKeywordBits)); }
};
consteval KeywordTable make_keyword_table() {
  uint64_t candidate = 0x9E3779B97F4A7C15ull;
  for (;;) {
    candidate = candidate * 6364136223846793005ull + 1442695040888963407ull;
    KeywordTable t;
    t.mul = candidate | 1;
    bool collision = false;
    for (const Keyword& k : kKeywords) {
      size_t s = t.slot(word_key(k.word));
      if (t.keys[s] != 0) {
        collision = true;
        break;
      }
      t.keys[s] = word_key(k.word);
      t.tc[s] = k.tc;
    }
    if (!collision) return t;
  }
}
constexpr KeywordTable kKeywordTable = make_keyword_table();

DXPY_ALWAYS_INLINE uint8_t name_class(uint64_t key) {
  size_t s = kKeywordTable.slot(key);
  return kKeywordTable.keys[s] == key ? kKeywordTable.tc[s] : uint8_t{kTcName};
}

// The neighbouring-token rules: whether a token of class `t` may follow one whose traits
// (after the rules' own adjustment) were `prev`, and the traits the token passes on.
struct PairOutcome {
  Traits cur;
  bool bad;
};
constexpr PairOutcome pair_rule(Traits prev, const TcInfo& t) {
  const T k = t.kind;
  Traits cur = t.traits;
  if ((cur & kOperand) && (prev & kStatementStart) && t.soft) cur |= kSoftStart;
  bool bad = false;
  if ((prev & kEndsOperand) && (cur & kOperand))
    bad = !(prev & kSoftStart) && !((prev & kString) && (cur & kString));
  if (prev & kNeedsOperand) {
    bad |= k == T::kNewline || k == T::kEof || k == T::kClose || k == T::kComma || k == T::kSemi ||
           k == T::kAssign || (k == T::kColon && !(prev & kLambda));
  }
  if (prev & kLambda) bad |= !(cur & kOperand) && k != T::kStar && k != T::kStarStar && k != T::kColon;
  if (cur & kStatementOnly) {
    bool after_async = (prev & kAsync) && t.def_or_with;
    bad |= !(prev & kStatementStart) && !after_async;
  }
  if ((prev & kStatementStart) && k == T::kSemi) bad = true;
  if ((prev & (kOpenBracket | kComma)) && k == T::kComma) bad = true;
  if ((prev & kOpenBracket) && k == T::kAssign) bad = true;
  if ((prev & kOpenNoSlice) && k == T::kColon) bad = true;
  return {cur, bad};
}

// pair_rule over the reachable traits, as a table. A state is the offset of its row in
// `cells` (state number * 32; 0: a statement's start), and cells[state + class] holds the
// next state, with kPairBad set where the pair is an error: one load per token.
using PairState = uint16_t;
constexpr PairState kPairBad = 0x8000;
constexpr int kMaxPairStates = 32;
constexpr int kPairRow = 32;  // kTcCount rounded up to a power of two
struct PairTable {
  std::array<Traits, kMaxPairStates> traits{};
  std::array<PairState, kMaxPairStates * kPairRow> cells{};
  int count = 0;
  PairState next(PairState state, uint8_t tc) const { return cells[state + tc]; }
};
consteval PairTable make_pair_table() {
  PairTable t;
  t.traits[t.count++] = kStatementStart;
  for (int s = 0; s < t.count; ++s) {
    for (int c = 0; c < kTcCount; ++c) {
      PairOutcome o = pair_rule(t.traits[s], kTcInfo[c]);
      int i = 0;
      while (i < t.count && t.traits[i] != o.cur) ++i;
      if (i == t.count) {
        if (t.count == kMaxPairStates) throw "kMaxPairStates is too small";
        t.traits[t.count++] = o.cur;
      }
      t.cells[s * kPairRow + c] = static_cast<PairState>(i * kPairRow | (o.bad ? kPairBad : 0));
    }
  }
  return t;
}
constexpr PairTable kPairTable = make_pair_table();

struct Token {
  T kind = T::kEof;
  uint8_t tc = kTcEof;
  uint32_t depth = 0;  // bracket depth before the token
  uint32_t line = 0;
  const char* begin = nullptr;
  const char* end = nullptr;
  uint64_t key = 0;  // names: word_key
  std::string_view text() const { return {begin, static_cast<size_t>(end - begin)}; }
  bool is(uint64_t word) const { return kind == T::kName && key == word; }
};

// ---- the scanner ------------------------------------------------------------------------

struct Context {
  std::vector<Def>* defs = nullptr;                // where defs go; null inside functions
  std::vector<Assignment>* assignments = nullptr;  // only directly in a module or class body
  bool conditional = false;
  bool nested = false;  // for imports: not directly in the module body
  bool match_body = false;  // a match statement's body: case clauses only
};

struct Frame {
  uint32_t col;
  uint32_t alt_col;  // with tabs as one column, for CPython's TabError check
  Context ctx;
};

constexpr size_t kMaxIndent = 100;  // CPython's MAXINDENT

bool is_compound_keyword(uint64_t key) {
  switch (key) {
    case kw("def"): case kw("class"): case kw("if"): case kw("elif"): case kw("else"): case kw("while"):
    case kw("for"): case kw("try"): case kw("except"): case kw("finally"): case kw("with"): case kw("async"):
      return true;
    default:
      return false;
  }
}

class Scanner {
 public:
  // Fills `out`, which must be empty (its vectors may keep their capacity).
  Scanner(std::string_view source, Outline& out)
      : p_(source.data()), end_(source.data() + source.size()), out_(out) {}

  void run() {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
    if (const void* nul = std::memchr(p_, 0, static_cast<size_t>(end_ - p_))) {
      uint32_t line = 1;
      for (const char* q = p_; q < static_cast<const char*>(nul); ++q) line += *q == '\n';
      return error_outline(SyntaxIssue{line, "source code cannot contain null bytes"});
    }
    // Names and string literals must be UTF-8 unless another encoding is declared;
    // comments need not be (the import system lets them pass). Checked per token only in
    // the rare file that is not valid UTF-8 as a whole.
    check_utf8_ = invalid_utf8(p_, end_) != end_ &&
                  !declares_other_encoding(std::string_view(p_, static_cast<size_t>(end_ - p_)));
    frames_.push_back(Frame{0, 0, Context{&out_.defs, &out_.assignments, false, false, false}});
    while (!failed_) {
      uint32_t col = 0, alt = 0;
      if (!start_logical_line(col, alt)) break;
      if (!indent(col, alt)) break;
      advance();
      statement(frames_.back().ctx);
      if (failed_) break;
      if (tok_.kind == T::kEof) break;
      if (tok_.kind != T::kNewline) fail_syntax(tok_.line, "invalid syntax");
    }
    if (!failed_ && block_pending_) fail_syntax(line_, "expected an indented block");
    if (!failed_ && !decorators_.empty()) fail_syntax(line_, "invalid syntax: decorator without a definition");
    if (failed_) return error_outline(issue_);
  }

 private:
  // An outline with errors holds nothing else.
  void error_outline(SyntaxIssue issue) {
    out_.defs.clear();
    out_.assignments.clear();
    out_.imports.clear();
    out_.errors.clear();
    out_.errors.push_back(std::move(issue));
  }

  // A tokenizer error: it ends the scan.
  void fail(uint32_t line, const char* message) {
    if (failed_) return;
    failed_ = true;
    issue_ = SyntaxIssue{line, message};
    p_ = end_;
    depth_ = 0;
    tok_ = Token{T::kEof, kTcEof, 0, line_, end_, end_};
  }

  // A grammar error. As CPython, read the rest of the file first: a tokenizer error there
  // (an unterminated string, a stray bracket; an unclosed one when this error lies inside
  // brackets) is reported instead, since it is the likelier cause.
  void fail_syntax(uint32_t line, const char* message) {
    if (failed_) return;
    draining_ = true;
    drain_inside_brackets_ = depth_ > 0;
    while (!failed_ && tok_.kind != T::kEof) lex();
    draining_ = false;
    fail(line, message);
  }

  // ---- lexing ----

  // Positions p_ on the first token of the next logical line, skipping blank and
  // comment-only lines; false at the end of input.
  bool start_logical_line(uint32_t& col, uint32_t& alt) {
    const char* p = p_;
    const char* const end = end_;
    for (;;) {
      col = alt = 0;
      // Indentation is mostly spaces: count them eight at a time first.
      if constexpr (kLittleEndian) {
        while (end - p >= 8) {
          uint64_t w;
          std::memcpy(&w, p, 8);
          const uint64_t other = w ^ (kOnes * ' ');
          const uint32_t n = other ? static_cast<uint32_t>(std::countr_zero(other) / 8) : 8;
          p += n;
          col += n;
          alt += n;
          if (n < 8) break;
        }
      }
      while (p < end) {
        char c = *p;
        if (c == ' ') {
          ++col;
          ++alt;
        } else if (c == '\t') {
          col = (col / 8 + 1) * 8;
          ++alt;
        } else if (c == '\f') {
          col = alt = 0;
        } else {
          break;
        }
        ++p;
      }
      if (p >= end) break;
      char c = *p;
      if (c == '#') {
        p = find_line_end(p, end);
        if (p >= end) break;
        c = *p;
      }
      if (c == '\n') {
        ++line_;
        ++p;
      } else if (c == '\r') {
        ++p;
        if (p < end && *p == '\n') {
          ++line_;
          ++p;
        }
      } else {
        p_ = p;
        return true;
      }
    }
    p_ = p;
    return false;
  }

  void advance() {
    lex();
    if (!failed_) check_pair();
  }

  // Errors that two neighbouring tokens show without a grammar: two operands in a row
  // (`asert x`, `f(a b)`), an operator with nothing after it (`x = 1 +`, `assert`), a
  // statement keyword inside a statement (`x = return`), `(,`, `(:`, a leading ';'.
  void check_pair() {
    const PairState e = kPairTable.next(prev_, tok_.tc);
    prev_ = e & ~kPairBad;
    if (e & kPairBad) fail_syntax(tok_.line, "invalid syntax");
  }

  // The cursor of the common-token lexer, kept in registers by its callers.
  struct Cursor {
    const char* p;
    uint32_t line;
    uint32_t depth;
  };

  // A token lex_common read.
  struct Lexed {
    T kind;
    uint8_t tc;
    uint32_t depth;  // before the token
    const char* begin;
    uint64_t key;
  };

  // Reads the next token into tok_.
  void lex() {
    // A name, the commonest token here (statement starts, def and parameter names, often
    // after one blank), on a short path that needs few registers; the rest in lex_other.
    const char* p = p_;
    const char* const end = end_;
    if (p < end && *p == ' ') ++p;
    if (p < end && cls(*p) == kIdent && !check_utf8_) {
      uint64_t key;
      const char* e = name_end(p, end, key);
      if (!(e < end && cls(*e) == kQuote && e - p <= 2)) {
        p_ = e;
        tok_ = Token{T::kName, name_class(key), depth_, line_, p, e, key};
        return;
      }
    }
    lex_other();
  }

  // Kept out of line so that lex() stays small enough to inline where it is called.
  [[gnu::noinline]] void lex_other() {
    Cursor c{p_, line_, depth_};
    Lexed t;
    const Lex r = lex_common(c, t);
    p_ = c.p;
    line_ = c.line;
    depth_ = c.depth;
    if (r == Lex::kOther) return lex_any();
    tok_ = Token{t.kind, t.tc, t.depth, line_, t.begin, p_, t.key};
    if (t.kind == T::kNewline) ++line_;
  }

  enum class Lex : uint8_t {
    kToken,
    kStatementEnd,  // kNewline, or ';' at depth 0
    kOther,         // not lexed: for lex_any
  };

  // Lexes the next token when it is a common one: a name, number, bracket or operator, or
  // the end of a logical line (blanks, comments and line breaks inside brackets before it
  // are skipped). Then c is after the token, with depth and line updated, except that a
  // kNewline's line break is not counted yet: its token stands on c.line. Anything else,
  // including every error, is left to lex_any at c.p (kOther): string literals,
  // continuation lines, '\r', the end of input, and names while UTF-8 is to be checked.
  //
  // Always inlined: advance_until's loop keeps the cursor in registers, where members
  // could not stay (stores through char pointers may alias them), and its branches on
  // the result fold into the token's own.
  DXPY_ALWAYS_INLINE Lex lex_common(Cursor& c, Lexed& t) {
    const char* const end = end_;
    const char* p = c.p;
    for (;;) {
      if (p >= end) break;
      if (*p == ' ') {  // the lone blank between most tokens, without a dispatch of its own
        if (++p >= end) break;
      }
      const char* const b = p;
      const char ch = *p;
      t.begin = b;
      t.depth = c.depth;
      t.key = 0;
      // Every class has a case, and the compiler is told so: no range check before the
      // jump table.
      switch (cls(ch)) {
        case kBlank:
          ++p;
          continue;
        case kHash:
          p = find_line_end(p + 1, end);
          continue;
        case kLf:
          ++p;
          if (c.depth > 0) {
            ++c.line;
            continue;
          }
          t.kind = T::kNewline;
          t.tc = kTcNewline;
          c.p = p;
          return Lex::kStatementEnd;
        case kIdent: {
          p = name_end(b, end, t.key);
          if ((p < end && cls(*p) == kQuote && p - b <= 2) || check_utf8_) {
            c.p = b;  // maybe a string prefix; or a name to check
            return Lex::kOther;
          }
          t.kind = T::kName;
          t.tc = name_class(t.key);
          c.p = p;
          return Lex::kToken;
        }
        case kDigit:
          // Mostly small decimal integers: those here, the rest by number_end.
          ++p;
          while (p < end && cls(*p) == kDigit) ++p;
          if (p < end && kNumberTail[static_cast<unsigned char>(*p)]) p = number_end(b, end);
          t.kind = T::kNumber;
          t.tc = kTcNumber;
          c.p = p;
          return Lex::kToken;
        case kDot:
          if (p + 1 < end && cls(p[1]) == kDigit) {
            t.kind = T::kNumber;
            c.p = number_end(p, end);
          } else if (p + 2 < end && p[1] == '.' && p[2] == '.') {
            t.kind = T::kEllipsis;
            c.p = p + 3;
          } else {
            t.kind = T::kDot;
            c.p = p + 1;
          }
          t.tc = kKindClass[static_cast<size_t>(t.kind)];
          return Lex::kToken;
        case kOpen:
          if (c.depth >= static_cast<uint32_t>(kMaxNesting)) break;
          stack_[c.depth] = ch;
          open_line_[c.depth] = c.line;
          ++c.depth;
          t.kind = T::kOpen;
          t.tc = ch == '[' ? kTcOpenSquare : kTcOpenOther;
          c.p = p + 1;
          return Lex::kToken;
        case kClose: {
          if (c.depth == 0) break;
          const char open = stack_[c.depth - 1];
          if ((open == '(' && ch != ')') || (open == '[' && ch != ']') || (open == '{' && ch != '}')) break;
          --c.depth;
          t.kind = T::kClose;
          t.tc = kTcClose;
          c.p = p + 1;
          return Lex::kToken;
        }
        case kOther: {
          const char* error = nullptr;
          t.kind = operator_at(p, end, error);
          if (error) break;
          t.tc = kKindClass[static_cast<size_t>(t.kind)];
          c.p = p;
          return t.kind == T::kSemi && c.depth == 0 ? Lex::kStatementEnd : Lex::kToken;
        }
        case kCr: case kQuote: case kBackslash: case kBad:
          break;
        default:
          DXPY_UNREACHABLE();  // kClass holds CharClass values only
      }
      p = b;
      break;
    }
    c.p = p;
    return Lex::kOther;
  }

  // Reads any token into tok_, or fails. Works on a local copy of p_: stores through char
  // pointers may alias members, so the compiler could not keep p_ in a register.
  void lex_any() {
    const char* p = p_;
    const char* const end = end_;
    for (;;) {
      if (p >= end) {
        p_ = p;
        if (depth_ > 0 && !failed_ && (!draining_ || drain_inside_brackets_)) {
          fail(open_line_[depth_ - 1], "bracket was never closed");
          return;
        }
        tok_ = Token{T::kEof, kTcEof, 0, line_, end_, end_};
        return;
      }
      const char* b = p;
      char c = *p;
      switch (cls(c)) {
        case kBlank:
          ++p;
          continue;
        case kHash:
          p = find_line_end(p + 1, end);
          continue;
        case kCr:
          if (p + 1 < end && p[1] == '\n') {
            ++p;
            break;  // the '\n' below ends the line
          }
          ++p;
          if (depth_ == 0) {
            p_ = p;
            return set(T::kNewline, b);
          }
          continue;
        case kLf:
          break;
        case kBackslash:
          ++p;
          if (p < end && *p == '\n') {
            ++line_;
            ++p;
          } else if (p < end && *p == '\r') {
            ++p;
            if (p < end && *p == '\n') {
              ++line_;
              ++p;
            }
          } else {
            return fail(line_, "unexpected character after line continuation character");
          }
          continue;
        case kIdent: {
          uint64_t key;
          p = name_end(b, end, key);
          p_ = p;
          if (p < end && cls(*p) == kQuote && p - b <= 2) {
            if (uint8_t f = prefix_flags(b, p)) return lex_string(b, f);
          }
          if (check_utf8_ && !valid_utf8(b, line_)) return;
          tok_ = Token{T::kName, name_class(key), depth_, line_, b, p, key};
          return;
        }
        case kDigit:
          p_ = p;
          return lex_number(b);
        case kQuote:
          p_ = p;
          return lex_string(b, kPrefix);
        case kDot:
          p_ = p;
          if (p + 1 < end && cls(p[1]) == kDigit) return lex_number(b);
          if (p + 2 < end && p[1] == '.' && p[2] == '.') {
            p_ = p + 3;
            return set(T::kEllipsis, b);
          }
          p_ = p + 1;
          return set(T::kDot, b);
        case kOpen:
          if (depth_ >= static_cast<uint32_t>(kMaxNesting)) return fail(line_, "too many nested parentheses");
          stack_[depth_] = c;
          open_line_[depth_] = line_;
          p_ = p + 1;
          tok_ = Token{T::kOpen, c == '[' ? kTcOpenSquare : kTcOpenOther, depth_, line_, b, p + 1};
          ++depth_;
          return;
        case kClose: {
          if (depth_ == 0) return fail(line_, "unmatched closing bracket");
          char open = stack_[depth_ - 1];
          if ((open == '(' && c != ')') || (open == '[' && c != ']') || (open == '{' && c != '}'))
            return fail(line_, "closing bracket does not match the opening one");
          p_ = p + 1;
          set(T::kClose, b);
          --depth_;
          return;
        }
        case kBad:
          return fail(line_, "invalid character");
        default:
          p_ = p;
          return lex_operator(b);
      }
      // '\n'
      ++p;
      if (depth_ == 0) {
        p_ = p;
        set(T::kNewline, b);
        ++line_;
        return;
      }
      ++line_;
    }
  }

  // Checks [b, p_), which starts on `line`.
  bool valid_utf8(const char* b, uint32_t line) {
    const char* bad = invalid_utf8(b, p_);
    if (bad == p_) return true;
    for (const char* q = b; q < bad; ++q) line += *q == '\n';
    fail(line, "invalid UTF-8, and no encoding declared");
    return false;
  }

  void set(T kind, const char* b) { tok_ = Token{kind, kKindClass[static_cast<size_t>(kind)], depth_, line_, b, p_}; }

  void lex_string(const char* b, uint8_t flags) {
    if (const char* e = plain_string_end(p_, end_, flags)) {
      p_ = e;
      if (check_utf8_ && !valid_utf8(b, line_)) return;
      tok_ = Token{T::kString, kTcString, depth_, line_, b, p_};
      return;
    }
    StringLexer lx{p_, end_, line_};
    uint32_t start = line_;
    lx.string(flags, 0);
    if (lx.error) return fail(lx.error_line, lx.error);
    p_ = lx.p;
    if (check_utf8_ && !valid_utf8(b, start)) return;
    tok_ = Token{T::kString, kTcString, depth_, start, b, p_};
    line_ = lx.line;
  }

  void lex_number(const char* b) {
    p_ = number_end(p_, end_);
    set(T::kNumber, b);
  }

  // The end of the number at p (a digit, or '.' before one) as CPython's tokenizer reads
  // it, so that `1if x else 2` is three tokens.
  static const char* number_end(const char* p, const char* end) {
    auto digits = [&p, end](bool hex) {
      while (p < end && (cls(*p) == kDigit || *p == '_' || (hex && std::isxdigit(static_cast<unsigned char>(*p)))))
        ++p;
    };
    if (*p == '0' && p + 1 < end && std::strchr("xXoObB", p[1]) && p[1] != '\0') {
      p += 2;
      digits(true);
      return p;
    }
    digits(false);
    if (p < end && *p == '.') {
      ++p;
      digits(false);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      const char* q = p + 1;
      if (q < end && (*q == '+' || *q == '-')) ++q;
      if (q < end && cls(*q) == kDigit) {
        p = q;
        digits(false);
      }
    }
    if (p < end && (*p == 'j' || *p == 'J')) ++p;
    return p;
  }

  void lex_operator(const char* b) {
    const char* p = p_;
    const char* error = nullptr;
    T kind = operator_at(p, end_, error);
    if (error) return fail(line_, error);
    p_ = p;
    set(kind, b);
  }

  // The operator at p (a character of class kOther): its kind, with p moved past it, or
  // `error` set.
  DXPY_ALWAYS_INLINE static T operator_at(const char*& p, const char* end, const char*& error) {
    char c = *p++;
    char n = p < end ? *p : '\0';
    T kind = T::kOp;
    switch (c) {
      case '=':
        if (n == '=') ++p;
        else kind = T::kAssign;
        break;
      case ':':
        if (n == '=') {
          ++p;
          kind = T::kWalrus;
        } else {
          kind = T::kColon;
        }
        break;
      case ';':
        kind = T::kSemi;
        break;
      case ',':
        kind = T::kComma;
        break;
      case '@':
        if (n == '=') ++p;
        else kind = T::kAt;
        break;
      case '-':
        if (n == '>') {
          ++p;
          kind = T::kArrow;
        } else if (n == '=') {
          ++p;
        }
        break;
      case '*':
      case '/':
        if (n == c) {
          ++p;
          n = p < end ? *p : '\0';
          if (n == '=') ++p;
          else kind = c == '*' ? T::kStarStar : T::kOp;
        } else if (n == '=') {
          ++p;
        } else {
          kind = c == '*' ? T::kStar : T::kSlash;
        }
        break;
      case '<':
      case '>':
        if (n == c) {
          ++p;
          if (p < end && *p == '=') ++p;
        } else if (n == '=' || (c == '<' && n == '>')) {
          ++p;
        }
        break;
      case '!':
        if (n != '=') error = "invalid syntax";
        ++p;
        break;
      case '+':
      case '%':
      case '&':
      case '|':
      case '^':
        if (n == '=') ++p;
        break;
      case '~':
        break;
      default:
        error = "invalid character";
    }
    return kind;
  }

  // ---- statements ----

  struct Saved {
    const char* p;
    uint32_t line;
    uint32_t depth;
    Token tok;
    PairState prev;
  };
  Saved save() const { return Saved{p_, line_, depth_, tok_, prev_}; }
  // Only from a statement's start (depth 0): brackets opened since are forgotten with depth_.
  void restore(const Saved& s) {
    if (failed_) return;
    p_ = s.p;
    line_ = s.line;
    depth_ = s.depth;
    tok_ = s.tok;
    prev_ = s.prev;
  }

  bool at_end_of_line() const { return tok_.kind == T::kNewline || tok_.kind == T::kEof; }

  bool indent(uint32_t col, uint32_t alt) {
    const Frame& top = frames_.back();
    if (!decorators_.empty() && col != top.col) {
      fail_syntax(line_, "invalid syntax: decorator without a definition");
      return false;
    }
    if (block_pending_) {
      block_pending_ = false;
      if (col <= top.col) {
        fail_syntax(line_, "expected an indented block");
        return false;
      }
      if (alt <= top.alt_col) {
        fail(line_, "inconsistent use of tabs and spaces in indentation");
        return false;
      }
      if (frames_.size() >= kMaxIndent) {
        fail(line_, "too many levels of indentation");
        return false;
      }
      frames_.push_back(Frame{col, alt, pending_ctx_});
      return true;
    }
    if (col > top.col) {
      fail_syntax(line_, "unexpected indent");
      return false;
    }
    while (col < frames_.back().col) frames_.pop_back();
    if (col != frames_.back().col) {
      fail(line_, "unindent does not match any outer indentation level");
      return false;
    }
    if (alt != frames_.back().alt_col) {
      fail(line_, "inconsistent use of tabs and spaces in indentation");
      return false;
    }
    return true;
  }

  void statement(const Context& ctx) {
    if (ctx.match_body) {
      if (tok_.is(kw("case"))) return compound(ctx, false);
      return fail_syntax(tok_.line, "invalid syntax: expected 'case'");
    }
    if (tok_.kind == T::kAt) return decorator();
    if (tok_.kind == T::kName) {
      switch (tok_.key) {
        case kw("def"):
          return function(ctx, DefKind::kFunction, tok_.line);
        case kw("class"):
          return class_def(ctx, tok_.line);
        case kw("if"): case kw("elif"): case kw("else"): case kw("while"): case kw("for"): case kw("try"):
        case kw("except"): case kw("finally"): case kw("with"):
          return compound(ctx, false);
        case kw("match"):
          if (is_match_statement()) return compound(ctx, true);
          break;
        default:
          break;
      }
      if (tok_.is(kw("async"))) {
        uint32_t line = tok_.line;
        advance();
        if (tok_.is(kw("def"))) return function(ctx, DefKind::kAsyncFunction, line);
        if (tok_.is(kw("for")) || tok_.is(kw("with"))) return compound(ctx, false);
        return fail_syntax(line, "invalid syntax");
      }
    }
    if (!decorators_.empty()) return fail_syntax(tok_.line, "invalid syntax: decorator without a definition");
    simple_statements(ctx);
  }

  // `match` is a keyword only in `match SUBJECT:` followed by a block: a logical line
  // that ends in ':' cannot be a simple statement.
  bool is_match_statement() {
    Saved s = save();
    advance();
    bool header = false;
    if (!at_end_of_line() && tok_.kind != T::kAssign && tok_.kind != T::kColon && tok_.kind != T::kDot) {
      T last = T::kEof;
      while (!at_end_of_line()) {
        last = tok_.kind;
        advance();
      }
      header = last == T::kColon;
    }
    restore(s);
    return header;
  }

  // Skips tokens at bracket depth `depth` until one of `stops` (kColon, kComma, kAssign,
  // kSemi) or the bracket closing that depth; a lambda's own ':', ',' and '=' do not stop.
  void skip_expression(uint32_t depth, std::initializer_list<T> stops) {
    uint32_t lambdas = 0;
    auto stop = [&](T k, uint32_t d, uint8_t tc) {
      if (d != depth) return false;
      if (k == T::kClose) return true;
      if (tc == kTcLambda) {
        ++lambdas;
      } else if (k == T::kColon && lambdas > 0) {
        --lambdas;
      } else if (lambdas == 0 || k == T::kSemi) {
        for (T s : stops)
          if (k == s) return true;
      }
      return false;
    };
    if (!at_end_of_line() && !stop(tok_.kind, tok_.depth, tok_.tc)) advance_until(stop);
  }

  bool at_end_of_statement() const { return at_end_of_line() || (tok_.kind == T::kSemi && tok_.depth == 0); }

  // The rest of a simple statement: up to ';' or the end of the line.
  void skip_statement() {
    if (!at_end_of_statement()) advance_until([](T k, uint32_t d, uint8_t) { return k == T::kSemi && d == 0; });
  }

  // advance() until the end of the line (kNewline or kEof) or a token for which
  // stop(kind, depth, class) holds. The scanner's hottest loop (function bodies are mostly
  // skip_statement), so it does what advance() does without storing each token in tok_:
  // common tokens are lexed in registers and checked with kPairTable, the rest go through
  // lex_any(). tok_ is only written for the token the loop stops at, or for one
  // check_pair rejects.
  template <class Stop>
  void advance_until(Stop stop) {
    Cursor c{p_, line_, depth_};
    PairState state = prev_;
    for (;;) {
      Lexed t;
      const Lex r = lex_common(c, t);
      if (r == Lex::kOther) {
        p_ = c.p;
        line_ = c.line;
        depth_ = c.depth;
        prev_ = state;
        lex_any();
        if (!failed_) check_pair();
        if (at_end_of_line() || stop(tok_.kind, tok_.depth, tok_.tc)) return;
        c = Cursor{p_, line_, depth_};
        state = prev_;
        continue;
      }
      const PairState e = kPairTable.next(state, t.tc);
      // (r is known on each of lex_common's paths, so names, brackets and the like skip
      // the kNewline test.)
      if (!(e & kPairBad) && !(r == Lex::kStatementEnd && t.kind == T::kNewline) && !stop(t.kind, t.depth, t.tc)) {
        state = e;
        continue;
      }
      p_ = c.p;
      line_ = c.line;
      depth_ = c.depth;
      prev_ = e & ~kPairBad;
      tok_ = Token{t.kind, t.tc, t.depth, line_, t.begin, p_, t.key};
      if (t.kind == T::kNewline) ++line_;
      if (e & kPairBad) fail_syntax(tok_.line, "invalid syntax");
      return;
    }
  }

  // tok_ is an opening bracket: skips to just after its closing one.
  void skip_brackets() {
    uint32_t d = tok_.depth;
    advance();
    while (!at_end_of_line() && !(tok_.kind == T::kClose && tok_.depth == d + 1)) advance();
    if (tok_.kind == T::kClose) advance();
  }

  std::string fold(const char* b, const char* e) const {
    return e > b ? fold_source_text(std::string_view(b, static_cast<size_t>(e - b))) : std::string();
  }

  void decorator() {
    uint32_t line = tok_.line;
    const char* b = tok_.end;
    advance_until([](T, uint32_t, uint8_t) { return false; });
    if (failed_) return;
    std::string text = fold(b, tok_.begin);
    if (text.empty()) return fail_syntax(line, "invalid syntax");
    decorators_.push_back(Decorator{std::move(text), line});
  }

  // After the header's ':': a block on the next lines, or simple statements on this one.
  void body(const Context& ctx) {
    advance();
    if (tok_.kind == T::kNewline) {
      block_pending_ = true;
      pending_ctx_ = ctx;
    } else if (tok_.kind == T::kEof) {
      fail_syntax(tok_.line, "expected an indented block");
    } else if (ctx.match_body) {
      fail_syntax(tok_.line, "invalid syntax");
    } else {
      simple_statements(ctx);
    }
  }

  void compound(const Context& ctx, bool match) {
    advance();
    skip_expression(0, {T::kColon});
    if (tok_.kind != T::kColon) return fail_syntax(tok_.line, "expected ':'");
    body(Context{ctx.defs, nullptr, ctx.defs != nullptr, true, match});
  }

  void function(const Context& ctx, DefKind kind, uint32_t line) {
    // Name and parameters are kept as views into the source until the header is read,
    // and copied only if the def is recorded: not for functions nested in functions.
    advance();
    if (tok_.kind != T::kName) return fail_syntax(tok_.line, "invalid syntax");
    const std::string_view name = tok_.text();
    params_.clear();
    advance();
    if (tok_.kind == T::kOpen && *tok_.begin == '[') skip_brackets();
    if (tok_.kind != T::kOpen || *tok_.begin != '(') return fail_syntax(tok_.line, "expected '('");
    advance();
    while (tok_.kind != T::kClose) {
      bool marker = false;
      if (tok_.kind == T::kStar || tok_.kind == T::kStarStar || tok_.kind == T::kSlash) {
        marker = tok_.kind != T::kStarStar;
        advance();
      }
      if (tok_.kind == T::kName) {
        params_.push_back(tok_.text());
        advance();
      } else if (!marker || (tok_.kind != T::kComma && tok_.kind != T::kClose)) {
        return fail_syntax(tok_.line, "invalid syntax");
      }
      if (tok_.kind == T::kColon) {
        advance();
        skip_expression(1, {T::kComma, T::kAssign});
      }
      if (tok_.kind == T::kAssign) {
        advance();
        if (tok_.kind == T::kComma || tok_.kind == T::kClose) return fail_syntax(tok_.line, "expected default value");
        skip_expression(1, {T::kComma});
      }
      if (tok_.kind == T::kComma) {
        advance();
      } else if (tok_.kind != T::kClose) {
        return fail_syntax(tok_.line, "invalid syntax");
      }
    }
    advance();
    if (tok_.kind == T::kArrow) {
      advance();
      skip_expression(0, {T::kColon});
    }
    if (tok_.kind != T::kColon) return fail_syntax(tok_.line, "expected ':'");
    if (ctx.defs) {
      Def& d = ctx.defs->emplace_back();
      d.kind = kind;
      d.name = name;
      d.line = line;
      d.decorators = std::move(decorators_);
      d.params.reserve(params_.size());
      for (std::string_view p : params_) d.params.emplace_back(p);
      d.conditional = ctx.conditional;
    }
    decorators_.clear();
    body(Context{nullptr, nullptr, false, true, false});
  }

  void class_def(const Context& ctx, uint32_t line) {
    Def d;
    d.kind = DefKind::kClass;
    d.line = line;
    d.conditional = ctx.conditional;
    advance();
    if (tok_.kind != T::kName) return fail_syntax(tok_.line, "invalid syntax");
    d.name = tok_.text();
    advance();
    if (tok_.kind == T::kOpen && *tok_.begin == '[') skip_brackets();
    if (tok_.kind == T::kOpen && *tok_.begin == '(') {
      advance();
      while (tok_.kind != T::kClose) {
        const char* b = tok_.begin;
        bool keyword = tok_.kind == T::kStarStar;
        if (tok_.kind == T::kName) {
          advance();
          keyword = tok_.kind == T::kAssign;
        }
        skip_expression(1, {T::kComma});
        if (failed_) return;
        std::string text = fold(b, tok_.begin);
        if (text.empty()) return fail_syntax(tok_.line, "invalid syntax");
        if (!keyword) d.bases.push_back(std::move(text));
        if (tok_.kind == T::kComma) advance();
        else if (tok_.kind != T::kClose) return fail_syntax(tok_.line, "invalid syntax");
      }
      advance();
    }
    if (tok_.kind != T::kColon) return fail_syntax(tok_.line, "expected ':'");
    d.decorators = std::move(decorators_);
    decorators_.clear();
    Context inner{nullptr, nullptr, false, true, false};
    if (ctx.defs) {
      ctx.defs->push_back(std::move(d));
      // Frames above this one never add to ctx.defs, so the pointers stay valid.
      inner.defs = &ctx.defs->back().body;
      inner.assignments = &ctx.defs->back().assignments;
    }
    body(inner);
  }

  void simple_statements(const Context& ctx) {
    for (;;) {
      if (tok_.kind == T::kName) {
        if (tok_.key == kw("import")) import_names(ctx);
        else if (tok_.key == kw("from")) import_from(ctx);
        else if (is_compound_keyword(tok_.key)) return fail_syntax(tok_.line, "invalid syntax");
        else if (ctx.assignments) assignment(*ctx.assignments);
        else skip_statement();
      } else {
        skip_statement();
      }
      if (tok_.kind != T::kSemi) return;
      advance();
      if (at_end_of_line()) return;
    }
  }

  void assignment(std::vector<Assignment>& out) {
    Token name = tok_;
    advance();
    if (tok_.kind == T::kColon) {
      advance();
      skip_expression(0, {T::kAssign, T::kSemi});
    }
    if (tok_.kind == T::kAssign) {
      const char* b = tok_.end;
      advance();
      skip_statement();
      if (failed_) return;
      std::string value = fold(b, tok_.begin);
      if (value.empty()) return fail_syntax(name.line, "invalid syntax");
      out.push_back(Assignment{std::string(name.text()), std::move(value), name.line});
      return;
    }
    skip_statement();
  }

  // Appends ".NAME" parts to `module`; tok_ is on the first NAME.
  bool dotted_name(std::string& module) {
    for (;;) {
      if (tok_.kind != T::kName) {
        fail_syntax(tok_.line, "invalid syntax");
        return false;
      }
      module += tok_.text();
      advance();
      if (tok_.kind != T::kDot) return true;
      module += '.';
      advance();
    }
  }

  // After a module or name: an optional `as NAME`, stored in `alias`.
  bool alias(std::string& alias) {
    if (!tok_.is(kw("as"))) return true;
    advance();
    if (tok_.kind != T::kName) {
      fail_syntax(tok_.line, "invalid syntax");
      return false;
    }
    alias = tok_.text();
    advance();
    return true;
  }

  void import_names(const Context& ctx) {
    uint32_t line = tok_.line;
    advance();
    for (;;) {
      Import imp;
      imp.line = line;
      imp.nested = ctx.nested;
      if (!dotted_name(imp.module) || !alias(imp.alias)) return;
      out_.imports.push_back(std::move(imp));
      if (tok_.kind != T::kComma) return;
      advance();
    }
  }

  void import_from(const Context& ctx) {
    Import imp;
    imp.line = tok_.line;
    imp.nested = ctx.nested;
    advance();
    for (;; advance()) {
      if (tok_.kind == T::kDot) imp.level += 1;
      else if (tok_.kind == T::kEllipsis) imp.level += 3;
      else break;
    }
    if (!tok_.is(kw("import")) && !dotted_name(imp.module)) return;
    if (!tok_.is(kw("import"))) return fail_syntax(tok_.line, "invalid syntax");
    if (imp.level == 0 && imp.module.empty()) return fail_syntax(tok_.line, "invalid syntax");
    advance();
    if (tok_.kind == T::kStar) {
      imp.names.emplace_back("*");
      advance();
    } else {
      bool parens = tok_.kind == T::kOpen && *tok_.begin == '(';
      if (parens) advance();
      bool renamed = false;
      for (;;) {
        if (tok_.kind != T::kName) return fail_syntax(tok_.line, "invalid syntax");
        imp.names.emplace_back(tok_.text());
        advance();
        if (!alias(imp.aliases.emplace_back())) return;
        renamed |= !imp.aliases.back().empty();
        if (tok_.kind != T::kComma) break;
        advance();
        if (parens && tok_.kind == T::kClose) break;
      }
      if (!renamed) imp.aliases.clear();
      if (parens) {
        if (tok_.kind != T::kClose) return fail_syntax(tok_.line, "invalid syntax");
        advance();
      }
    }
    out_.imports.push_back(std::move(imp));
  }

  const char* p_;
  const char* end_;
  uint32_t line_ = 1;
  uint32_t depth_ = 0;
  char stack_[kMaxNesting] = {};
  uint32_t open_line_[kMaxNesting] = {};
  Token tok_;
  PairState prev_ = 0;  // kPairTable's state after the previous token (0: a statement's start)
  bool failed_ = false;
  bool draining_ = false;
  bool check_utf8_ = false;
  bool drain_inside_brackets_ = false;
  SyntaxIssue issue_;

  Outline& out_;
  std::vector<Frame> frames_;
  std::vector<Decorator> decorators_;
  std::vector<std::string_view> params_;  // of the def being read (function)
  bool block_pending_ = false;
  Context pending_ctx_;
};

}  // namespace

Outline scan_outline(std::string_view source) {
  Outline out;
  Scanner(source, out).run();
  return out;
}

void scan_outline_into(std::string_view source, Outline& out) {
  out.defs.clear();
  out.assignments.clear();
  out.imports.clear();
  out.errors.clear();
  Scanner(source, out).run();
}

std::string fold_source_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool blank = false;
  const char* p = text.data();
  const char* end = p + text.size();
  auto emit = [&](const char* b, const char* e) {
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out.append(b, static_cast<size_t>(e - b));
  };
  auto literal = [&](const char* b, const char* q, uint8_t flags) {
    StringLexer lx{q, end, 0};
    lx.string(flags, 0);
    emit(b, lx.error ? end : lx.p);
    return lx.error ? end : lx.p;
  };
  while (p < end) {
    switch (cls(*p)) {
      case kBlank:
      case kLf:
      case kCr:
        blank = true;
        ++p;
        break;
      case kHash:
        while (p < end && *p != '\n' && *p != '\r') ++p;
        break;
      case kBackslash:
        if (p + 1 < end && (p[1] == '\n' || p[1] == '\r')) {
          blank = true;
          ++p;
        } else {
          emit(p, p + 1);
          ++p;
        }
        break;
      case kQuote:
        p = literal(p, p, kPrefix);
        break;
      case kIdent:
      case kDigit: {
        const char* q = p;
        while (q < end && is_word(*q)) ++q;
        uint8_t flags = q < end && cls(*q) == kQuote && q - p <= 2 ? prefix_flags(p, q) : 0;
        if (flags && cls(*p) == kIdent) {
          p = literal(p, q, flags);
        } else {
          emit(p, q);
          p = q;
        }
        break;
      }
      default:
        emit(p, p + 1);
        ++p;
    }
  }
  return out;
}

}  // namespace dxpy::discovery
