#include "dxpy/config/locate.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "dxpy/config/ini.h"
#include "dxpy/config/toml_guard.h"
#include "dxpy/util/text.h"
#include "dxpy/util/fs.h"

namespace dxpy::config {

namespace {

constexpr std::string_view kConfigNames[] = {"pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini",
                                             "pyproject.toml", "tox.ini", "setup.cfg"};

// ---- paths -------------------------------------------------------------------------------

bool is_file(const std::string& p) {
  auto st = stat_path(p);
  return st && st->is_file;
}

bool is_dir(const std::string& p) {
  auto st = stat_path(p);
  return st && st->is_dir;
}

bool exists(const std::string& p) { return stat_path(p).has_value(); }

std::string parent_of(const std::string& p) { return std::string(dirname(p)); }

// os.path.abspath against the invocation folder rather than the process's.
std::string absolute_from(std::string_view cwd, std::string_view p) { return absolute_path(join_path(cwd, p)); }

// The path and its ancestors up to "/", nearest first.
std::vector<std::string> self_and_parents(std::string p) {
  std::vector<std::string> out{p};
  while (p != "/") {
    p = parent_of(p);
    out.push_back(p);
  }
  return out;
}

// os.path.commonpath of two absolute, normalised paths.
std::string common_path(std::string_view a, std::string_view b) {
  size_t last_sep = 0, i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) {
    if (a[i] == '/') last_sep = i;
    ++i;
  }
  bool a_done = i == a.size() && (i == b.size() || b[i] == '/');
  bool b_done = i == b.size() && (i == a.size() || a[i] == '/');
  if (a_done) return std::string(a);
  if (b_done) return std::string(b);
  return last_sep == 0 ? "/" : std::string(a.substr(0, last_sep));
}

// Path.suffix: from the last '.', unless the name starts with its only dot or ends in one.
std::string_view suffix_of(std::string_view path) {
  std::string_view name = basename(path);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return {};
  return name.substr(dot);
}

// ---- values ------------------------------------------------------------------------------

// repr(float): shortest round-trip digits, positional for exponents -4..15, else d.ddde+XX.
std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  auto e = sci.find('e');
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string sign = sci[0] == '-' ? "-" : "";
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (exp < -4 || exp >= 16) {
    std::string m = digits.substr(0, 1);
    if (digits.size() > 1) m += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return sign + m + ebuf;
  }
  std::string out;
  if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
  } else {
    out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
  }
  return sign + out;
}

// str() of a TOML value as Python would print what tomllib gives (approximate for tables,
// arrays and dates, which no pytest option takes).
IniValue::Type scalar(const toml::node& n, std::string& text) {
  if (auto s = n.as_string()) {
    text = s->get();
    return IniValue::Type::kString;
  }
  if (auto b = n.as_boolean()) {
    text = b->get() ? "True" : "False";
    return IniValue::Type::kBool;
  }
  if (auto i = n.as_integer()) {
    text = std::to_string(i->get());
    return IniValue::Type::kInteger;
  }
  if (auto f = n.as_floating_point()) {
    text = py_float_repr(f->get());
    return IniValue::Type::kFloat;
  }
  std::ostringstream os;
  if (n.is_table()) {
    os << "{";
    bool first = true;
    for (auto&& [k, v] : *n.as_table()) {
      std::string t;
      auto ty = scalar(v, t);
      os << (first ? "" : ", ") << py_repr(k.str()) << ": " << (ty == IniValue::Type::kString ? py_repr(t) : t);
      first = false;
    }
    os << "}";
  } else if (n.is_array()) {
    os << "[";
    bool first = true;
    for (auto&& v : *n.as_array()) {
      std::string t;
      auto ty = scalar(v, t);
      os << (first ? "" : ", ") << (ty == IniValue::Type::kString ? py_repr(t) : t);
      first = false;
    }
    os << "]";
  } else if (auto d = n.as_date()) {
    os << d->get();
  } else if (auto t = n.as_time()) {
    os << t->get();
  } else if (auto dt = n.as_date_time()) {
    os << dt->get();
  }
  text = os.str();
  return n.is_array() ? IniValue::Type::kList : IniValue::Type::kOther;
}

// native: [tool.pytest] / pytest.toml, types kept. Otherwise ini mode: findpaths' make_scalar
// keeps lists and turns every other value into str(value).
IniValue from_toml(const toml::node& n, bool native) {
  IniValue v;
  v.native_toml = native;
  if (auto arr = n.as_array()) {
    v.type = IniValue::Type::kList;
    for (auto&& item : *arr) {
      std::string t;
      v.item_types.push_back(scalar(item, t));
      v.items.push_back(std::move(t));
    }
    return v;
  }
  auto type = scalar(n, v.text);
  v.type = native ? type : IniValue::Type::kString;
  return v;
}

