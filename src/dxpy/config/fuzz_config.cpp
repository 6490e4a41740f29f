// libFuzzer target for the config readers: the first byte picks the file name (pytest.ini,
// tox.ini, setup.cfg, pyproject.toml, pytest.toml), the rest is its text. parse_ini takes
// the text directly; every name also goes through load_config_file (toml++ for the TOML
// names, then our conversion of TOML values to ini values). Bad input must be an Error,
// never a crash, an uncaught exception or an out-of-bounds read.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dxpy/config/ini.h"
#include "dxpy/config/locate.h"
#include "dxpy/util/fs.h"

using namespace dxpy;
using namespace dxpy::config;

namespace {

const std::string& scratch_dir() {
  static const std::string dir = [] {
    char d[] = "/tmp/config_fuzz.XXXXXX";
    if (::mkdtemp(d) == nullptr) std::abort();
    return std::string(d);
  }();
  return dir;
}

constexpr const char* kNames[] = {"pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", "pytest.toml"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string name = kNames[data[0] % (sizeof kNames / sizeof kNames[0])];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)parse_ini(name, text);
  const std::string path = scratch_dir() + "/" + name;
  if (!write_file_atomic(path, text, Durability::kCache)) std::abort();
  (void)load_config_file(path);
  return 0;
}
