#pragma once
/// Reporters listen to a run: the session calls them in order, from one thread.

#include <cstdint>
#include <string>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::report {

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
};

class ReportSink {
 public:
  virtual ~ReportSink() = default;
  virtual void on_session_start(const SessionInfo&) {}
  /// `items` counts every collected item, `deselected` of them are not run (-k, -m).
  virtual void on_collected(uint64_t /*items*/, const std::vector<CollectionError>& /*errors*/,
                            uint64_t /*deselected*/) {}
  virtual void on_result(const TestCase&, const TestResult&) {}
  /// The run was stopped by a signal: `what` is "KeyboardInterrupt" or "SIGTERM".
  virtual void on_interrupted(const std::string& /*what*/) {}
  virtual void on_session_end(const Summary&) {}
};

/// The closing words of pytest's summary line: "1 failed, 2 passed in 0.12s".
std::string summary_words(const Summary& s);

}  // namespace dxpy::report
