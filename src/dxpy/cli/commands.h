#pragma once
/// Subcommands: each lives in its own cmd_*.cpp and registers its options on a CLI11 app.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace dxpy::cli {

struct Command {
  const char* name;
  const char* help;
  /// Adds the subcommand's options and returns the function that runs it once parsed.
  std::function<std::function<int()>(CLI::App&)> setup;
};

Command test_command();
Command merge_junit_command();  // cmd_merge_junit.cpp
/// The words after the subcommand, as typed: `dx-py test` re-parses them after its config's
/// addopts.
void set_invocation(std::vector<std::string> args_after_subcommand);

}  // namespace dxpy::cli
