#include "dxpy/util/fnmatch.h"

#include <string>
#include <utility>
#include <vector>

#include "dxpy/util/text.h"

namespace dxpy {

namespace {

// One element of a compiled pattern, as Python's fnmatch.translate builds its regex.
struct Atom {
  enum Kind : uint8_t { kChar, kAny, kStar, kSet, kNever } kind = kChar;
  char32_t c = 0;
  bool negated = false;
  std::vector<std::pair<char32_t, char32_t>> ranges;  // kSet: inclusive ranges

  static Atom of(Kind k, char32_t ch = 0) {
    Atom a;
    a.kind = k;
    a.c = ch;
    return a;
  }

  bool matches(char32_t x) const {
    switch (kind) {
      case kChar: return x == c;
      case kAny: return true;
      case kSet: {
        bool in = false;
        for (auto [lo, hi] : ranges) in |= lo <= x && x <= hi;
        return in != negated;
      }
      case kStar:
      case kNever: return false;
    }
    return false;
  }
};

// The body of "[...]" (pat[i:j]) the way fnmatch.translate reads it: the text is cut into
// chunks at range hyphens, empty ranges are removed with their end points, and then each
// pair of neighbouring chunks is joined by a range from the last character of one to the
// first of the next.
Atom compile_set(const std::u32string& pat, size_t i, size_t j) {
  std::vector<std::u32string> chunks;
  std::u32string_view stuff(pat.data() + i, j - i);
  if (stuff.find(U'-') == std::u32string_view::npos) {
    chunks.emplace_back(stuff);
  } else {
    size_t k = pat[i] == U'!' ? i + 2 : i + 1;
    for (;;) {
      size_t hy = k < j ? std::u32string_view(pat.data(), j).find(U'-', k) : std::u32string_view::npos;
      if (hy == std::u32string_view::npos) break;
      chunks.emplace_back(pat.substr(i, hy - i));
      i = hy + 1;
      k = hy + 3;
    }
    std::u32string last = pat.substr(i, j - i);
    if (!last.empty()) {
      chunks.push_back(std::move(last));
    } else {
      chunks.back() += U'-';
    }
    for (size_t m = chunks.size() - 1; m > 0; --m) {
      if (chunks[m - 1].back() > chunks[m].front()) {
        chunks[m - 1] = chunks[m - 1].substr(0, chunks[m - 1].size() - 1) + chunks[m].substr(1);
        chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(m));
      }
    }
  }
  Atom a;
  a.kind = Atom::kSet;
  if (chunks.size() == 1 && chunks[0].empty()) return Atom::of(Atom::kNever);
  if (chunks.size() == 1 && chunks[0] == U"!") return Atom::of(Atom::kAny);
  if (chunks[0].front() == U'!') {
    a.negated = true;
    chunks[0].erase(0, 1);
  }
  for (size_t t = 0; t < chunks.size(); ++t) {
    const auto& ch = chunks[t];
    for (size_t q = 0; q < ch.size(); ++q) {
      if (t > 0 && q == 0) continue;  // the upper end of the range before
      if (t + 1 < chunks.size() && q + 1 == ch.size()) {
        a.ranges.emplace_back(ch[q], chunks[t + 1].front());
      } else {
        a.ranges.emplace_back(ch[q], ch[q]);
      }
    }
  }
  return a;
}

std::vector<Atom> compile(const std::u32string& pat) {
  std::vector<Atom> out;
  size_t i = 0;
  const size_t n = pat.size();
  while (i < n) {
    char32_t c = pat[i++];
    if (c == U'*') {
      if (out.empty() || out.back().kind != Atom::kStar) out.push_back(Atom::of(Atom::kStar));
    } else if (c == U'?') {
      out.push_back(Atom::of(Atom::kAny));
    } else if (c == U'[') {
      size_t j = i;
      if (j < n && pat[j] == U'!') ++j;
      if (j < n && pat[j] == U']') ++j;
      while (j < n && pat[j] != U']') ++j;
      if (j >= n) {
        out.push_back(Atom::of(Atom::kChar, U'['));
      } else {
        out.push_back(compile_set(pat, i, j));
        i = j + 1;
      }
    } else {
      out.push_back(Atom::of(Atom::kChar, c));
    }
  }
  return out;
}

// Every atom but '*' consumes exactly one character, so the classic single-backtrack-point
// glob matcher is exact.
bool match_atoms(const std::vector<Atom>& atoms, const std::u32string& s) {
  size_t a = 0, x = 0;
  size_t star_a = std::string::npos, star_x = 0;
  while (x < s.size()) {
    if (a < atoms.size() && atoms[a].kind == Atom::kStar) {
      star_a = a++;
      star_x = x;
    } else if (a < atoms.size() && atoms[a].matches(s[x])) {
      ++a;
      ++x;
    } else if (star_a != std::string::npos) {
      a = star_a + 1;
      x = ++star_x;
    } else {
      return false;
    }
  }
  while (a < atoms.size() && atoms[a].kind == Atom::kStar) ++a;
  return a == atoms.size();
}

}  // namespace

bool fnmatch(std::string_view name, std::string_view pattern) {
  return match_atoms(compile(decode_utf8_lossy(pattern)), decode_utf8_lossy(name));
}

bool fnmatch_path(std::string_view pattern, std::string_view path) {
  if (pattern.find('/') == std::string_view::npos) {
    auto slash = path.rfind('/');
    return fnmatch(slash == std::string_view::npos ? path : path.substr(slash + 1), pattern);
  }
  if (!path.empty() && path.front() == '/' && pattern.front() != '/') {
    return fnmatch(path, "*/" + std::string(pattern));
  }
  return fnmatch(path, pattern);
}

bool matches_prefix_or_glob(std::string_view name, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (name.substr(0, p.size()) == p) return true;
    if (p.find_first_of("*?[") != std::string::npos && fnmatch(name, p)) return true;
  }
  return false;
}

}  // namespace dxpy
