#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dxpy/cli/commands.h"
#include "dxpy/session/run.h"

namespace dxpy::cli {

namespace {

// Flags of the plan that later work builds: accepted by the parser so that --help lists
// them, and refused with a clear message when used.
struct Planned {
  const char* flag;
  const char* help;
  bool takes_value;
};
constexpr Planned kPlanned[] = {
    {"-x,--exitfirst", "exit on the first failure", false},
    {"--maxfail", "exit after N failures", true},
    {"-s", "disable output capture", false},
    {"--tb", "traceback style: short|long|line|no", true},
    {"--lf,--last-failed", "run only the tests that failed last time", false},
    {"--ff,--failed-first", "run the last failures first", false},
    {"--durations", "show the N slowest tests", true},
    {"-p", "plugins (-p no:NAME is accepted and ignored)", true},
    {"-u,--update-snapshots", "write new and changed snapshots", false},
    {"--watch", "re-run affected tests on every change", false},
    {"--ci", "CI mode: no colour, no prompts, snapshots never written", false},
    {"--changed", "run the tests affected by the git changes", false},
    {"--affected-by", "run the tests affected by FILE...", true},
    {"--shard", "run shard K of N (K/N)", true},
    {"--retries", "re-run a failing test up to N times", true},
    {"--clear-cache", "clear the fixture cache first", false},
};

struct TestArgs {
  std::vector<std::string> paths;
  int verbose = 0;
  int quiet = 0;
  bool collect_only = false;
  std::string python;
  std::string color = "auto";
  std::string rootdir;
  std::string inifile;
  std::string keyword;
  std::string markexpr;
  std::string numprocesses;
  std::string junitxml;
  std::string junit_prefix;
  double timeout = 0;
  std::vector<std::unique_ptr<std::string>> planned_values;
  std::vector<std::pair<const char*, CLI::Option*>> planned;
};

int run_test(const TestArgs& a) {
  for (const auto& [flag, opt] : a.planned) {
    if (opt->count() > 0) {
      std::fprintf(stderr, "ERROR: usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]\n"
                           "dx-py: error: %s is planned but not yet implemented\n",
                   opt->get_name().c_str());
      return session::kUsageError;
    }
  }
  session::RunOptions o;
  o.paths = a.paths;
  o.verbosity = a.verbose - a.quiet;
  o.collect_only = a.collect_only;
  o.python = a.python;
  o.rootdir = a.rootdir;
  o.inifile = a.inifile;
  o.keyword = a.keyword;
  o.markexpr = a.markexpr;
  o.timeout_seconds = a.timeout;
  o.junitxml = a.junitxml;
  o.junit_prefix = a.junit_prefix;
  if (!a.numprocesses.empty() && a.numprocesses != "auto" && a.numprocesses != "logical") {
    try {
      size_t used = 0;
      int n = std::stoi(a.numprocesses, &used);
      if (used != a.numprocesses.size() || n < 0) throw std::invalid_argument("n");
      o.workers = n == 0 ? 1 : n;  // pytest-xdist's -n 0: no distribution; here one worker
    } catch (const std::exception&) {
      std::fprintf(stderr, "ERROR: usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]\n"
                           "dx-py: error: argument -n/--numprocesses: invalid value: '%s' (a number or auto)\n",
                   a.numprocesses.c_str());
      return session::kUsageError;
    }
  }
  const char* no_color = std::getenv("NO_COLOR");
  o.color = a.color == "yes" || (a.color == "auto" && ::isatty(1) && !(no_color && *no_color));
  return session::run_tests(o);
}

}  // namespace

Command test_command() {
  return {"test", "run the tests (pytest-compatible)", [](CLI::App& app) -> std::function<int()> {
            auto a = std::make_shared<TestArgs>();
            app.add_option("file_or_dir", a->paths, "files, folders or node ids (path::Class::test)");
            app.add_flag("-v,--verbose", a->verbose, "increase verbosity");
            app.add_flag("-q,--quiet", a->quiet, "decrease verbosity");
            app.add_flag("--collect-only,--co", a->collect_only, "only collect tests, don't run them");
            app.add_option("--python", a->python, "interpreter for the workers (default: the active venv's)");
            app.add_option("--color", a->color, "colour the output: yes|no|auto")
                ->check(CLI::IsMember({"yes", "no", "auto"}));
            app.add_option("-k", a->keyword, "only run tests whose names match the expression (pytest's -k)");
            app.add_option("-m", a->markexpr, "only run tests whose marks match the expression (pytest's -m)");
            app.add_option("-c,--config-file", a->inifile, "load the configuration from FILE");
            app.add_option("--rootdir", a->rootdir, "the root folder of the run (default: pytest's rules)");
            app.add_option("--junit-xml,--junitxml", a->junitxml, "write a JUnit XML report to PATH (pytest's format)");
            app.add_option("--junit-prefix,--junitprefix", a->junit_prefix, "prepend STR to classnames in the JUnit XML");
            app.add_option("-n,--numprocesses", a->numprocesses, "number of worker processes, or auto (default: one per core)");
            app.add_option("--timeout", a->timeout, "per-test timeout in seconds; a test past it is reported as timeout "
                                                    "and its worker replaced (default: none; @pytest.mark.timeout(S) too)")
                ->check(CLI::NonNegativeNumber);
            for (const auto& p : kPlanned) {
              std::string help = std::string(p.help) + " (not yet)";
              CLI::Option* opt;
              if (p.takes_value) {
                a->planned_values.push_back(std::make_unique<std::string>());
                opt = app.add_option(p.flag, *a->planned_values.back(), help);
              } else {
                opt = app.add_flag(p.flag, help);
              }
              opt->group("Planned");
              a->planned.emplace_back(p.flag, opt);
            }
            return [a] { return run_test(*a); };
          }};
}

}  // namespace dxpy::cli
