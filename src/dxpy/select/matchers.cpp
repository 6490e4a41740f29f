#include "dxpy/select/matchers.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>
#include "dxpy/util/text.h"

namespace dxpy::select {

namespace {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// ---- Python literals, just enough to compare with a -m keyword value ---------------------

// kNum holds an integral number (int, bool, or an integral float) as canonical decimal;
// kOther a value equal to no -m value (bytes, a non-integral float).
struct PyValue {
  enum Kind : uint8_t { kStr, kNum, kNone, kOther } kind = kOther;
  std::string text;
};

std::string canonical_decimal(std::string_view digits, bool negative) {
  auto nz = digits.find_first_not_of('0');
  if (nz == std::string_view::npos) return "0";
  std::string out = negative ? "-" : "";
  out.append(digits.substr(nz));
  return out;
}

// One string literal at the front of `s`; advances `s` past it. nullopt if it is not one
// we can evaluate (an f-string with fields, \N{...}).
std::optional<PyValue> string_literal(std::string_view& s) {
  size_t p = 0;
  bool raw = false, bytes = false, fstr = false;
  while (p < s.size() && p < 3 && std::string_view("rRuUbBfF").find(s[p]) != std::string_view::npos) {
    char c = static_cast<char>(s[p] | 0x20);
    raw |= c == 'r';
    bytes |= c == 'b';
    fstr |= c == 'f';
    ++p;
  }
  if (p >= s.size() || (s[p] != '\'' && s[p] != '"')) return std::nullopt;
  const char q = s[p];
  const bool triple = s.substr(p, 3) == std::string(3, q);
  std::string_view close = triple ? s.substr(p, 3) : s.substr(p, 1);
  p += close.size();
  std::string out;
  for (;;) {
    if (p >= s.size()) return std::nullopt;
    if (s.substr(p, close.size()) == close) {
      p += close.size();
      break;
    }
    char c = s[p++];
    if (c != '\\') {
      if (fstr && (c == '{' || c == '}')) return std::nullopt;
      out.push_back(c);
      continue;
    }
    if (p >= s.size()) return std::nullopt;
    if (raw) {
      out.push_back('\\');
      out.push_back(s[p++]);
      continue;
    }
    if (!decode_python_escape(s, p, out, bytes)) return std::nullopt;
  }
  s.remove_prefix(p);
  return PyValue{bytes ? PyValue::kOther : PyValue::kStr, std::move(out)};
}

std::optional<PyValue> number_literal(std::string_view s, bool negative) {
  std::string t;
  for (char c : s) {
    if (c != '_') t.push_back(c);
  }
  if (t.empty()) return std::nullopt;
  if (t.size() > 2 && t[0] == '0' && std::string_view("xXoObB").find(t[1]) != std::string_view::npos) {
    int base = (t[1] | 0x20) == 'x' ? 16 : (t[1] | 0x20) == 'o' ? 8 : 2;
    uint64_t v = 0;
    for (size_t i = 2; i < t.size(); ++i) {
      int d = hex_digit_value(t[i]);
      if (d < 0 || d >= base) return std::nullopt;
      if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return std::nullopt;
      v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    return PyValue{PyValue::kNum, canonical_decimal(std::to_string(v), negative)};
  }
  bool all_digits = true;
  for (char c : t) all_digits &= c >= '0' && c <= '9';
  if (all_digits) return PyValue{PyValue::kNum, canonical_decimal(t, negative)};
  if (t.back() == 'j' || t.back() == 'J') return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  if (!std::isfinite(d) || d != std::floor(d)) return PyValue{PyValue::kOther, {}};
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(d));  // exact for integral doubles
  return PyValue{PyValue::kNum, canonical_decimal(buf, negative)};
}

std::optional<PyValue> parse_literal(std::string_view s) {
  s = trim(s);
  while (s.size() >= 2 && s.front() == '(' && s.back() == ')') s = trim(s.substr(1, s.size() - 2));
  bool negative = false, signed_ = false;
  while (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative ^= s.front() == '-';
    signed_ = true;
    s = trim(s.substr(1));
  }
  if (s == "None") return signed_ ? std::nullopt : std::optional<PyValue>{PyValue{PyValue::kNone, {}}};
  if (s == "True" || s == "False") {
    return PyValue{PyValue::kNum, s == "True" ? (negative ? "-1" : "1") : "0"};
  }
  if (!s.empty() && ((s[0] >= '0' && s[0] <= '9') || s[0] == '.')) return number_literal(s, negative);
  if (signed_) return std::nullopt;
  // One or more adjacent string literals, concatenated.
  std::optional<PyValue> acc;
  while (!s.empty()) {
    auto part = string_literal(s);
    if (!part) return std::nullopt;
    if (acc && acc->kind != part->kind) return std::nullopt;  // str + bytes is a SyntaxError
    if (!acc) {
      acc = std::move(part);
    } else {
      acc->text += part->text;
    }
    s = trim(s);
  }
  return acc;
}

}  // namespace

bool literal_equals(std::string_view literal, const KwargValue& value) {
  auto v = parse_literal(literal);
  if (!v) return false;
  switch (value.kind) {
    case KwargValue::Kind::kString: return v->kind == PyValue::kStr && v->text == value.text;
    case KwargValue::Kind::kInt: return v->kind == PyValue::kNum && v->text == value.text;
    case KwargValue::Kind::kBool: return v->kind == PyValue::kNum && v->text == (value.text == "True" ? "1" : "0");
    case KwargValue::Kind::kNone: return v->kind == PyValue::kNone;
  }
  return false;
}

// ---- matchers ------------------------------------------------------------------------------

KeywordMatcher::KeywordMatcher(std::vector<std::string> names) : names_(std::move(names)) {
  lower_.reserve(names_.size());
  for (const auto& n : names_) lower_.push_back(ascii_lower(n));
}

KeywordMatcher KeywordMatcher::from_test(const TestCase& test, const std::vector<std::string>& extra) {
  std::vector<std::string> names;
  std::string_view path = test.id.path;
  for (;;) {
    auto slash = path.find('/');
    if (slash == std::string_view::npos) break;
    if (slash > 0) names.emplace_back(path.substr(0, slash));
    path.remove_prefix(slash + 1);
  }
  names.emplace_back(path);  // the module
  for (const auto& c : test.id.classes) names.push_back(c);
  names.push_back(test.id.param ? test.id.name + "[" + *test.id.param + "]" : test.id.name);
  for (const auto& m : test.markers) names.push_back(m.name);
  names.insert(names.end(), extra.begin(), extra.end());
  return KeywordMatcher(std::move(names));
}

Expected<bool> KeywordMatcher::operator()(std::string_view subname, const std::vector<Kwarg>& kwargs) const {
  if (!kwargs.empty()) return make_error(Errc::kUsage, "Keyword expressions do not support call parameters.");
  std::string needle = ascii_lower(subname);
  for (const auto& n : lower_) {
    if (n.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool MarkMatcher::operator()(std::string_view name, const std::vector<Kwarg>& kwargs) const {
  for (const auto& m : *markers_) {
    if (m.name != name) continue;
    bool all = true;
    for (const auto& kw : kwargs) {
      const std::string* given = nullptr;
      for (const auto& [k, v] : m.kwargs) {
        if (k == kw.name) given = &v;  // the last one, as a dict would keep
      }
      if (!given || !literal_equals(*given, kw.value)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace dxpy::select
