#pragma once
/// pytest's configuration, found and read the way the installed pytest (9.0) does it:
/// rootdir and config file from `findpaths.determine_setup`, values from iniconfig or TOML,
/// each option typed as pytest's `getini` types it.
///
/// Config files, searched upward from the common ancestor of the path arguments; the first
/// folder holding one that counts wins, and within a folder the first in this order:
///   pytest.toml, .pytest.toml   always count ([pytest] table, native TOML types)
///   pytest.ini, .pytest.ini     always count ([pytest] section, may be absent)
///   pyproject.toml              with [tool.pytest] (native TOML types) or
///                               [tool.pytest.ini_options] (strings and lists of strings)
///   tox.ini                     with [pytest]
///   setup.cfg                   with [tool:pytest]; a plain [pytest] there is an error
/// A pyproject.toml without a pytest table still becomes the config file (and its folder
/// the rootdir) when nothing else is found further up.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::config {

/// One option as the config file (or -o) gave it. INI files and [tool.pytest.ini_options]
/// give a string or a list of strings ("ini" mode: pytest coerces them by option type);
/// [tool.pytest] and pytest.toml keep TOML's types and pytest checks them strictly.
struct IniValue {
  enum class Type : uint8_t { kString, kList, kBool, kInteger, kFloat, kOther };
  Type type = Type::kString;
  std::string text;                // scalars: the string, or Python's str() of the value
  std::vector<std::string> items;  // kList: the items (non-strings as str())
  std::vector<Type> item_types;    // kList: each item's type
  bool native_toml = false;        // from [tool.pytest] / pytest.toml
  bool from_override = false;      // from -o/--override-ini
  friend bool operator==(const IniValue&, const IniValue&) = default;
};

using IniMap = std::map<std::string, IniValue, std::less<>>;

/// [tool.dx-py] of pyproject.toml, checked (dx_py.cpp). Keys are snake_case, as pytest's
/// ini keys; an unknown key or a value of the wrong type is a usage error naming the file
/// and the key. Command-line flags override these.
struct DxPySettings {
  std::string file;                    // the pyproject.toml they came from; empty: none
  std::optional<unsigned> workers;     // workers = N, or "auto" (0: one per core)
  std::vector<std::string> preload;    // modules each worker imports before its first test
  std::optional<double> timeout;       // seconds per test (0: none)
  std::optional<unsigned> retries;     // re-runs of a failing test
  std::string snapshot_dir;            // absolute (relative ones from the file's folder); empty: unset
  std::string cache_dir;               // absolute, as snapshot_dir; empty: unset
  bool gc_freeze = true;               // workers keep imported objects out of the GC (worker/heap.py)
};

/// Checks a [tool.dx-py] table read from `file`.
Expected<DxPySettings> parse_dx_py_settings(const IniMap& table, const std::string& file);

struct Config {
  std::string invocation_dir;  // absolute
  std::string rootdir;         // absolute
  std::string inifile;         // absolute; empty if none
  /// Basenames of other files beside `inifile` that also hold pytest config (pytest warns).
  std::vector<std::string> ignored_config_files;
  /// Not an ini key in pytest 9: the default of --confcutdir, the inifile's folder or else
  /// the rootdir. Conftests above it are not loaded, and collection starts there.
  std::string confcutdir;

  // The options dx-py needs, typed and defaulted as pytest does.
  std::vector<std::string> testpaths;  // "args"
  std::vector<std::string> python_files = {"test_*.py", "*_test.py"};
  std::vector<std::string> python_classes = {"Test"};
  std::vector<std::string> python_functions = {"test"};
  std::vector<std::string> norecursedirs = {"*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}"};
  std::vector<std::string> markers;         // "linelist": "name(args): help" lines
  std::vector<std::string> addopts;         // "args", split like shlex
  std::vector<std::string> pythonpath;      // "paths": absolute, from the inifile's folder
  std::vector<std::string> filterwarnings;  // "linelist"
  bool strict = false;
  /// strict_xfail (alias xfail_strict; the canonical name wins), falling back to `strict`.
  bool xfail_strict = false;

  IniMap ini;    // every key of the pytest section, as written
  IniMap dx_py;  // [tool.dx-py] of pyproject.toml, as written
  DxPySettings dx;  // the same, checked and typed

  /// getini for other keys, with pytest's coercions and type checks. Absent keys give
  /// `fallback` (or nullopt); a value of the wrong type gives kUsage naming the inifile.
  Expected<std::vector<std::string>> get_args(std::string_view key, std::vector<std::string> fallback = {}) const;
  Expected<std::vector<std::string>> get_linelist(std::string_view key, std::vector<std::string> fallback = {}) const;
  Expected<std::vector<std::string>> get_paths(std::string_view key) const;
  Expected<std::optional<bool>> get_bool(std::string_view key) const;
  Expected<std::optional<std::string>> get_string(std::string_view key) const;

  /// dx-py's cache folder (index, graph, last failures, durations, snapshot index, fixture
  /// cache): [tool.dx-py] cache_dir, else `<rootdir>/.dx-py`.
  std::string cache_folder() const;
};

/// Determines rootdir and inifile and reads the options.
/// `args`: the positional command-line arguments (files, folders, node ids; entries that
/// start with '-' are skipped); `cwd`: the invocation folder; `explicit_inifile`: -c FILE;
/// `explicit_rootdir`: --rootdir (environment variables expanded). Either may be empty.
/// Errors: kParse for a config file that does not parse ("PATH:LINE: message", or for
/// TOML "PATH: message (at line L, column C)"); kUsage for what pytest reports as a usage
/// error (a missing --rootdir folder, [pytest] in setup.cfg, an option of the wrong type);
/// kIo for an unreadable file. pytest exits with code 4 on all of them.
Expected<Config> load_config(const std::vector<std::string>& args, std::string_view cwd,
                             std::string_view explicit_inifile, std::string_view explicit_rootdir);

/// Applies -o/--override-ini "name=value" entries (last one wins) and re-derives the typed
/// options. kUsage for an entry without '=', as pytest.
Expected<void> apply_overrides(Config& config, const std::vector<std::string>& overrides);

/// Whether a file is a test module by python_files (pytest's fnmatch_ex, so a pattern
/// without '/' matches the basename). `path` may be a bare file name.
bool matches_python_files(std::string_view path, const Config& config);
bool matches_python_classes(std::string_view name, const Config& config);
bool matches_python_functions(std::string_view name, const Config& config);

}  // namespace dxpy::config
