#pragma once
/// For tests that compare with CPython (the differential tests): run a command through the
/// shell and take its standard output. Test code only.

#include <cstdio>
#include <string>

namespace dxpy::testing {

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// Appends the command's standard output to `out`; false when it cannot start or exits non-zero.
inline bool run_command(const std::string& command, std::string& out) {
  FILE* f = ::popen(command.c_str(), "r");
  if (!f) return false;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return ::pclose(f) == 0;
}

}  // namespace dxpy::testing
