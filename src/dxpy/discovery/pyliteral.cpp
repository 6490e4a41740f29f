#include "dxpy/discovery/pyliteral.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include "dxpy/util/text.h"

namespace dxpy::discovery {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

namespace {

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }

// Index just past the string literal starting at `i` (at its opening quote), or npos.
size_t skip_string(std::string_view s, size_t i) {
  char q = s[i];
  bool triple = i + 2 < s.size() && s[i + 1] == q && s[i + 2] == q;
  size_t j = i + (triple ? 3 : 1);
  while (j < s.size()) {
    if (s[j] == '\\') {
      j += 2;
      continue;
    }
    if (s[j] == q) {
      if (!triple) return j + 1;
      if (j + 2 < s.size() && s[j + 1] == q && s[j + 2] == q) return j + 3;
    }
    ++j;
  }
  return std::string_view::npos;
}

// Splits `s` at top-level commas (outside brackets and strings). nullopt if unbalanced.
std::optional<std::vector<std::string_view>> split_top(std::string_view s) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"' || c == '\'') {
      size_t end = skip_string(s, i);
      if (end == std::string_view::npos) return std::nullopt;
      i = end - 1;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      if (--depth < 0) return std::nullopt;
    } else if (c == ',' && depth == 0) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (depth != 0) return std::nullopt;
  auto last = trim(s.substr(start));
  if (!last.empty()) parts.push_back(last);
  return parts;
}

// Index of the bracket closing the one at `open`, or npos.
size_t matching(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"' || c == '\'') {
      size_t end = skip_string(s, i);
      if (end == std::string_view::npos) return end;
      i = end - 1;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes give nullopt.
std::optional<uint32_t> next_cp(std::string_view s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + static_cast<size_t>(n) > s.size()) return std::nullopt;
  uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((c >> 6) != 2) return std::nullopt;
    cp = (cp << 6) | (c & 0x3F);
  }
  i += static_cast<size_t>(n);
  return cp;
}

// Python's str.encode("unicode_escape").decode("ascii"), as pytest's _ascii_escaped.
std::optional<std::string> unicode_escape(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    auto cp = next_cp(s, i);
    if (!cp) return std::nullopt;
    char buf[16];
    if (*cp == '\\') out += "\\\\";
    else if (*cp == '\t') out += "\\t";
    else if (*cp == '\n') out += "\\n";
    else if (*cp == '\r') out += "\\r";
    else if (*cp < 0x20 || (*cp >= 0x7F && *cp < 0x100)) {
      std::snprintf(buf, sizeof buf, "\\x%02x", *cp);
      out += buf;
    } else if (*cp < 0x7F) out.push_back(static_cast<char>(*cp));
    else if (*cp < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", *cp);
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\U%08x", *cp);
      out += buf;
    }
  }
  return out;
}

// A literal integer's decimal text ("0x10" -> "16", "1_000" -> "1000"); nullopt if not one
// or too large for 64 bits.
std::optional<std::string> int_literal(std::string_view t) {
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t = trim(t.substr(1));
  }
  if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0]))) return std::nullopt;
  int base = 10;
  if (t.size() > 1 && t[0] == '0' && std::isalpha(static_cast<unsigned char>(t[1]))) {
    char b = static_cast<char>(std::tolower(static_cast<unsigned char>(t[1])));
    base = b == 'x' ? 16 : b == 'o' ? 8 : b == 'b' ? 2 : 0;
    if (!base) return std::nullopt;
    t.remove_prefix(2);
  } else if (t.size() > 1 && t[0] == '0') {
    for (char c : t)
      if (c != '0' && c != '_') return std::nullopt;  // "00" is zero; "012" is a syntax error
  }
  uint64_t v = 0;
  bool any = false;
  for (char c : t) {
    if (c == '_') continue;
    int d = hex_digit_value(c);
    if (d < 0 || d >= base) return std::nullopt;
    if (__builtin_mul_overflow(v, static_cast<uint64_t>(base), &v) ||
        __builtin_add_overflow(v, static_cast<uint64_t>(d), &v))
      return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  std::string digits = std::to_string(v);
  return (neg && digits != "0" ? "-" : "") + digits;
}