IniMap table_values(const toml::table& t, bool native, bool skip_ini_options = false) {
  IniMap out;
  for (auto&& [k, v] : t) {
    if (skip_ini_options && k.str() == "ini_options") continue;
    out.emplace(std::string(k.str()), from_toml(v, native));
  }
  return out;
}

Expected<toml::table> parse_toml(const std::string& path) {
  DXPY_TRY(std::string text, read_file(path));
  if (auto bad = check_toml_for_toml_plus_plus(text))
    return make_error(Errc::kParse, path + ": " + bad->message + " (at line " + std::to_string(bad->line) +
                                        ", column " + std::to_string(bad->column) + ")");
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return make_error(Errc::kParse, path + ": " + std::string(e.description()) + " (at line " +
                                        std::to_string(b.line) + ", column " + std::to_string(b.column) + ")");
  }
}

Expected<IniFile> read_ini(const std::string& path) {
  DXPY_TRY(std::string text, read_file(path));
  return parse_ini(path, text);
}

IniMap section_values(const IniSection& s) {
  IniMap out;
  for (const auto& [k, v] : s.entries) out.emplace(k, IniValue{IniValue::Type::kString, v, {}, {}, false, false});
  return out;
}

// ---- the search --------------------------------------------------------------------------

struct Located {
  std::string rootdir;  // empty: nothing found
  std::string inifile;
  IniMap ini;
  std::vector<std::string> ignored;
};

Expected<Located> locate_config(const std::string& invocation_dir, std::vector<std::string> args) {
  if (args.empty()) args.push_back(invocation_dir);
  std::string found_pyproject;
  for (const auto& arg : args) {
    for (const auto& base : self_and_parents(arg)) {
      for (size_t n = 0; n < std::size(kConfigNames); ++n) {
        std::string p = join_path(base, kConfigNames[n]);
        if (!is_file(p)) continue;
        if (kConfigNames[n] == "pyproject.toml" && found_pyproject.empty()) found_pyproject = p;
        DXPY_TRY(auto cfg, load_config_file(p));
        if (!cfg) continue;
        Located out{base, p, std::move(*cfg), {}};
        for (size_t m = n + 1; m < std::size(kConfigNames); ++m) {
          std::string p2 = join_path(base, kConfigNames[m]);
          if (!is_file(p2)) continue;
          DXPY_TRY(auto other, load_config_file(p2));
          if (other) out.ignored.emplace_back(kConfigNames[m]);
        }
        return out;
      }
    }
  }
  if (!found_pyproject.empty()) return Located{parent_of(found_pyproject), found_pyproject, {}, {}};
  return Located{};
}

std::string common_ancestor(const std::string& invocation_dir, const std::vector<std::string>& paths) {
  std::string common;
  for (const auto& p : paths) {
    if (!exists(p)) continue;
    common = common.empty() ? p : common_path(common, p);
  }
  if (common.empty()) return invocation_dir;
  if (is_file(common)) return parent_of(common);
  return common;
}

}  // namespace

Expected<std::optional<IniMap>> load_config_file(const std::string& path) {
  std::string_view suffix = suffix_of(path);
  std::string_view name = basename(path);
  if (suffix == ".ini") {
    DXPY_TRY(IniFile ini, read_ini(path));
    if (const IniSection* s = ini.find("pytest")) return std::optional<IniMap>{section_values(*s)};
    if (name == "pytest.ini" || name == ".pytest.ini") return std::optional<IniMap>{IniMap{}};
  } else if (suffix == ".cfg") {
    DXPY_TRY(IniFile ini, read_ini(path));
    if (const IniSection* s = ini.find("tool:pytest")) return std::optional<IniMap>{section_values(*s)};
    if (ini.find("pytest")) {
      return make_error(Errc::kUsage,
                        "[pytest] section in setup.cfg files is no longer supported, change to [tool:pytest] instead.");
    }
  } else if (suffix == ".toml") {
    DXPY_TRY(toml::table doc, parse_toml(path));
    if (name == "pytest.toml" || name == ".pytest.toml") {
      const toml::table* t = doc["pytest"].as_table();
      return std::optional<IniMap>{t && !t->empty() ? table_values(*t, true) : IniMap{}};
    }
    const toml::table* tool_pytest = doc["tool"]["pytest"].as_table();
    if (!tool_pytest) return std::optional<IniMap>{};
    IniMap native = table_values(*tool_pytest, true, /*skip_ini_options=*/true);
    const toml::node* ini_options = tool_pytest->get("ini_options");
    bool ini_nonempty = ini_options && (!ini_options->is_table() || !ini_options->as_table()->empty());
    if (!native.empty() && ini_nonempty) {
      return make_error(Errc::kUsage, path +
                                          ": Cannot use both [tool.pytest] (native TOML types) and "
                                          "[tool.pytest.ini_options] (string-based INI format) simultaneously. "
                                          "Please use [tool.pytest] with native TOML types (recommended) "
                                          "or [tool.pytest.ini_options] for backwards compatibility.");
    }
    if (!native.empty()) return std::optional<IniMap>{std::move(native)};
    if (ini_options) {
      if (const toml::table* t = ini_options->as_table()) return std::optional<IniMap>{table_values(*t, false)};
      return std::optional<IniMap>{IniMap{}};
    }
  }
  return std::optional<IniMap>{};
}

