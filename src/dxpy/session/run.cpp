#include "dxpy/session/run.h"

#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <unordered_set>

#include "dxpy/core/codec.h"
#include "dxpy/discovery/collector.h"
#include "dxpy/session/selection.h"
#include "dxpy/session/spares.h"
#include "dxpy/session/durations.h"
#include "dxpy/session/lastfailed.h"
#include "dxpy/session/execute.h"
#include "dxpy/session/hook_order.h"
#include "dxpy/session/junit_ini.h"
#include "dxpy/session/run_control.h"
#include "dxpy/session/shard.h"
#include "dxpy/session/snapshots.h"
#include "dxpy/select/shard.h"
#include "dxpy/report/collect_only.h"
#include "dxpy/report/console.h"
#include "dxpy/report/junit.h"
#include "dxpy/report/sink.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {

namespace {

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void json_list(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    json_string(out, items[i]);
  }
  out += ']';
}

/// What the workers need of the configuration, as JSON (DXPY_CONFIG): the paths pytest's
/// rules found, the typed options, every ini key as written (for request.config.getini) and
/// the command-line options (for getoption).
std::string worker_config_json(const config::Config& c, const RunOptions& o, int retries,
                               const std::string& snapshot_records, const std::string& cache_dir,
                               const std::string& snapshot_dir) {
  std::string j = "{";
  auto key = [&](const char* k) {
    if (j.size() > 1) j += ',';
    json_string(j, k);
    j += ':';
  };
  key("rootdir"), json_string(j, c.rootdir);
  key("inifile"), json_string(j, c.inifile);
  key("cache_dir"), json_string(j, cache_dir.empty() ? c.cache_folder() : cache_dir);
  key("invocation_dir"), json_string(j, c.invocation_dir);
  key("confcutdir"), json_string(j, c.confcutdir);
  key("xfail_strict"), j += c.xfail_strict ? "true" : "false";
  key("strict"), j += c.strict ? "true" : "false";
  key("gc_freeze"), j += c.dx.gc_freeze ? "true" : "false";
  key("markers"), json_list(j, c.markers);
  key("filterwarnings"), json_list(j, c.filterwarnings);
  key("pythonpath"), json_list(j, c.pythonpath);
  key("testpaths"), json_list(j, c.testpaths);
  key("python_files"), json_list(j, c.python_files);
  key("python_classes"), json_list(j, c.python_classes);
  key("python_functions"), json_list(j, c.python_functions);
  key("ini");
  j += '{';
  bool first = true;
  for (const auto& [name, v] : c.ini) {
    if (!first) j += ',';
    first = false;
    json_string(j, name);
    j += ':';
    if (v.type == config::IniValue::Type::kList)
      json_list(j, v.items);
    else
      json_string(j, v.text);
  }
  j += '}';
  key("options");
  j += '{';
  auto opt = [&](const char* k, const std::string& v, bool last = false) {
    json_string(j, k);
    j += ':';
    json_string(j, v);
    if (!last) j += ',';
  };
  opt("keyword", o.keyword);
  opt("markexpr", o.markexpr);
  opt("junitxml", o.junitxml);
  opt("rootdir", o.rootdir);
  opt("inifile", o.inifile, true);
  j += ",\"verbose\":" + std::to_string(o.verbosity);
  j += ",\"timeout\":" + std::to_string(o.timeout_seconds);
  j += std::string(",\"lf\":") + (o.last_failed.last_failed ? "true" : "false");
  j += std::string(",\"failedfirst\":") + (o.last_failed.failed_first ? "true" : "false");
  j += std::string(",\"last_failed_no_failures\":") + (o.last_failed.none_without_failures ? "\"none\"" : "\"all\"");
  j += run_control_json(o.control, retries);
  j += std::string(",\"update_snapshots\":") + (o.update_snapshots ? "true" : "false");
  j += std::string(",\"ci\":") + (o.ci ? "true" : "false");
  j += '}';
  key("snapshots"), j += "{\"records\":", json_string(j, snapshot_records);
  j += ",\"dir\":", json_string(j, snapshot_dir), j += '}';
  key("args"), json_list(j, o.paths);
  key("extra_args"), json_list(j, o.command_line);
  j += '}';
  return j;
}

