#pragma once
/// The rootdir and config-file search of pytest's `_pytest/config/findpaths.py`.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/config/config.h"
#include "dxpy/util/expected.h"

namespace dxpy::config {

struct Setup {
  std::string rootdir;
  std::string inifile;  // empty if none
  IniMap ini;
  std::vector<std::string> ignored_config_files;
};

/// findpaths.load_config_dict_from_file: the pytest options of one file, or nullopt if the
/// file holds none (by the rules in config.h; the suffix decides how it is read).
Expected<std::optional<IniMap>> load_config_file(const std::string& path);

/// findpaths.determine_setup. `cwd` must be absolute.
Expected<Setup> determine_setup(const std::vector<std::string>& args, std::string_view cwd,
                                std::string_view explicit_inifile, std::string_view explicit_rootdir);

/// os.path.expandvars on POSIX: $NAME and ${NAME} from the environment; unknown ones stay.
std::string expand_vars(std::string_view s);

/// The [tool.dx-py] table of a pyproject.toml (native TOML types); empty if absent.
Expected<IniMap> load_dx_py_table(const std::string& pyproject_path);

}  // namespace dxpy::config
