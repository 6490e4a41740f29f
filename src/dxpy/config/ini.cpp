#include "dxpy/config/ini.h"

#include <optional>

#include "dxpy/util/text.h"

namespace dxpy::config {

const std::string* IniSection::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

const IniSection* IniFile::find(std::string_view name) const {
  for (const auto& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

namespace {

// What iniconfig's _parseline makes of one line.
struct Parsed {
  enum Kind : uint8_t { kBlank, kSection, kValue, kContinuation } kind = kBlank;
  std::u32string name;
  std::u32string value;
};

// One token of iniconfig's parse_lines: a section header or a (possibly continued) value.
struct Token {
  uint32_t lineno = 0;  // 0-based, as iniconfig keeps it
  std::optional<std::u32string> section;
  bool is_header = false;
  std::u32string name;
  std::vector<std::u32string> value;
};

Unexpected<Error> parse_error(std::string_view path, uint32_t lineno, const std::string& msg) {
  return make_error(Errc::kParse, std::string(path) + ":" + std::to_string(lineno + 1) + ": " + msg);
}

bool is_comment_line(std::u32string_view line) {
  auto s = py_lstrip(line);
  return s.empty() || s.front() == U'#' || s.front() == U';';
}

Expected<Parsed> parse_line(std::string_view path, std::u32string_view raw, uint32_t lineno) {
  if (is_comment_line(raw)) return Parsed{};
  std::u32string_view line = py_rstrip(raw);
  if (line.empty()) return Parsed{};
  if (line.front() == U'[') {
    std::u32string_view cut = line;
    for (char32_t c : {U'#', U';'}) cut = py_rstrip(cut.substr(0, cut.find(c)));
    if (cut.back() == U']') return Parsed{Parsed::kSection, std::u32string(cut.substr(1, cut.size() - 2)), {}};
    return Parsed{Parsed::kContinuation, {}, std::u32string(py_strip(line))};
  }
  if (!is_py_space(line.front())) {
    auto eq = line.find(U'=');
    size_t sep = eq;
    if (eq == std::u32string_view::npos || line.substr(0, eq).find(U':') != std::u32string_view::npos) {
      sep = line.find(U':');
      if (sep == std::u32string_view::npos) {
        return parse_error(path, lineno, "unexpected line: " + py_repr(encode_utf8(line)));
      }
    }
    return Parsed{Parsed::kValue, std::u32string(py_strip(line.substr(0, sep))),
                  std::u32string(py_strip(line.substr(sep + 1)))};
  }
  return Parsed{Parsed::kContinuation, {}, std::u32string(py_strip(line))};
}

// str.splitlines() after text-mode reading turned "\r\n" and "\r" into "\n".
std::vector<std::u32string_view> split_lines(std::u32string_view s) {
  std::vector<std::u32string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    bool brk = c == U'\n' || c == U'\r' || c == U'\v' || c == U'\f' || c == 0x1C || c == 0x1D || c == 0x1E ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) continue;
    if (c == U'\r' && i + 1 < s.size() && s[i + 1] == U'\n') ++i;
    lines.push_back(s.substr(start, i + 1 - start));
    start = i + 1;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

}  // namespace

Expected<IniFile> parse_ini(std::string_view path, std::string_view text) {
  auto decoded = decode_utf8(text);
  if (!decoded) return make_error(Errc::kParse, std::string(path) + ": not valid UTF-8");
  std::u32string_view data = *decoded;
  if (!data.empty() && data.front() == 0xFEFF) data.remove_prefix(1);

  // Pass 1, iniconfig's parse_lines: every line error is found before any structural one.
  std::vector<Token> tokens;
  std::optional<std::u32string> section;
  auto lines = split_lines(data);
  for (size_t n = 0; n < lines.size(); ++n) {
    auto lineno = static_cast<uint32_t>(n);
    DXPY_TRY(Parsed p, parse_line(path, lines[n], lineno));
    switch (p.kind) {
      case Parsed::kBlank: break;
      case Parsed::kSection:
        if (p.name.empty()) return parse_error(path, lineno, "empty section name");
        section = p.name;
        tokens.push_back(Token{lineno, section, true, {}, {}});
        break;
      case Parsed::kValue: {
        Token t{lineno, section, false, std::move(p.name), {}};
        if (!p.value.empty()) t.value.push_back(std::move(p.value));
        tokens.push_back(std::move(t));
        break;
      }
      case Parsed::kContinuation:
        if (tokens.empty() || tokens.back().is_header) {
          return parse_error(path, lineno, "unexpected value continuation");
        }
        tokens.back().value.push_back(std::move(p.value));
        break;
    }
  }

  // Pass 2, parse_ini_data: sections and names, each defined once.
  IniFile out;
  for (auto& t : tokens) {
    if (!t.section) return parse_error(path, t.lineno, "no section header defined");
    std::string sec = encode_utf8(*t.section);
    if (t.is_header) {
      if (out.find(sec)) return parse_error(path, t.lineno, "duplicate section " + py_repr(sec));
      out.sections.push_back(IniSection{sec, t.lineno + 1, {}});
      continue;
    }
    // A value line always follows its header, so its section is the last one opened.
    IniSection& s = out.sections.back();
    std::string name = encode_utf8(t.name);
    if (s.find(name)) return parse_error(path, t.lineno, "duplicate name " + py_repr(name));
    std::u32string joined;
    for (size_t k = 0; k < t.value.size(); ++k) {
      if (k) joined += U'\n';
      joined += t.value[k];
    }
    s.entries.emplace_back(std::move(name), encode_utf8(joined));
  }
  return out;
}

}  // namespace dxpy::config