/// The cores this process may run on (its affinity mask, as `os.sched_getaffinity`), which
/// is what -n auto means: in a container or under taskset it is fewer than the machine's.
unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

/// --strict-markers (or the strict_markers / strict ini options): a mark that is neither
/// built in nor registered in `markers` makes its module a collection error, as in pytest
/// ("'NAME' not found in `markers` configuration option"); the module's tests do not run.
void apply_strict_markers(Selection& selected, const RunOptions& opts) {
  const config::Config& c = selected.config;
  bool strict = opts.strict_markers || c.strict;
  if (auto v = c.get_bool("strict_markers"); v && *v && **v) strict = true;
  if (!strict || selected.listing) return;
  std::set<std::string, std::less<>> known = {"filterwarnings", "skip", "skipif", "xfail", "parametrize",
                                              "usefixtures", "tryfirst", "trylast"};
  for (const auto& line : c.markers) {
    size_t end = line.find_first_of(":(");
    std::string name = line.substr(0, end);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.erase(0, 1);
    if (!name.empty()) known.insert(name);
  }
  std::map<std::string, std::string> bad;  // path -> first unknown mark
  for (const auto& tc : selected.tests)
    for (const auto& m : tc.markers)
      if (!known.count(m.name) && !bad.count(tc.id.path)) bad[tc.id.path] = m.name;
  if (bad.empty()) return;
  for (const auto& [path, mark] : bad) {
    std::string msg = "'" + mark + "' not found in `markers` configuration option";
    selected.errors.push_back({path, msg, "Failed: " + msg});
    if (!selected.last_failed_path.empty()) selected.last_failed_changes[path] = true;  // a collection error
  }
  auto dropped = [&](const TestCase& tc) { return bad.count(tc.id.path) > 0; };
  auto failures_end = selected.tests.begin() + static_cast<ptrdiff_t>(selected.failed_first);
  selected.failed_first -= static_cast<size_t>(std::count_if(selected.tests.begin(), failures_end, dropped));
  std::erase_if(selected.tests, dropped);
}

/// `live`: the run's console, which may draw the progress bar (not the collection's).
report::ConsoleOptions console_options(const RunOptions& o, bool parallel, std::vector<std::string> lines,
                                       bool live = false) {
  report::ConsoleOptions c{o.verbosity, o.color, o.width, stdout, parallel, std::move(lines)};
  c.live = live && o.live_progress;
  c.utf8 = o.utf8;
  // pytest's running_on_ci(): $CI or $BUILD_NUMBER set and not empty.
  auto set = [](const char* name) { const char* v = std::getenv(name); return v && *v; };
  c.full_messages = set("CI") || set("BUILD_NUMBER") || o.verbosity >= 2;
  return c;
}

/// [tool.dx-py] settings fill what the command line left unset.
RunOptions with_project_settings(const RunOptions& given, const config::DxPySettings& dx) {
  RunOptions o = given;
  if (o.workers == 0 && dx.workers) o.workers = static_cast<int>(*dx.workers);  // workers = "auto" stays 0
  if (o.timeout_seconds < 0) o.timeout_seconds = dx.timeout.value_or(0);
  return o;
}

/// A run with no selection: every test of the rootdir (or testpaths) ran, so a snapshot
/// entry nothing used is really unused.
bool is_full_run(const RunOptions& o, const Selection& s) {
  if (!o.keyword.empty() || !o.markexpr.empty() || o.last_failed.last_failed || o.affected_by || o.changed_ref || o.shard ||
      s.deselected > 0)
    return false;
  for (const auto& p : o.paths) {
    std::string abs = absolute_path(p);
    bool whole = abs == s.config.rootdir;
    for (const auto& t : s.config.testpaths) whole = whole || abs == absolute_path(join_path(s.config.rootdir, t));
    if (!whole) return false;
  }
  return true;
}

