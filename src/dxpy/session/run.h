#pragma once
/// One `dx-py test` run: discover -> select -> run in a pool of workers -> report.

#include <optional>
#include <string>
#include <vector>

#include "dxpy/config/config.h"
#include "dxpy/session/lastfailed.h"
#include "dxpy/session/run_control.h"

namespace dxpy::graph {
class ImportGraph;
}

namespace dxpy::session {

struct SpareWorkers;  // spares.h

/// pytest's exit codes.
enum ExitCode : int {
  kOk = 0,
  kTestsFailed = 1,
  kInterrupted = 2,
  kInternalError = 3,
  kUsageError = 4,
  kNoTestsCollected = 5,
};

struct RunOptions {
  std::vector<std::string> paths;  // files, folders or node ids; empty: the rootdir
  int verbosity = 0;
  bool color = false;
  /// --ci: no colour, no live progress, nothing interactive. Snapshots read it too: in CI a
  /// missing or changed snapshot is a failure, never written.
  bool ci = false;
  bool live_progress = false;  // a terminal: the console redraws a progress bar (report/live.h)
  bool utf8 = true;            // the terminal takes UTF-8
  int width = 80;              // terminal columns (report/terminal.h)
  bool collect_only = false;
  /// Set by the CLI for a one-shot run: --collect-only then ends the process (std::_Exit)
  /// once its output is flushed and the index written, instead of freeing what it built,
  /// which cost a tenth of a cold listing of 20,000 tests. Callers that go on after
  /// run_tests (tests, embedding) leave it off.
  bool exit_when_collected = false;
  std::string python;  // worker interpreter; empty: the active venv's
  std::string rootdir;   // --rootdir; empty: pytest's rules decide
  std::string inifile;   // -c
  std::string keyword;   // -k
  std::string markexpr;  // -m
  int workers = 0;               // -n; 0: [tool.dx-py] workers, else one per core; -1: -n auto
  double timeout_seconds = -1;   // --timeout; 0: none; negative: [tool.dx-py] timeout, else none
  std::string junitxml;          // --junit-xml PATH; empty: none
  std::string junit_prefix;      // --junit-prefix
  bool continue_on_collection_errors = false;
  bool strict_markers = false;  // --strict-markers
  LastFailedOptions last_failed;  // --lf, --ff, --lfnf
  std::optional<std::vector<std::string>> affected_by;  // --affected-by FILE... (selection.h)
  std::optional<std::string> changed_ref;                // --changed [REF]
  RunControl control;  // -x, --maxfail, -s, --capture, --tb, -l, --durations, --retries
  bool update_snapshots = false;  // -u: write changed snapshots; delete unused ones on a full run
  std::optional<std::string> shard;  // --shard K/N (session/shard.h); unset: every test
  /// Every word parsed (addopts, then the command line): the workers find the options of
  /// a conftest's pytest_addoption there.
  std::vector<std::string> command_line;
  /// The configuration for `paths`, `inifile` and `rootdir` when the caller has loaded it
  /// already (the CLI does, for addopts); else it is loaded here.
  std::optional<config::Config> config;
  graph::ImportGraph* graph = nullptr;   // watch mode's graph (SelectionRequest::graph)
  int* interrupted_by = nullptr;         // set to SIGINT/SIGTERM when a signal ended the run
  SpareWorkers* spares = nullptr;        // watch mode's warm workers: used, then refilled
};

int run_tests(const RunOptions& opts);

/// The interpreter workers run: $VIRTUAL_ENV/bin/python, else the python beside the
/// dx-py executable (as in a venv's bin/), else python3 from PATH.
std::string default_python();

}  // namespace dxpy::session
