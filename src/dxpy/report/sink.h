#pragma once
/// Reporters listen to a run: the session calls them in order, from one thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::report {

/// How the worker's message for a teardown error begins: pytest reports a fixture that fails
/// after the test as an error of its own ("1 passed, 1 error"), so the worker sends it as a
/// second result of the test, with the message `failed on teardown with "REASON"`.
inline constexpr std::string_view kTeardownErrorPrefix = "failed on teardown with ";

/// The worker's message for a test that a conftest's pytest_collection_modifyitems left out
/// (known only at run time): pytest counts it as deselected and reports no outcome for it.
inline constexpr std::string_view kDeselectedMessage = "deselected by pytest_collection_modifyitems";

inline bool is_runtime_deselected(const TestResult& r) {
  return r.status == TestStatus::kSkipped && r.message == kDeselectedMessage;
}

/// How the worker's traceback of a failed subtest begins: pytest 9 reports each failed
/// subtest (unittest's subTest, the subtests fixture) as a failure of its own, named
/// "SUBFAILED" + its description ("SUBFAILED[msg] (i=2)"); the first line of the traceback
/// is that name, the rest the failure's traceback. The test's own result follows.
inline constexpr std::string_view kSubtestMarker = "SUBFAILED";

inline bool is_subtest_failure(const TestResult& r) {
  return r.status == TestStatus::kFailed && r.traceback.compare(0, kSubtestMarker.size(), kSubtestMarker) == 0;
}
/// "[msg] (i=2)" of a failed subtest's result.
inline std::string_view subtest_description(const TestResult& r) {
  std::string_view tb(r.traceback);
  return tb.substr(kSubtestMarker.size(), tb.find('\n') == std::string_view::npos ? std::string_view::npos
                                                                                   : tb.find('\n') - kSubtestMarker.size());
}
/// The failure's own traceback, without the first line.
inline std::string_view subtest_traceback(const TestResult& r) {
  std::string_view tb(r.traceback);
  size_t nl = tb.find('\n');
  return nl == std::string_view::npos ? std::string_view() : tb.substr(nl + 1);
}

/// How the worker's traceback of a test skipped at module level (pytest.skip(...,
/// allow_module_level=True), importorskip at import) begins: pytest reports the module once,
/// as a skipped collection, so the reporters count and show one such result per module (JUnit:
/// one testcase).
inline constexpr std::string_view kModuleSkipMarker = "collection skipped\n";

inline bool is_module_skip(const TestResult& r) {
  return r.status == TestStatus::kSkipped && r.traceback.compare(0, kModuleSkipMarker.size(), kModuleSkipMarker) == 0;
}

inline bool is_teardown_error(const TestResult& r) {
  return r.status == TestStatus::kError && r.message.compare(0, kTeardownErrorPrefix.size(), kTeardownErrorPrefix) == 0;
}

/// How the worker marks a test that failed and then passed on a retry (--retries): a passed
/// result whose message begins so ("flaky: passed on run 2 of 3"). It is counted as flaky,
/// not passed.
inline constexpr std::string_view kFlakyPrefix = "flaky: ";

inline bool is_flaky(const TestResult& r) {
  return r.status == TestStatus::kPassed && r.message.compare(0, kFlakyPrefix.size(), kFlakyPrefix) == 0;
}

struct SessionInfo {
  std::string rootdir;
  std::string python_version;  // of the workers, "3.11.7"
  std::string dxpy_version;
  std::vector<std::string> configfile;  // empty when none
};

struct CollectionError {
  std::string path;  // rootdir-relative
  std::string message;
  std::string longrepr;
};

struct Summary {
  uint64_t counts[kTestStatusCount] = {};
  uint64_t collection_errors = 0;
  uint64_t deselected = 0;
  double seconds = 0;
  bool interrupted = false;
  uint64_t interrupted_tests = 0;  // running when the run was stopped: no result
  uint64_t flaky = 0;              // passed on a retry (not in counts[kPassed])
  std::string stop_reason;         // -x/--maxfail: "stopping after 1 failures"
  std::vector<std::string> extra;  // after pytest's words: "2 snapshots written"
};

class ReportSink {
 public:
  virtual ~ReportSink() = default;
  virtual void on_session_start(const SessionInfo&) {}
  /// `items` counts every collected item, `deselected` of them are not run (-k, -m).
  virtual void on_collected(uint64_t /*items*/, const std::vector<CollectionError>& /*errors*/,
                            uint64_t /*deselected*/) {}
  virtual void on_result(const TestCase&, const TestResult&) {}
  /// A test began on a worker, and time passes (a few times a second or more): sent only
  /// when the console draws a live progress bar.
  virtual void on_test_started(const TestCase&) {}
  virtual void on_tick() {}
  /// The run was stopped by a signal: `what` is "KeyboardInterrupt" or "SIGTERM".
  virtual void on_interrupted(const std::string& /*what*/) {}
  virtual void on_session_end(const Summary&) {}
};

/// The closing words of pytest's summary line: "1 failed, 2 passed in 0.12s".
std::string summary_words(const Summary& s);

}  // namespace dxpy::report