/// The snapshot report above the closing line (session/snapshots.h) and its words in it.
/// Returns whether it fails the run: under --ci, unused snapshots do.
bool report_snapshots(SnapshotRun& snapshots, const Selection& selected, const RunOptions& opts,
                      const ExecOutcome& outcome, report::Summary& summary) {
  bool reliable = !outcome.interrupted && selected.errors.empty() &&
                  !summary.counts[static_cast<int>(TestStatus::kCrashed)] &&
                  !summary.counts[static_cast<int>(TestStatus::kTimeout)];
  auto rep = snapshots.finish(selected.tests, is_full_run(opts, selected), reliable, opts.update_snapshots);
  for (const auto& e : rep.errors) std::fprintf(stderr, "dx-py: snapshots: %s\n", e.c_str());
  if (!rep.unused.empty()) {
    std::fflush(stderr);
    const char* title = rep.deleted ? "deleted unused snapshots"
                        : opts.ci   ? "unused snapshots (--ci fails on them: delete them with a full run of "
                                      "dx-py test --update-snapshots, without --ci, and commit the .snap files)"
                                    : "unused snapshots (delete them with --update-snapshots on a full run)";
    std::printf("\n%s:\n", title);
    for (const auto& u : rep.unused) std::printf("  %s\n", u.c_str());
  }
  summary.extra = rep.words();
  return opts.ci && !rep.deleted && !rep.unused.empty();
}

/// Durations below this are not stored (.dx-py/durations.json): ordering such tests gains nothing.
constexpr double kRecordedSeconds = 0.001;

// Whether a conftest of the listed tests names pytest_collection_modifyitems: their order
// then needs the tests themselves, not the index's listing of node ids.
bool hook_may_reorder(const Selection& selected) {
  std::vector<std::string_view> paths;
  std::string_view last;
  // One module per folder is enough: the conftests are looked for above each folder.
  auto folder = [](std::string_view p) { return p.substr(0, p.rfind('/') + 1); };
  for (const ListedFile& f : selected.listed) {
    if (last.empty() || folder(f.path) != folder(last)) paths.push_back(f.path);
    last = f.path;
  }
  auto conftests = modifyitems_conftests(paths, selected.config.rootdir, selected.config.confcutdir);
  return !conftests.empty() && !conftests_keep_order(conftests);
}

}  // namespace

