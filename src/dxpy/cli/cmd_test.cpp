#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dxpy/cli/commands.h"
#include "dxpy/cli/help.h"
#include "dxpy/config/config.h"
#include "dxpy/config/shlex.h"
#include "dxpy/report/terminal.h"
#include "dxpy/fixture/store.h"
#include "dxpy/session/run.h"
#include "dxpy/session/run_control.h"
#include "dxpy/session/watch.h"
#include "dxpy/util/fs.h"
#include "dxpy/util/suggest.h"

namespace dxpy::cli {

namespace {

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
  std::vector<std::string> plugins;  // -p
  std::string report_chars;          // -r: accepted, pytest's short summary is always shown
  bool strict_markers = false;
  bool continue_on_collection_errors = false;
  std::vector<std::string> extras;  // options dx-py does not know: a conftest's pytest_addoption
  std::string numprocesses;
  std::string junitxml;
  std::string junit_prefix;
  double timeout = -1;  // not given: [tool.dx-py] timeout, else none
  bool ci = false;
  bool last_failed = false;
  bool failed_first = false;
  std::string last_failed_no_failures = "all";
  std::vector<std::string> affected_by;
  std::string changed_ref;
  bool clear_cache = false;
  std::string shard;
  CLI::Option* shard_opt = nullptr;
  CLI::Option* affected_opt = nullptr;
  CLI::Option* changed_opt = nullptr;
  session::RunControl control;  // -x, --maxfail, -s, --capture, --tb, -l, --durations, --retries
  bool exitfirst = false, no_capture = false;
  CLI::Option* maxfail_opt = nullptr;
  CLI::Option* durations_opt = nullptr;
  CLI::Option* durations_min_opt = nullptr;
  CLI::Option* retries_opt = nullptr;
  bool update_snapshots = false;
  bool watch = false;
};

std::vector<std::string> g_invocation;  // the arguments after "test"
bool g_addopts_applied = false;
std::vector<std::string> g_addopts_notes;  // shown under -v (counting -v from addopts)
std::vector<std::string> g_parsed_words;   // what was parsed: addopts, then the command line

// The config that addopts_words loaded and the arguments it was loaded for. The run reuses
// it unless addopts changed the paths, -c or --rootdir, rather than look for config files
// in every folder up to "/" a second time.
struct LoadedConfig {
  std::vector<std::string> paths;
  std::string inifile;
  std::string rootdir;
  config::Config config;
};
std::optional<LoadedConfig> g_config;

const config::Config* loaded_config(const TestArgs& a) {
  if (g_config && g_config->paths == a.paths && g_config->inifile == a.inifile && g_config->rootdir == a.rootdir)
    return &g_config->config;
  return nullptr;
}

/// pytest puts the ini's addopts and then $PYTEST_ADDOPTS before the command line. Of those
/// words, the options dx-py has are kept; others (a plugin's --cov) are
/// dropped with a note, since a suite's addopts often name plugins dx-py does not load.
std::vector<std::string> addopts_words(const TestArgs& a, const CLI::App& app, std::vector<std::string>& notes) {
  std::vector<std::string> words;
  auto cfg = config::load_config(a.paths, absolute_path("."), a.inifile, a.rootdir);
  if (cfg) {
    words = cfg->addopts;
    g_config = LoadedConfig{a.paths, a.inifile, a.rootdir, std::move(*cfg)};
  }
  if (const char* env = std::getenv("PYTEST_ADDOPTS"); env && *env) {
    auto more = config::shlex_split(env);
    if (more) words.insert(words.end(), more->begin(), more->end());
  }
  std::vector<std::string> kept;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-') {
      kept.push_back(w);
      continue;
    }
    std::string name = w.substr(0, w.find('='));
    const CLI::Option* opt = app.get_option_no_throw(name);
    bool combined_short = false;  // -vv, -ra: the first letter names the option
    if (!opt && w[1] != '-' && w.size() > 2) {
      opt = app.get_option_no_throw(w.substr(0, 2));
      combined_short = opt != nullptr;
    }
    bool takes_value = opt && opt->get_expected_min() > 0;
    if (opt) {
      kept.push_back(w);
      if (takes_value && !combined_short && name == w && i + 1 < words.size()) kept.push_back(words[++i]);
      continue;
    }
    std::string dropped = w;
    // An unknown option's value: the next word, if it is neither an option nor a path.
    bool next_is_value = !opt && w.find('=') == std::string::npos && i + 1 < words.size() &&
                         words[i + 1][0] != '-' && !stat_path(words[i + 1]);
    if ((takes_value && name == w && !combined_short && i + 1 < words.size()) || next_is_value)
      dropped += " " + words[++i];
    notes.push_back("addopts: ignoring " + dropped + " (not a dx-py option)");
  }
  return kept;
}

