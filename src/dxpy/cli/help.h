#pragma once
/// `dx-py test --help` in pytest's layout: its usage line, its option groups (general,
/// Reporting, collection, ...) with the same flag names and argparse's columns, and dx-py's
/// own flags in a group of their own.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace dxpy::cli {

inline constexpr const char* kUsageLine = "usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]";

/// Puts every option still in CLI11's default group into its pytest group (or "dx-py" for
/// flags pytest does not have), names its value as pytest does, and installs the formatter.
/// Call after all options are added: options other work adds later land in the right group
/// by their name alone.
void apply_pytest_help(CLI::App& app);

/// Every flag name of `app` ("-k", "--maxfail"), for "did you mean ...?".
std::vector<std::string> flag_names(const CLI::App& app);

}  // namespace dxpy::cli
