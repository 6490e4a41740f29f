#include "dxpy/config/config.h"

#include <algorithm>
#include <utility>

#include "dxpy/util/fnmatch.h"
#include "dxpy/config/locate.h"
#include "dxpy/config/shlex.h"
#include "dxpy/util/text.h"
#include "dxpy/util/fs.h"

namespace dxpy::config {

namespace {

// pytest's registered ini aliases: alias -> canonical name.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {{"xfail_strict", "strict_xfail"}};

std::string_view canonical_name(std::string_view key) {
  for (auto [alias, canonical] : kAliases) {
    if (key == alias) return canonical;
  }
  return key;
}

std::string_view type_name(IniValue::Type t, std::string_view text) {
  switch (t) {
    case IniValue::Type::kString: return "str";
    case IniValue::Type::kList: return "list";
    case IniValue::Type::kBool: return "bool";
    case IniValue::Type::kInteger: return "int";
    case IniValue::Type::kFloat: return "float";
    case IniValue::Type::kOther: return !text.empty() && text.front() == '{' ? "dict" : "datetime";
  }
  return "object";
}

std::string repr(const IniValue& v) {
  switch (v.type) {
    case IniValue::Type::kString: return py_repr(v.text);
    case IniValue::Type::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ", ";
        bool is_str = i >= v.item_types.size() || v.item_types[i] == IniValue::Type::kString;
        out += is_str ? py_repr(v.items[i]) : v.items[i];
      }
      return out + "]";
    }
    default: return v.text;
  }
}

// Config::_getini's choice among the canonical key and its aliases: a -o override beats
// the file, then the canonical name beats an alias.
const IniValue* lookup(const IniMap& ini, std::string_view key) {
  std::string_view canonical = canonical_name(key);
  const IniValue* best = nullptr;
  int best_rank = -1;
  auto consider = [&](std::string_view name, bool is_canonical) {
    auto it = ini.find(name);
    if (it == ini.end()) return;
    int rank = (it->second.from_override ? 2 : 0) + (is_canonical ? 1 : 0);
    if (rank > best_rank) best = &it->second, best_rank = rank;
  };
  consider(canonical, true);
  for (auto [alias, target] : kAliases) {
    if (target == canonical) consider(alias, false);
  }
  return best;
}

Unexpected<Error> type_error(const Config& c, std::string_view key, const std::string& what) {
  std::string where = c.inifile.empty() ? std::string("None") : c.inifile;
  return make_error(Errc::kUsage, where + ": config option '" + std::string(key) + "' " + what);
}

// The list-typed getters share _getini_toml's strict check for native TOML values.
Expected<std::vector<std::string>> native_list(const Config& c, std::string_view key, const IniValue& v,
                                               std::string_view type) {
  if (v.type != IniValue::Type::kList) {
    return type_error(c, key, "expects a list for type '" + std::string(type) + "', got " +
                                  std::string(type_name(v.type, v.text)) + ": " + repr(v));
  }
  for (size_t i = 0; i < v.item_types.size(); ++i) {
    if (v.item_types[i] != IniValue::Type::kString) {
      return type_error(c, key, "expects a list of strings, but item at index " + std::to_string(i) + " is " +
                                    std::string(type_name(v.item_types[i], v.items[i])) + ": " + v.items[i]);
    }
  }
  return v.items;
}

Expected<std::vector<std::string>> split_args(std::string_view key, const IniValue& v) {
  if (v.type == IniValue::Type::kList) return v.items;
  auto r = shlex_split(v.text);
  if (!r) return make_error(Errc::kUsage, "config option '" + std::string(key) + "': " + r.error().message);
  return r;
}

}  // namespace

Expected<std::vector<std::string>> Config::get_args(std::string_view key, std::vector<std::string> fallback) const {
  const IniValue* v = lookup(ini, key);
  if (!v) return fallback;
  if (v->native_toml) return native_list(*this, key, *v, "args");
  return split_args(key, *v);
}