int run_test(const TestArgs& a, const CLI::App& app);

void add_run_control_options(CLI::App& app, TestArgs& a) {
  session::RunControl& c = a.control;
  app.add_flag("-x,--exitfirst", a.exitfirst, "exit instantly on the first error or failed test");
  a.maxfail_opt = app.add_option("--maxfail", c.maxfail, "exit after the first N failures or errors")
                      ->type_name("N")->check(CLI::NonNegativeNumber);
  app.add_flag("-s", a.no_capture, "disable output capture (--capture=no): output goes straight to the terminal");
  app.add_option("--capture", c.capture, "per-test capturing method: fd (default), sys, no or tee-sys")
      ->check(CLI::IsMember({"fd", "sys", "no", "tee-sys"}));
  app.add_option("--tb", c.tbstyle, "traceback print mode: auto (default), long, short, line, native or no")
      ->check(CLI::IsMember({"auto", "long", "short", "line", "native", "no"}));
  app.add_flag("-l,--showlocals", c.showlocals, "show locals in tracebacks");
  a.durations_opt = app.add_option("--durations", c.durations, "show the N slowest setup/test durations (N=0 for all)")
                        ->type_name("N")->check(CLI::NonNegativeNumber);
  a.durations_min_opt = app.add_option("--durations-min", c.durations_min,
                                       "minimal duration in seconds for --durations (default 0.005)")
                            ->type_name("S")->check(CLI::NonNegativeNumber);
  a.retries_opt = app.add_option("--retries", c.retries, "re-run a failing test up to N times; one that then "
                                                        "passes is reported flaky (default: [tool.dx-py] retries, else 0)")
                      ->type_name("N")->check(CLI::NonNegativeNumber);
  app.add_flag("--fail-on-flaky", c.fail_on_flaky, "exit 1 when a test was flaky (failed, then passed on a retry)");
}

/// -x and --maxfail share pytest's dest: the later one on the command line wins.
session::RunControl run_control_of(const TestArgs& a) {
  session::RunControl rc = a.control;
  if (a.maxfail_opt->count() == 0) rc.maxfail = 0;
  bool x_last = a.exitfirst;
  if (a.exitfirst && a.maxfail_opt->count() > 0) {
    for (const auto& w : g_parsed_words) {
      bool short_flags = w.size() > 1 && w[0] == '-' && w[1] != '-' && w.find_first_not_of("-vqxsl") == std::string::npos;
      if (w == "--exitfirst" || (short_flags && w.find('x') != std::string::npos))
        x_last = true;
      else if (w.rfind("--maxfail", 0) == 0)
        x_last = false;
    }
  }
  if (x_last) rc.maxfail = 1;
  if (a.no_capture) rc.capture = "no";
  if (a.durations_opt->count() == 0) rc.durations.reset();
  if (a.durations_min_opt->count() == 0) rc.durations_min.reset();
  if (a.retries_opt->count() == 0) rc.retries.reset();
  return rc;
}

