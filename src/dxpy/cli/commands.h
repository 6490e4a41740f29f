#pragma once
/// Subcommands: each lives in its own cmd_*.cpp and registers its options on a CLI11 app.

#include <CLI/CLI.hpp>
#include <functional>

namespace dxpy::cli {

struct Command {
  const char* name;
  const char* help;
  /// Adds the subcommand's options and returns the function that runs it once parsed.
  std::function<std::function<int()>(CLI::App&)> setup;
};

Command test_command();

}  // namespace dxpy::cli
