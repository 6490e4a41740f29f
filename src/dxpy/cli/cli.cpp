#include "dxpy/cli/cli.h"

#include <cstdio>
#include <exception>

#include "dxpy/cli/commands.h"

namespace dxpy::cli {

int run(int argc, char** argv) {
  try {
    CLI::App app{"dx-py: a fast, pytest-compatible Python test runner", "dx-py"};
    app.set_version_flag("--version", "dx-py " DXPY_VERSION);
    app.require_subcommand(1);
    const Command commands[] = {test_command(), merge_junit_command()};
    std::function<int()> action;
    for (const auto& c : commands) {
      CLI::App* sub = app.add_subcommand(c.name, c.help);
      auto run_it = c.setup(*sub);
      sub->callback([&action, run_it] { action = run_it; });
    }
    {
      std::vector<std::string> after;
      for (int i = 2; i < argc; ++i) after.emplace_back(argv[i]);
      set_invocation(std::move(after));
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      // pytest's usage error: exit code 4.
      std::fprintf(stderr, "ERROR: usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]\n");
      std::fprintf(stderr, "dx-py: error: %s\n", e.what());
      return 4;
    }
    return action ? action() : 4;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dx-py: internal error: %s\n", e.what());
    return 3;
  }
}

}  // namespace dxpy::cli