/// pytest's usage error for options nobody knows, with a close match for each when there is
/// one ("did you mean --maxfail?").
int unrecognized(const std::vector<std::string>& words, const CLI::App& app, const std::string& inifile,
                 const std::string& rootdir) {
  std::string joined;
  for (const auto& w : words) joined += (joined.empty() ? "" : " ") + w;
  std::fprintf(stderr, "ERROR: %s\ndx-py: error: unrecognized arguments: %s\n", kUsageLine, joined.c_str());
  std::vector<std::string> names = flag_names(app);
  for (const auto& w : words) {
    std::string name = w.substr(0, w.find('='));
    if (auto near = closest_match(name, names)) std::fprintf(stderr, "  %s: did you mean %s?\n", name.c_str(), near->c_str());
  }
  std::fprintf(stderr, "  inifile: %s\n  rootdir: %s\n", inifile.empty() ? "None" : inifile.c_str(), rootdir.c_str());
  return session::kUsageError;
}

/// Whether some conftest.py under `dir` names `option` in quotes (its pytest_addoption): the
/// only way an option unknown to dx-py is legitimate. Hidden and virtual-env folders are
/// skipped. Only called when such an option was given.
bool conftest_mentions(const std::string& dir, const std::string& option, int depth = 0) {
  if (depth > 12) return false;
  for (const auto& name : list_dir(dir)) {
    std::string path = join_path(dir, name);
    if (name == "conftest.py") {
      auto text = read_file(path);
      if (text && (text->find("\"" + option + "\"") != std::string::npos ||
                   text->find("'" + option + "'") != std::string::npos))
        return true;
      continue;
    }
    if (name.empty() || name[0] == '.' || name == "__pycache__" || name == "node_modules" || name == "venv" ||
        name == "site-packages")
      continue;
    auto st = stat_path(path);
    if (st && st->is_dir && conftest_mentions(path, option, depth + 1)) return true;
  }
  return false;
}

/// Parses `args` (the words after "test") again from scratch and runs them.
int parse_and_run(const std::vector<std::string>& args) {
  CLI::App app;
  auto action = test_command().setup(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ERROR: %s\n", kUsageLine);
    std::fprintf(stderr, "dx-py: error: %s (with the config's addopts)\n", e.what());
    return session::kUsageError;
  }
  return action();
}

/// Whether the invocation itself (not addopts) gave `flag` with `value` ("-p no:x", "-pno:x").
bool given_on_command_line(const std::string& flag, const std::string& value) {
  for (size_t i = 0; i < g_invocation.size(); ++i) {
    const std::string& w = g_invocation[i];
    if (w == flag + value || (w == flag && i + 1 < g_invocation.size() && g_invocation[i + 1] == value)) return true;
  }
  return false;
}

