#include "dxpy/report/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <cstring>

namespace dxpy::report {

namespace {

const char* env(const TerminalFacts& f, const char* name) {
  const char* v = f.getenv ? f.getenv(name) : std::getenv(name);
  return v ? v : "";
}

}  // namespace

bool use_color(ColorMode mode, bool ci, const TerminalFacts& facts) {
  if (ci || mode == ColorMode::kNo) return false;
  if (mode == ColorMode::kYes) return true;
  std::string py_colors = env(facts, "PY_COLORS");
  if (py_colors == "1") return true;
  if (py_colors == "0") return false;
  if (*env(facts, "NO_COLOR")) return false;
  if (*env(facts, "FORCE_COLOR")) return true;
  return facts.isatty && std::strcmp(env(facts, "TERM"), "dumb") != 0;
}

bool use_live_progress(bool ci, const TerminalFacts& facts) {
  if (ci || !facts.isatty || std::strcmp(env(facts, "TERM"), "dumb") == 0) return false;
  std::string ci_env = env(facts, "CI");
  return ci_env.empty() || ci_env == "0" || ci_env == "false";
}

int terminal_width(const TerminalFacts& facts, int fd) {
  int width = 0;
  if (const char* columns = env(facts, "COLUMNS"); *columns) width = std::atoi(columns);
  if (width <= 0 && facts.isatty) {
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0) width = ws.ws_col;
  }
  return width < 40 ? 80 : width;
}

bool utf8_terminal(const TerminalFacts& facts) {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    std::string v = env(facts, name);
    if (v.empty()) continue;
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v.find("utf-8") != std::string::npos || v.find("utf8") != std::string::npos;
  }
  return std::strcmp(env(facts, "TERM"), "linux") != 0;
}

TerminalFacts stdout_facts() { return {::isatty(1) != 0, {}}; }

}  // namespace dxpy::report