std::string expand_vars(std::string_view s) {
  std::string out;
  size_t i = 0;
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  while (i < s.size()) {
    if (s[i] != '$') {
      out.push_back(s[i++]);
      continue;
    }
    size_t j = i + 1;
    std::string name;
    if (j < s.size() && s[j] == '{') {
      auto close = s.find('}', j);
      if (close == std::string_view::npos) {
        out.push_back(s[i++]);
        continue;
      }
      name = std::string(s.substr(j + 1, close - j - 1));
      j = close + 1;
    } else {
      while (j < s.size() && is_word(s[j])) ++j;
      name = std::string(s.substr(i + 1, j - i - 1));
      if (name.empty()) {
        out.push_back(s[i++]);
        continue;
      }
    }
    const char* value = std::getenv(name.c_str());
    if (value) {
      out += value;
    } else {
      out += s.substr(i, j - i);
    }
    i = j;
  }
  return out;
}

Expected<Setup> determine_setup(const std::vector<std::string>& args, std::string_view cwd_in,
                                std::string_view explicit_inifile, std::string_view explicit_rootdir) {
  const std::string cwd = absolute_path(cwd_in);
  // get_dirs_from_args: node ids cut at "::", options skipped, only paths that exist.
  std::vector<std::string> dirs;
  for (const auto& arg : args) {
    if (!arg.empty() && arg.front() == '-') continue;
    std::string p = absolute_from(cwd, std::string_view(arg).substr(0, arg.find("::")));
    if (!exists(p)) continue;
    dirs.push_back(is_dir(p) ? p : parent_of(p));
  }

  Setup out;
  if (!explicit_inifile.empty()) {
    out.inifile = absolute_from(cwd, explicit_inifile);
    DXPY_TRY(auto cfg, load_config_file(out.inifile));
    if (cfg) out.ini = std::move(*cfg);
    if (explicit_rootdir.empty()) out.rootdir = parent_of(out.inifile);
  } else {
    std::string ancestor = common_ancestor(cwd, dirs);
    DXPY_TRY(Located loc, locate_config(cwd, {ancestor}));
    out.rootdir = loc.rootdir;
    out.inifile = loc.inifile;
    out.ini = std::move(loc.ini);
    out.ignored_config_files = std::move(loc.ignored);
    if (out.rootdir.empty() && explicit_rootdir.empty()) {
      for (const auto& dir : self_and_parents(ancestor)) {
        if (is_file(join_path(dir, "setup.py"))) {
          out.rootdir = dir;
          break;
        }
      }
      if (out.rootdir.empty()) {
        if (dirs != std::vector<std::string>{ancestor}) {
          DXPY_TRY(Located again, locate_config(cwd, dirs));
          out.rootdir = again.rootdir;
          out.inifile = again.inifile;
          out.ini = std::move(again.ini);
        }
        if (out.rootdir.empty()) {
          out.rootdir = common_ancestor(cwd, {cwd, ancestor});
          if (out.rootdir == "/") out.rootdir = ancestor;
        }
      }
    }
  }
  if (!explicit_rootdir.empty()) {
    out.rootdir = absolute_from(cwd, expand_vars(explicit_rootdir));
    if (!is_dir(out.rootdir)) {
      return make_error(Errc::kUsage, "Directory '" + out.rootdir + "' not found. Check your '--rootdir' option.");
    }
  }
  return out;
}

Expected<IniMap> load_dx_py_table(const std::string& pyproject_path) {
  DXPY_TRY(toml::table doc, parse_toml(pyproject_path));
  const toml::table* t = doc["tool"]["dx-py"].as_table();
  return t ? table_values(*t, true) : IniMap{};
}

}  // namespace dxpy::config