/// `app`: the parsed command, whose options tell which addopts words dx-py knows.
int run_test(const TestArgs& a, const CLI::App& app) {
  if (!g_addopts_applied) {
    g_addopts_applied = true;
    std::vector<std::string> extra = addopts_words(a, app, g_addopts_notes);
    if (!extra.empty()) {
      extra.insert(extra.end(), g_invocation.begin(), g_invocation.end());
      g_parsed_words = extra;
      return parse_and_run(extra);
    }
    g_parsed_words = g_invocation;
  }
  if (!a.extras.empty()) {
    std::string root = absolute_path(".");
    std::string inifile;
    if (const config::Config* c = loaded_config(a)) root = c->rootdir, inifile = c->inifile;
    else if (auto cfg = config::load_config(a.paths, root, a.inifile, a.rootdir)) root = cfg->rootdir, inifile = cfg->inifile;
    std::vector<std::string> unknown;
    for (const auto& x : a.extras) {
      if (x.size() < 2 || x[0] != '-') continue;
      std::string name = x.substr(0, x.find('='));
      if (!conftest_mentions(root, name)) {
        unknown.push_back(x);
        continue;
      }
      if (a.verbose > a.quiet) std::fprintf(stderr, "dx-py: %s: a conftest's option, passed to the tests\n", x.c_str());
    }
    if (!unknown.empty()) return unrecognized(unknown, app, inifile, root);
  }
  if (a.verbose > a.quiet)
    for (const auto& n : g_addopts_notes) std::fprintf(stderr, "dx-py: %s\n", n.c_str());
  for (const auto& p : a.plugins) {
    if (p.rfind("no:", 0) == 0) {  // disabling a plugin: there are none to disable
      // A note when typed on the command line; from addopts (where `-p no:cacheprovider` is
      // common) only with -v, so that it does not repeat on every run.
      if (a.verbose > a.quiet || given_on_command_line("-p", p))
        std::fprintf(stderr, "dx-py: note: -p %s: dx-py loads no pytest plugins, so there is nothing to disable; "
                             "ignored\n", p.c_str());
      continue;
    }
    std::fprintf(stderr, "dx-py: warning: -p %s: dx-py does not load pytest plugins; ignored\n", p.c_str());
  }
  if (a.clear_cache) {
    std::string folder = join_path(absolute_path("."), ".dx-py");
    if (const config::Config* c = loaded_config(a)) folder = c->cache_folder();
    else if (auto cfg = config::load_config(a.paths, absolute_path("."), a.inifile, a.rootdir)) folder = cfg->cache_folder();
    auto removed = fixture::clear_cache(fixture::cache_dir_for(folder));
    if (!removed) std::fprintf(stderr, "dx-py: warning: --clear-cache: %s\n", removed.error().message.c_str());
    else if (a.verbose > a.quiet) std::fprintf(stderr, "dx-py: --clear-cache: %zu fixture cache entries removed\n", *removed);
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
  o.continue_on_collection_errors = a.continue_on_collection_errors;
  o.strict_markers = a.strict_markers;
  o.last_failed = {a.last_failed, a.failed_first, a.last_failed_no_failures == "none"};
  if (a.affected_opt && a.affected_opt->count() > 0) o.affected_by = a.affected_by;
  if (a.changed_opt && a.changed_opt->count() > 0) o.changed_ref = a.changed_ref;
  if (a.shard_opt && a.shard_opt->count() > 0) o.shard = a.shard;
  o.command_line = g_parsed_words;
  o.control = run_control_of(a);
  o.update_snapshots = a.update_snapshots;
  if (const config::Config* c = loaded_config(a)) o.config = *c;
  if (a.numprocesses == "auto" || a.numprocesses == "logical") o.workers = -1;  // over [tool.dx-py] workers
  if (!a.numprocesses.empty() && a.numprocesses != "auto" && a.numprocesses != "logical") {
    try {
      size_t used = 0;
      int n = std::stoi(a.numprocesses, &used);
      if (used != a.numprocesses.size() || n < 0) throw std::invalid_argument("n");
      o.workers = n == 0 ? 1 : n;  // pytest-xdist's -n 0: no distribution; here one worker
    } catch (const std::exception&) {
      std::fprintf(stderr, "ERROR: %s\ndx-py: error: argument -n/--numprocesses: invalid value: '%s' (a number or auto)\n",
                   kUsageLine,
                   a.numprocesses.c_str());
      return session::kUsageError;
    }
  }
  report::TerminalFacts facts = report::stdout_facts();
  auto mode = a.color == "yes" ? report::ColorMode::kYes : a.color == "no" ? report::ColorMode::kNo : report::ColorMode::kAuto;
  o.ci = a.ci;
  o.color = report::use_color(mode, a.ci, facts);
  o.live_progress = report::use_live_progress(a.ci, facts);
  o.utf8 = report::utf8_terminal(facts);
  o.width = report::terminal_width(facts);
  if (a.ci && a.update_snapshots) {
    std::fprintf(stderr, "ERROR: %s\ndx-py: error: --update-snapshots cannot be combined with --ci: "
                         "in CI snapshots are never written\n", kUsageLine);
    return session::kUsageError;
  }
  if (a.watch) {
    if (a.collect_only) {
      std::fprintf(stderr, "ERROR: usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]\n"
                           "dx-py: error: --watch runs tests: it cannot be combined with --collect-only\n");
      return session::kUsageError;
    }
    return session::watch_tests(std::move(o));
  }
  o.exit_when_collected = true;
  return session::run_tests(o);
}

}  // namespace

void set_invocation(std::vector<std::string> args_after_subcommand) { g_invocation = std::move(args_after_subcommand); }