Expected<std::vector<std::string>> Config::get_linelist(std::string_view key,
                                                        std::vector<std::string> fallback) const {
  const IniValue* v = lookup(ini, key);
  if (!v) return fallback;
  if (v->native_toml) return native_list(*this, key, *v, "linelist");
  if (v->type == IniValue::Type::kList) return v->items;
  std::vector<std::string> out;
  std::string_view rest = v->text;
  for (;;) {
    auto nl = rest.find('\n');
    std::u32string decoded = decode_utf8_lossy(rest.substr(0, nl));
    std::u32string_view line = py_strip(decoded);
    if (!line.empty()) out.push_back(encode_utf8(line));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

Expected<std::vector<std::string>> Config::get_paths(std::string_view key) const {
  const IniValue* v = lookup(ini, key);
  if (!v) return std::vector<std::string>{};
  std::vector<std::string> items;
  if (v->native_toml) {
    DXPY_TRY(items, native_list(*this, key, *v, "paths"));
  } else {
    DXPY_TRY(items, split_args(key, *v));
  }
  std::string base = inifile.empty() ? invocation_dir : std::string(dirname(inifile));
  for (auto& p : items) p = join_path(base, p);
  return items;
}

Expected<std::optional<bool>> Config::get_bool(std::string_view key) const {
  const IniValue* v = lookup(ini, key);
  if (!v) return std::optional<bool>{};
  if (v->native_toml) {
    if (v->type != IniValue::Type::kBool) {
      return type_error(*this, key, "expects a bool, got " + std::string(type_name(v->type, v->text)) + ": " + repr(*v));
    }
    return std::optional<bool>{v->text == "True"};
  }
  // _strtobool(str(value).strip())
  std::u32string decoded = decode_utf8_lossy(v->type == IniValue::Type::kList ? repr(*v) : v->text);
  std::string s = encode_utf8(py_strip(decoded));
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  for (std::string_view t : {"y", "yes", "t", "true", "on", "1"}) {
    if (lower == t) return std::optional<bool>{true};
  }
  for (std::string_view f : {"n", "no", "f", "false", "off", "0"}) {
    if (lower == f) return std::optional<bool>{false};
  }
  return type_error(*this, key, "invalid truth value " + py_repr(lower));
}

Expected<std::optional<std::string>> Config::get_string(std::string_view key) const {
  const IniValue* v = lookup(ini, key);
  if (!v) return std::optional<std::string>{};
  if (v->type != IniValue::Type::kString) {
    return type_error(*this, key, "expects a string, got " + std::string(type_name(v->type, v->text)) + ": " + repr(*v));
  }
  return std::optional<std::string>{v->text};
}

namespace {

Expected<void> resolve_options(Config& c) {
  DXPY_TRY(c.testpaths, c.get_args("testpaths"));
  DXPY_TRY(c.python_files, c.get_args("python_files", {"test_*.py", "*_test.py"}));
  DXPY_TRY(c.python_classes, c.get_args("python_classes", {"Test"}));
  DXPY_TRY(c.python_functions, c.get_args("python_functions", {"test"}));
  DXPY_TRY(c.norecursedirs, c.get_args("norecursedirs", Config{}.norecursedirs));
  DXPY_TRY(c.markers, c.get_linelist("markers"));
  DXPY_TRY(c.addopts, c.get_args("addopts"));
  DXPY_TRY(c.pythonpath, c.get_paths("pythonpath"));
  DXPY_TRY(c.filterwarnings, c.get_linelist("filterwarnings"));
  DXPY_TRY(auto strict, c.get_bool("strict"));
  c.strict = strict.value_or(false);
  DXPY_TRY(auto xfail_strict, c.get_bool("strict_xfail"));
  c.xfail_strict = xfail_strict.value_or(c.strict);
  return {};
}

}  // namespace

std::string Config::cache_folder() const { return dx.cache_dir.empty() ? join_path(rootdir, ".dx-py") : dx.cache_dir; }

Expected<Config> load_config(const std::vector<std::string>& args, std::string_view cwd,
                             std::string_view explicit_inifile, std::string_view explicit_rootdir) {
  DXPY_TRY(Setup setup, determine_setup(args, cwd, explicit_inifile, explicit_rootdir));
  Config c;
  c.invocation_dir = absolute_path(cwd);
  c.rootdir = std::move(setup.rootdir);
  c.inifile = std::move(setup.inifile);
  c.ini = std::move(setup.ini);
  c.ignored_config_files = std::move(setup.ignored_config_files);
  c.confcutdir = c.inifile.empty() ? c.rootdir : std::string(dirname(c.inifile));
  // [tool.dx-py] sits in the pyproject.toml that configures pytest, or else the rootdir's.
  std::string pyproject = basename(c.inifile) == "pyproject.toml" ? c.inifile : join_path(c.rootdir, "pyproject.toml");
  auto st = stat_path(pyproject);
  if (st && st->is_file) {
    DXPY_TRY(c.dx_py, load_dx_py_table(pyproject));
    DXPY_TRY(c.dx, parse_dx_py_settings(c.dx_py, pyproject));
  }
  DXPY_TRY_VOID(resolve_options(c));
  return c;
}

Expected<void> apply_overrides(Config& config, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos) {
      return make_error(Errc::kUsage, "-o/--override-ini expects option=value style (got: " + py_repr(o) + ").");
    }
    IniValue v;
    v.text = o.substr(eq + 1);
    v.from_override = true;
    config.ini.insert_or_assign(o.substr(0, eq), std::move(v));
  }
  return resolve_options(config);
}

bool matches_python_files(std::string_view path, const Config& config) {
  return std::any_of(config.python_files.begin(), config.python_files.end(),
                     [&](const std::string& p) { return fnmatch_path(p, path); });
}

bool matches_python_classes(std::string_view name, const Config& config) {
  return matches_prefix_or_glob(name, config.python_classes);
}

bool matches_python_functions(std::string_view name, const Config& config) {
  return matches_prefix_or_glob(name, config.python_functions);
}

}  // namespace dxpy::config
