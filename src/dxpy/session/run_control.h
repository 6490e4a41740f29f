#pragma once
/// Run-control flags with pytest's meaning (issue 8): -x/--maxfail, -s/--capture, --tb,
/// -l, --durations, --retries/--fail-on-flaky. What the session does with them beyond
/// passing them to the workers: counting failures for the stop, the "slowest durations"
/// section, and the flaky count.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dxpy/config/config.h"
#include "dxpy/core/types.h"
#include "dxpy/report/sink.h"

namespace dxpy::session {

struct RunControl {
  uint32_t maxfail = 0;          // -x: 1, --maxfail N; 0: run everything
  std::string capture = "fd";    // --capture: fd|sys|no|tee-sys; -s is no
  std::string tbstyle = "auto";  // --tb: auto|long|short|line|native|no
  bool showlocals = false;       // -l
  std::optional<int> durations;  // --durations N (0: all); unset: no section
  std::optional<double> durations_min;  // --durations-min S; unset: 0.005 (0 with -vv)
  std::optional<int> retries;    // --retries N; unset: [tool.dx-py] retries, else 0
  bool fail_on_flaky = false;
};

/// The retries of the run: --retries, else `[tool.dx-py] retries`, else 0. An invalid
/// config value is an error (a usage error for the caller).
Expected<int> effective_retries(const RunControl& rc, const config::Config& cfg);

/// `,"maxfail":1,...`: the run-control options appended to the workers' "options" object.
std::string run_control_json(const RunControl& rc, int retries);

/// The property under which the worker sends a test's setup, call and teardown durations
/// when --durations is on ("S C T" in nanoseconds); the session takes it out of the result.
inline constexpr std::string_view kPhasesProperty = "\x1f" "dx-py-phases";

/// Whether a result counts toward --maxfail, as pytest's `report.failed`: failures and
/// errors (setup, teardown, collection), crashes and timeouts; not xfail.
inline bool counts_as_failure(const TestResult& r) {
  return r.status == TestStatus::kFailed || r.status == TestStatus::kError || r.status == TestStatus::kCrashed ||
         r.status == TestStatus::kTimeout;
}

/// pytest's "slowest durations" section (runner.py's pytest_terminal_summary).
class DurationsReport {
 public:
  DurationsReport(int count, std::optional<double> min_seconds, int verbosity)
      : count_(count), min_given_(min_seconds.has_value()),
        min_(min_seconds ? *min_seconds : (verbosity >= 2 ? 0.0 : 0.005)) {}
  /// Takes the result's phases (kPhasesProperty, removed from it); without them the whole
  /// duration counts as the call.
  void record(TestResult& r);
  std::vector<std::string> lines() const;

 private:
  struct Entry {
    double seconds;
    const char* when;
    std::string node_id;
  };
  int count_;
  bool min_given_;
  double min_;
  std::vector<Entry> entries_;
};

}  // namespace dxpy::session