std::string default_python() {
  if (const char* venv = std::getenv("VIRTUAL_ENV"); venv && *venv) {
    std::string p = join_path(venv, "bin/python");
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    std::string p = join_path(dirname(self), "python");
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "python3";
}

int run_tests(const RunOptions& given) {
  ::signal(SIGPIPE, SIG_IGN);
  auto t0 = std::chrono::steady_clock::now();
  if (given.shard) {
    if (auto spec = select::parse_shard(*given.shard); !spec) {
      std::fprintf(stderr, "ERROR: usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]\n"
                           "dx-py: error: %s\n", spec.error().message.c_str());
      return kUsageError;
    }
  }
  // Listing node ids (-q, -qq) needs no more than the index's test table (a shard needs files).
  bool ids_only = given.collect_only && given.verbosity < 0 && !given.shard;
  auto select = [&](bool listing) {
    return select_tests({given.paths, given.inifile, given.rootdir, given.keyword, given.markexpr, true, listing,
                         given.config, given.last_failed, given.affected_by, given.changed_ref, given.graph});
  };
  auto selection = select(ids_only);
  if (selection && selection->listing && hook_may_reorder(*selection)) {
    selection->listing_storage.reset();  // lets its index writer finish before collecting again
    selection = select(false);
  }
  if (!selection) {
    std::fprintf(stderr, "ERROR: %s\n", selection.error().message.c_str());
    return selection.error().code == Errc::kUsage || selection.error().code == Errc::kParse ? kUsageError
                                                                                          : kInternalError;
  }
  Selection& selected = *selection;
  const RunOptions opts = with_project_settings(given, selected.config.dx);
  const std::string& rootdir = selected.config.rootdir;
  if (opts.verbosity > 0)
    for (const auto& n : selected.notes) std::fprintf(stderr, "dx-py: %s\n", n.c_str());
  apply_strict_markers(selected, opts);
  auto retries = effective_retries(opts.control, selected.config);
  if (!retries) {
    std::fprintf(stderr, "ERROR: %s\n", retries.error().message.c_str());
    return kUsageError;
  }
  // Durations live beside the index, in the cache folder that selection made (if it could).
  std::string durations_path = selected.last_failed_path.empty()
                                  ? ""
                                  : join_path(dirname(selected.last_failed_path), std::string(kDurationsFile));
  Durations known;
  if (opts.shard) {
    if (!durations_path.empty()) known = load_durations(durations_path);
    auto sharded = apply_shard(selected, *opts.shard, known, kRecordedSeconds / 2);
    if (!sharded) {
      std::fprintf(stderr, "ERROR: %s\n", sharded.error().message.c_str());
      return kUsageError;
    }
    if (opts.verbosity > 0) std::fprintf(stderr, "dx-py: %s\n", sharded->c_str());
  }
  report::SessionInfo info{rootdir, "", DXPY_VERSION, {}};
  std::vector<std::string> collection_lines;  // under "collected N items", as pytest's cacheprovider
  if (!selected.last_failed_status.empty())
    collection_lines.push_back("run-last-failure: " + selected.last_failed_status);
  // The last failures after this run (lastfailed.h): collection's changes, then the results'.
  LastFailedRecorder last_failed(selected.last_failed, selected.last_failed_runtime);
  auto save_last_failed_changes = [&](const std::vector<uint32_t>& unfinished) {
    if (selected.last_failed_path.empty()) return;
    LastFailedChanges changes = last_failed.changes(std::move(selected.last_failed_changes), unfinished);
    if (changes.empty() && !selected.last_failed_damaged) return;
    if (auto saved = save_last_failed(selected.last_failed_path, changes); !saved && opts.verbosity > 0)
      std::fprintf(stderr, "dx-py: last failures not saved: %s\n", saved.error().message.c_str());
  };
  if (!selected.config.inifile.empty()) info.configfile.push_back(relative_to(selected.config.inifile, rootdir));

  if (opts.collect_only) {
    // A conftest's pytest_collection_modifyitems orders (and may deselect) what is listed too.
    if (!selected.listing)
      follow_hook_order(selected, opts.python.empty() ? default_python() : opts.python,
                        worker_config_json(selected.config, opts, *retries, "", selected.cache_dir, ""), opts.verbosity);
    // pytest prints the header and "collected N items" above the tree; -q prints neither.
    std::unique_ptr<report::ReportSink> console;
    if (opts.verbosity >= 0) {
      console = report::make_console_reporter(console_options(opts, false, collection_lines));
      console->on_session_start(info);
      console->on_collected(selected.tests.size() + selected.deselected, selected.errors, selected.deselected);
    }
    if (selected.listing)
      report::print_node_ids(stdout, selected.listed, opts.verbosity);
    else
      report::print_collection(stdout, rootdir, selected.tests, opts.verbosity, [&](const std::string& dir) {
        return ::access(join_path(join_path(rootdir, dir), "__init__.py").c_str(), F_OK) == 0;
      });
    for (const auto& e : selected.errors) std::printf("ERROR %s - %s\n", e.path.c_str(), e.message.c_str());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char line[128];
    size_t n = selected.tests.size();
    if (selected.listing) {
      n = 0;
      for (const ListedFile& f : selected.listed) n += f.count;
    }
    if (selected.deselected)
      std::snprintf(line, sizeof line, "%zu/%zu tests collected (%zu deselected) in %.2fs", n,
                    n + static_cast<size_t>(selected.deselected), static_cast<size_t>(selected.deselected), secs);
    else
      std::snprintf(line, sizeof line, "%zu test%s collected in %.2fs", n, n == 1 ? "" : "s", secs);
    if (opts.verbosity >= 0) {
      std::string l(line);
      int fill = std::max((80 - static_cast<int>(l.size()) - 2) / 2, 1);
      std::string eq(static_cast<size_t>(fill), '=');
      std::string full = eq + " " + l + " " + eq;
      if (full.size() < 80) full += "=";
      std::printf("\n%s\n", full.c_str());
    } else if (opts.verbosity == -1) {
      std::printf("\n%s\n", line);
    }
    size_t runtime = static_cast<size_t>(std::count_if(selected.tests.begin(), selected.tests.end(),
                                                       [](const TestCase& t) { return t.expand_at_runtime; }));
    if (runtime && !ids_only)  // on stderr; with ids only (-q) the flag is not read
      std::fprintf(stderr,
                   "dx-py: %zu parametrized test%s could not be expanded statically (arguments that are not "
                   "literals); they are listed by their function id, without [param]\n",
                   runtime, runtime == 1 ? "" : "s");
    const int code = !selected.errors.empty() ? kInterrupted : n == 0 ? kNoTestsCollected : kOk;
    if (opts.exit_when_collected) {
      wait_for_index_writer(selected);
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(code);
    }
    return code;
  }

  // pytest runs nothing when a file could not be collected, unless told to go on.
  if (!selected.errors.empty() && !opts.continue_on_collection_errors) {
    auto console = report::make_console_reporter(console_options(opts, false, collection_lines));
    console->on_session_start(info);
    console->on_collected(selected.tests.size() + selected.deselected, selected.errors, selected.deselected);
    size_t n = selected.errors.size();
    console->on_interrupted("Interrupted: " + std::to_string(n) + (n == 1 ? " error" : " errors") +
                            " during collection");
    report::Summary summary;
    summary.collection_errors = n;
    summary.deselected = selected.deselected;
    summary.interrupted = true;
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    console->on_session_end(summary);
    save_last_failed_changes({});
    return kInterrupted;
  }

  // Run: a pool of workers (execute.h), results reported as they come.
  ExecOptions eo;
  eo.python = opts.python.empty() ? default_python() : opts.python;
  eo.rootdir = rootdir;
  eo.workers = opts.workers > 0 ? static_cast<unsigned>(opts.workers)
                                : usable_cores();
  eo.timeout_seconds = opts.timeout_seconds;
  // [tool.dx-py] snapshot_dir: inside the rootdir, since .snap paths are rootdir-relative.
  std::string snapshot_dir;
  if (const std::string& dir = selected.config.dx.snapshot_dir; !dir.empty()) {
    snapshot_dir = relative_to(dir, rootdir);
    if (dir == rootdir || snapshot_dir == dir) {
      std::fprintf(stderr, "ERROR: %s: [tool.dx-py] snapshot_dir must be a folder inside the rootdir %s, got %s\n",
                   selected.config.dx.file.c_str(), rootdir.c_str(), dir.c_str());
      return kUsageError;
    }
  }
  SnapshotRun snapshots(rootdir, selected.cache_dir, snapshot_dir);
  eo.worker_config =
      worker_config_json(selected.config, opts, *retries, snapshots.records_dir(), selected.cache_dir, snapshot_dir);
  eo.inherit_output = opts.control.capture != "fd";
  eo.preload = selected.config.dx.preload;
  // A conftest's pytest_collection_modifyitems may order the session (hook_order.h).
  eo.keep_order = follow_hook_order(selected, eo.python, eo.worker_config, opts.verbosity);
  if (!durations_path.empty()) {
    if (!opts.shard) known = load_durations(durations_path);
    eo.expected_seconds.reserve(selected.tests.size());
  }
  std::string node;
  for (auto& tc : selected.tests) {
    if (tc.file.empty()) tc.file = join_path(rootdir, tc.id.path);  // what the worker imports
    if (!known.empty()) {
      node.clear();
      tc.id.append_node_id(node);
      auto it = known.find(node);
      // Not in the file: it ran faster than kRecordedSeconds (or never ran).
      eo.expected_seconds.push_back(it == known.end() ? kRecordedSeconds / 2 : it->second);
    }
  }
  if (selected.failed_first > 0) {
    // --ff: the last failures (at the front of the tests, so first in their modules) go ahead
    // of longest-first: the scheduler orders modules by expected seconds, and each failure
    // counts for more than all the other tests together.
    if (eo.expected_seconds.empty()) eo.expected_seconds.assign(selected.tests.size(), 1.0);  // the scheduler's default
    double others = 1;
    for (size_t i = selected.failed_first; i < eo.expected_seconds.size(); ++i) others += *eo.expected_seconds[i];
    for (size_t i = 0; i < selected.failed_first; ++i) *eo.expected_seconds[i] += others;
  }

  std::optional<DurationsReport> durations;
  if (opts.control.durations) durations.emplace(*opts.control.durations, opts.control.durations_min, opts.verbosity);
  report::ConsoleOptions run_console = console_options(opts, eo.workers > 1, collection_lines, true);
  run_console.tbstyle = opts.control.tbstyle;
  if (durations) run_console.terminal_summary = [&] { return durations->lines(); };
  auto console = report::make_console_reporter(std::move(run_console));
  std::unique_ptr<report::JunitReporter> junit;
  if (!opts.junitxml.empty()) {
    report::JunitOptions jo;
    jo.path = absolute_path(opts.junitxml);
    jo.prefix = opts.junit_prefix;
    std::vector<std::string> notes;
    if (auto ini = apply_junit_ini(selected.config, jo, notes); !ini) {
      std::fprintf(stderr, "ERROR: %s\n", ini.error().message.c_str());
      return kUsageError;
    }
    if (opts.verbosity > 0)
      for (const auto& n : notes) std::fprintf(stderr, "dx-py: %s\n", n.c_str());
    junit = report::make_junit_reporter(std::move(jo));
  }
  bool started = false;
  auto start_session = [&](const std::string& version) {
    if (started) return;
    started = true;
    info.python_version = version;
    console->on_session_start(info);
    console->on_collected(selected.tests.size() + selected.deselected, selected.errors, selected.deselected);
    if (junit) {
      junit->on_session_start(info);
      junit->on_collected(selected.tests.size() + selected.deselected, selected.errors, selected.deselected);
    }
    if (eo.inherit_output) std::fflush(stdout);  // -s: before the tests' own output
  };
  report::Summary summary;
  summary.collection_errors = selected.errors.size();
  summary.deselected = selected.deselected;
  Durations fresh;
  ExecEvents events;
  events.on_ready = start_session;
  if (opts.live_progress) {
    events.on_started = [&](uint32_t i) { console->on_test_started(selected.tests[i]); };
    events.on_tick = [&] { console->on_tick(); };
  }
  std::unordered_set<std::string> skipped_modules;
  // -x/--maxfail: failures and errors as pytest counts them; with
  // --continue-on-collection-errors the collection errors count first.
  uint64_t failures = selected.errors.size();
  const uint64_t maxfail = opts.control.maxfail;
  if (maxfail) events.stop_requested = [&] { return failures >= maxfail; };
  bool unbuffered = eo.inherit_output;  // -s: the workers write to the terminal too
  std::vector<std::string> worker_warnings;  // each distinct one, in the order first sent
  std::unordered_set<std::string> warned;
  events.on_result = [&](uint32_t i, TestResult&& r) {
    for (auto& w : r.worker_warnings)
      if (warned.insert(w).second) worker_warnings.push_back(std::move(w));
    if (durations) durations->record(r);
    if (maxfail && counts_as_failure(r)) ++failures;
    last_failed.record(i, selected.tests[i], r);
    snapshots.on_result(i, r.status == TestStatus::kPassed);
    if (report::is_runtime_deselected(r)) {
      ++summary.deselected;
      console->on_result(selected.tests[i], r);  // progress only
      return;
    }
    // A module skipped at import counts once, as pytest counts the skipped collection.
    if (report::is_flaky(r))
      ++summary.flaky;
    else if (!report::is_module_skip(r) || skipped_modules.insert(r.id.path).second)
      ++summary.counts[static_cast<int>(r.status)];
    if (!durations_path.empty() && r.status != TestStatus::kSkipped) {
      // Only tests slow enough for their order to matter are kept; one that got fast is
      // dropped from the file (a negative value asks save_durations to erase it).
      double secs = static_cast<double>(r.duration_ns) / 1e9;
      if (secs >= kRecordedSeconds) {
        fresh[r.id.node_id()] = secs;
      } else if (!known.empty()) {
        if (std::string id = r.id.node_id(); known.count(id)) fresh[id] = -1;
      }
    }
    console->on_result(selected.tests[i], r);
    if (junit) junit->on_result(selected.tests[i], r);
    if (unbuffered) std::fflush(stdout);
  };
  if (opts.verbosity > 0)
    events.on_note = [](const std::string& n) { std::fprintf(stderr, "dx-py: %s\n", n.c_str()); };

  eo.spares = opts.spares;
  ExecOutcome outcome = execute(selected.tests, eo, events);
  if (!outcome.fatal.empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "dx-py: error: %s\n", outcome.fatal.c_str());
    return kInternalError;
  }
  start_session("");  // nothing ran: the header still comes
  if (outcome.interrupted) {
    if (opts.interrupted_by) *opts.interrupted_by = outcome.signal;
    summary.interrupted = true;
    summary.interrupted_tests = outcome.in_flight.size();
    console->on_interrupted(outcome.signal == SIGTERM ? "SIGTERM" : "KeyboardInterrupt");
    for (uint32_t i : outcome.in_flight)
      std::printf("INTERRUPTED %s (it was running)\n", selected.tests[i].id.node_id().c_str());
    if (outcome.unfinished.size() > outcome.in_flight.size())
      std::printf("%zu tests did not run\n", outcome.unfinished.size() - outcome.in_flight.size());
  }
  if (maxfail && failures >= maxfail && !outcome.interrupted)
    summary.stop_reason = "stopping after " + std::to_string(failures) + " failures";
  const bool unused_snapshots_fail = report_snapshots(snapshots, selected, opts, outcome, summary);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bool junit_failed = false;
  if (junit) {
    junit->on_session_end(summary);
    if (junit->write_error()) {
      std::fprintf(stderr, "dx-py: error: cannot write the JUnit XML report: %s\n", junit->write_error()->message.c_str());
      junit_failed = true;
    }
  }
  console->on_session_end(summary);
  if (!worker_warnings.empty()) {
    std::fflush(stdout);
    for (const auto& w : worker_warnings) std::fprintf(stderr, "dx-py: warning: %s\n", w.c_str());
  }
  if (opts.spares && !outcome.interrupted) refill_spares(*opts.spares, eo);  // for the next round
  save_last_failed_changes(outcome.unfinished);
  if (junit_failed) return kInternalError;
  if (!fresh.empty()) {
    if (auto saved = save_durations(durations_path, fresh); !saved && opts.verbosity > 0)
      std::fprintf(stderr, "dx-py: durations not saved: %s\n", saved.error().message.c_str());
  }

  if (outcome.interrupted) return kInterrupted;
  if (selected.tests.empty() && selected.errors.empty()) return kNoTestsCollected;
  auto bad = summary.counts[static_cast<int>(TestStatus::kFailed)] + summary.counts[static_cast<int>(TestStatus::kError)] +
             summary.counts[static_cast<int>(TestStatus::kCrashed)] +
             summary.counts[static_cast<int>(TestStatus::kTimeout)] + summary.collection_errors;
  return bad || (summary.flaky && opts.control.fail_on_flaky) || unused_snapshots_fail ? kTestsFailed : kOk;
}

}  // namespace dxpy::session
