#pragma once
/// Running the selected tests in a pool of Python workers: the event loop that joins the
/// work-stealing Scheduler (exec), the worker processes (pool) and their channels
/// (protocol), and turns every way a worker can end into results.
///
/// One thread. It waits in epoll on each worker's channel wake-up socket and pidfd and on
/// a signalfd for SIGINT and SIGTERM, with a timeout at the nearest test deadline. Every
/// selected test gets exactly one result: from its worker, or `crashed` when its worker
/// died under it, or `timeout` when it ran past its deadline (the worker is then killed);
/// the dead worker is replaced and the rest of its work runs elsewhere. On SIGINT/SIGTERM
/// the workers are told to stop, killed after a grace period, and the tests without a
/// result are reported as interrupted.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::session {

struct SpareWorkers;  // spares.h

struct ExecOptions {
  std::string python;                // the workers' interpreter
  std::string rootdir;
  unsigned workers = 1;
  double timeout_seconds = 0;        // per test; 0: none (a `timeout` mark still applies)
  std::vector<std::string> preload;  // modules the workers import before the first test
  /// Expected duration of each test (same order as the tests), from an earlier run.
  std::vector<std::optional<double>> expected_seconds;
  uint32_t max_batch = 32;
  /// Run the tests in the order given (a conftest's pytest_collection_modifyitems ordered
  /// them, hook_order.h): a module's tests are a batch only where they are next to each other.
  bool keep_order = false;
  /// Handed to each worker in DXPY_CONFIG: the run's configuration as JSON (run.cpp).
  std::string worker_config;
  /// -s, --capture=no|sys|tee-sys: the workers' fds 1 and 2 are ours (the terminal), not
  /// capture files.
  bool inherit_output = false;
  /// Watch mode's warm workers (spares.h): taken instead of starting new ones when they
  /// match these options.
  SpareWorkers* spares = nullptr;
};

struct ExecEvents {
  /// The first worker said hello: its Python version. Before any result.
  std::function<void(const std::string& python_version)> on_ready;
  /// The one result of tests[index].
  std::function<void(uint32_t index, TestResult&& result)> on_result;
  /// tests[index] is now a worker's current test (may be called again for it). Optional:
  /// the live progress bar shows the running tests.
  std::function<void(uint32_t index)> on_started;
  /// Called on every turn of the event loop (at least every few milliseconds while tests
  /// run). Optional: the live progress bar redraws from it.
  std::function<void()> on_tick;
  /// A diagnostic for -v: a worker replaced, a stray message dropped.
  std::function<void(const std::string& note)> on_note;
  /// Asked after each result: true stops the run (-x, --maxfail). The workers are killed
  /// and reaped, and no result comes after that one, not even of tests already sent.
  std::function<bool()> stop_requested;
};

struct ExecOutcome {
  bool interrupted = false;
  int signal = 0;                      // SIGINT or SIGTERM when interrupted
  std::vector<uint32_t> unfinished;    // interrupted: the tests without a result
  std::vector<uint32_t> in_flight;     // interrupted: of those, the ones running then
  bool stopped = false;                // stop_requested said so; `unfinished` is set too
  std::string fatal;                   // non-empty: the pool could not run (no worker started)
  uint32_t workers_started = 0;        // processes spawned, replacements included
};

/// Runs `tests` (whose `file` is set) and reports each result through `events`.
ExecOutcome execute(const std::vector<TestCase>& tests, const ExecOptions& options, const ExecEvents& events);

/// The timeout of a test in seconds: its `timeout` mark, else `default_seconds` (0: none).
double test_timeout(const TestCase& tc, double default_seconds);

}  // namespace dxpy::session
