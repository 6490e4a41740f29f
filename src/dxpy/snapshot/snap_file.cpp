#include "dxpy/snapshot/snap_file.h"

#include <algorithm>

namespace dxpy::snapshot {

namespace {

bool key_less(const Entry& a, const Entry& b) {
  if (a.test != b.test) return a.test < b.test;
  return a.name < b.name;
}

}  // namespace

void normalize(std::vector<Entry>& entries) {
  std::stable_sort(entries.begin(), entries.end(), key_less);
  // Of equal keys keep the last given: stable_sort kept their order.
  std::vector<Entry> out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    if (!out.empty() && out.back().test == e.test && out.back().name == e.name)
      out.back() = std::move(e);
    else
      out.push_back(std::move(e));
  }
  entries = std::move(out);
}

std::string escape_field(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '|': out += "\\|"; break;
      default: out += c;
    }
  }
  return out;
}

Expected<std::string> unescape_field(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return make_error(Errc::kParse, "a backslash ends the field");
    switch (s[i]) {
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case '|': out += '|'; break;
      default: return make_error(Errc::kParse, std::string("unknown escape \\") + s[i]);
    }
  }
  return out;
}

std::string render(const std::vector<Entry>& entries) {
  size_t size = kSnapHeader.size() + 1;
  for (const auto& e : entries) size += e.test.size() + e.name.size() + e.value.size() * 2 + 16;
  std::string out;
  out.reserve(size);
  out += kSnapHeader;
  out += '\n';
  for (const auto& e : entries) {
    out += "== ";
    out += escape_field(e.test);
    out += " | ";
    out += escape_field(e.name);
    out += '\n';
    size_t start = 0;
    while (true) {
      size_t end = e.value.find('\n', start);
      std::string_view line(e.value.data() + start, (end == std::string::npos ? e.value.size() : end) - start);
      if (!line.empty()) {
        out += "  ";
        out += line;
      }
      out += '\n';
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return out;
}

Expected<std::vector<Entry>> parse(std::string_view text) {
  std::vector<Entry> entries;
  bool in_entry = false;
  bool first_line = false;  // the entry's first value line is not preceded by "\n"
  bool in_order = true;     // every header so far came after the one before it
  size_t lineno = 0;
  size_t pos = 0;
  auto fail = [&](const std::string& why) {
    return make_error(Errc::kParse, "line " + std::to_string(lineno) + ": " + why);
  };
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (line.substr(0, 3) == "== ") {
      std::string_view rest = line.substr(3);
      // The first '|' that is not escaped, with a space on each side.
      size_t bar = std::string_view::npos;
      for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '\\') {
          ++i;
        } else if (rest[i] == '|') {
          bar = i;
          break;
        }
      }
      if (bar == std::string_view::npos || bar == 0 || rest[bar - 1] != ' ' || bar + 1 >= rest.size() ||
          rest[bar + 1] != ' ')
        return fail("an entry header needs \"== TEST | NAME\"");
      auto test = unescape_field(rest.substr(0, bar - 1));
      if (!test) return fail(test.error().message);
      auto name = unescape_field(rest.substr(bar + 2));
      if (!name) return fail(name.error().message);
      Entry e{std::move(*test), std::move(*name), {}};
      // Hand-edited or merged files may be out of order; duplicates are an error. Once one
      // entry came out of order, a later one may repeat any earlier key, not just the last.
      if (!entries.empty() && !key_less(entries.back(), e)) in_order = false;
      if (!in_order) {
        for (const auto& other : entries)
          if (other.test == e.test && other.name == e.name) return fail("a second entry for " + e.test + " | " + e.name);
      }
      entries.push_back(std::move(e));
      in_entry = true;
      first_line = true;
      continue;
    }
    if (!in_entry) {
      if (line.empty() || line[0] == '#') continue;
      return fail("expected a comment or an entry header (\"== TEST | NAME\")");
    }
    std::string_view value_line;
    if (line.empty()) {
      value_line = {};
    } else if (line.size() >= 2 && line[0] == ' ' && line[1] == ' ') {
      value_line = line.substr(2);
    } else {
      return fail("a value line must start with two spaces");
    }
    std::string& v = entries.back().value;
    if (!first_line) v += '\n';
    v += value_line;
    first_line = false;
  }
  std::sort(entries.begin(), entries.end(), key_less);
  return entries;
}

}  // namespace dxpy::snapshot