Command test_command() {
  return {"test", "run the tests (pytest-compatible)", [](CLI::App& app) -> std::function<int()> {
            auto a = std::make_shared<TestArgs>();
            // Options given twice (addopts, then the command line): the last one wins, as
            // with pytest's argparse.
            app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
            app.add_option("file_or_dir", a->paths, "files, folders or node ids (path::Class::test)")
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
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
            app.add_option("-p", a->plugins, "pytest plugins: -p no:NAME is accepted (nothing to disable); "
                                             "others are not loaded, with a warning")
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                ->expected(1)
                ->allow_extra_args(false);  // one name per -p, as pytest's: `-p no:x tests/` keeps tests/ a path
            app.add_option("-r", a->report_chars, "pytest's short summary characters (accepted; the summary is always shown)");
            app.add_flag("--strict-markers", a->strict_markers, "a mark not registered in `markers` is an error");
            app.add_flag("-u,--update-snapshots", a->update_snapshots,
                         "write new and changed snapshots; on a full run, delete unused ones");
            app.add_flag("--continue-on-collection-errors", a->continue_on_collection_errors,
                         "run the tests even when some files could not be collected");
            // A conftest's options (pytest_addoption) are not known here: they go to the
            // workers as written, where getoption finds them.
            app.allow_extras();
            app.add_option("-n,--numprocesses", a->numprocesses, "number of worker processes, or auto (default: one per core)");
            app.add_option("--timeout", a->timeout, "per-test timeout in seconds; a test past it is reported as timeout "
                                                    "and its worker replaced (default: none; @pytest.mark.timeout(S) too)")
                ->check(CLI::NonNegativeNumber);
            app.add_flag("--lf,--last-failed", a->last_failed,
                         "rerun only the tests that failed at the last run (or all if none failed); "
                         "kept in .dx-py/lastfailed");
            app.add_flag("--ff,--failed-first", a->failed_first, "run all tests, but the last failures first");
            a->affected_opt = app.add_option("--affected-by", a->affected_by,
                                             "run only the tests affected by FILE... through the import graph "
                                             "(kept in .dx-py/graph.dxig), and the last failures")
                                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
            a->changed_opt = app.add_option("--changed", a->changed_ref,
                                            "run only the tests affected by git's changes since REF (default HEAD: "
                                            "the working tree and index, untracked files too), and the last failures")
                                 ->expected(0, 1);
            app.add_flag("--clear-cache", a->clear_cache,
                         "clear the fixture cache (.dx-py/fixtures, @dx.fixture(cache=True)) first");
            app.add_option("--lfnf,--last-failed-no-failures", a->last_failed_no_failures,
                           "with --lf, when no failures are known: run all tests (all, the default) or none")
                ->check(CLI::IsMember({"all", "none"}));
            add_run_control_options(app, *a);
            a->shard_opt = app.add_option("--shard", a->shard,
                           "run only shard K of N (K/N, 1 <= K <= N): files split by their durations in "
                           ".dx-py/durations.json, longest first (docs/ci.md)");
            app.add_flag("--watch", a->watch,
                         "run the tests, then on every change to the project's files the tests it can "
                         "affect and the last failures; keys: a f p t u Enter q");
            app.add_flag("--ci", a->ci, "CI mode: no colour, no live progress, nothing interactive "
                                        "(snapshots are never written, and a missing or, on a full run, an "
                                        "unused snapshot fails the run)");
            app.footer("Configuration: [tool.pytest.ini_options] (or pytest.ini, tox.ini, setup.cfg) as pytest "
                       "reads it, and [tool.dx-py] in pyproject.toml: workers, preload, timeout, retries, "
                       "snapshot_dir, cache_dir. Environment: PYTEST_ADDOPTS, NO_COLOR, FORCE_COLOR, PY_COLORS, "
                       "COLUMNS. See docs/cli.md.");
            apply_pytest_help(app);
            return [a, &app] {
              a->extras = app.remaining();
              return run_test(*a, app);
            };
          }};
}

}  // namespace dxpy::cli
