#pragma once
/// The live progress bar of a terminal run (as Vitest shows one): one status line below the
/// output, redrawn in place, with a bar, the counts so far, the time and the running tests.
///
///   [█████████░░░░░░░░░░░]  45/100  43 passed, 2 failed  1.3s  ▸ test_a.py::test_x (2.0s)
///
/// The console reporter owns one and draws it only on a terminal (terminal.h).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace dxpy::report {

struct LiveStatus {
  uint64_t done = 0, total = 0;
  uint64_t passed = 0, failed = 0, skipped = 0;  // failed: failed, error, crashed, timeout
  double seconds = 0;                            // since the start
  struct Running {
    std::string node_id;
    double seconds;  // since it began
  };
  std::vector<Running> running;  // oldest first
};

/// The status line, at most `width - 1` columns (a full line would make the terminal wrap).
std::string live_status_line(const LiveStatus& s, int width, bool color, bool utf8);

/// The tests running now, in the order they began.
class RunningTests {
 public:
  using Clock = std::chrono::steady_clock;
  void started(std::string node_id, Clock::time_point at);
  void finished(const std::string& node_id);
  std::vector<LiveStatus::Running> snapshot(Clock::time_point now) const;

 private:
  struct Entry {
    std::string node_id;
    Clock::time_point since;
  };
  std::vector<Entry> entries_;  // few: one per worker
};

}  // namespace dxpy::report