// Simple decimal floats whose Python repr is predictable: "1.5", "-0.25", "2.", ".5".
std::optional<std::string> float_literal(std::string_view t) {
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t = trim(t.substr(1));
  }
  auto dot = t.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string ip(t.substr(0, dot)), fp(t.substr(dot + 1));
  for (char c : ip + fp)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  if (ip.empty() && fp.empty()) return std::nullopt;
  while (ip.size() > 1 && ip[0] == '0') ip.erase(0, 1);
  if (ip.empty()) ip.assign(1, '0');
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  if (fp.empty()) fp.assign(1, '0');
  // repr switches to exponent form at 1e16 and below 1e-4; keep to the plain range.
  if (ip.size() > 15 || ip.size() + fp.size() > 15) return std::nullopt;
  if (ip == "0" && fp.size() >= 4 && fp.substr(0, 4) == "0000") return std::nullopt;
  return (neg ? "-" : "") + ip + "." + fp;
}

}  // namespace

std::optional<std::string> string_literal(std::string_view text) {
  text = trim(text);
  size_t i = 0;
  bool raw = false;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    if (c == 'r') raw = true;
    else if (c != 'u') return std::nullopt;  // b'', f'' and others are not plain str
    ++i;
  }
  if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) return std::nullopt;
  size_t end = skip_string(text, i);
  if (end != text.size()) return std::nullopt;  // implicit concatenation or trailing text
  char q = text[i];
  bool triple = end - i >= 6 && text[i + 1] == q && text[i + 2] == q;
  size_t qlen = triple ? 3 : 1;
  std::string_view body = text.substr(i + qlen, end - i - 2 * qlen);
  if (raw) return std::string(body);
  std::string out;
  for (size_t k = 0; k < body.size(); ++k) {
    char c = body[k];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    size_t p = k + 1;
    if (!decode_python_escape(body, p, out, false)) return std::nullopt;
    k = p - 1;
  }
  return out;
}

std::optional<CallParts> split_call(std::string_view text) {
  text = trim(text);
  size_t open = 0;
  while (open < text.size() && (is_ident_char(text[open]) || text[open] == '.' || text[open] == ' ')) ++open;
  if (open == 0 || open >= text.size() || text[open] != '(') return std::nullopt;
  if (matching(text, open) != text.size() - 1) return std::nullopt;
  CallParts parts;
  parts.callee = std::string(trim(text.substr(0, open)));
  auto items = split_top(text.substr(open + 1, text.size() - open - 2));
  if (!items) return std::nullopt;
  for (auto item : *items) {
    // key=value, but not key==value or a comparison
    size_t eq = 0;
    while (eq < item.size() && is_ident_char(item[eq])) ++eq;
    size_t after = eq;
    while (after < item.size() && item[after] == ' ') ++after;
    if (eq > 0 && after < item.size() && item[after] == '=' && (after + 1 >= item.size() || item[after + 1] != '='))
      parts.kwargs.emplace_back(std::string(item.substr(0, eq)), std::string(trim(item.substr(after + 1))));
    else
      parts.args.emplace_back(item);
  }
  return parts;
}

std::optional<std::vector<std::string>> split_sequence(std::string_view text) {
  text = trim(text);
  if (text.size() < 2) return std::nullopt;
  char open = text.front(), close = text.back();
  if (!((open == '(' && close == ')') || (open == '[' && close == ']'))) return std::nullopt;
  if (matching(text, 0) != text.size() - 1) return std::nullopt;
  std::string_view inner = trim(text.substr(1, text.size() - 2));
  auto items = split_top(inner);
  if (!items) return std::nullopt;
  if (open == '(' && items->size() == 1 && (inner.empty() || inner.back() != ',')) return std::nullopt;
  return std::vector<std::string>(items->begin(), items->end());
}

LiteralId literal_id(std::string_view text) {
  text = trim(text);
  if (text.empty()) return {};
  if (text == "True" || text == "False" || text == "None") return {LiteralId::kId, std::string(text)};
  if (auto s = string_literal(text)) {
    auto esc = unicode_escape(*s);
    if (esc) return {LiteralId::kId, *esc};
    return {};
  }
  if (auto i = int_literal(text)) return {LiteralId::kId, *i};
  if (auto f = float_literal(text)) return {LiteralId::kId, *f};
  char c = text.front();
  if (c == '[' || c == '{' || (c == '(' && split_sequence(text))) {
    if (matching(text, 0) == text.size() - 1) return {LiteralId::kUseArgname, ""};
  }
  return {};
}

}  // namespace dxpy::discovery
