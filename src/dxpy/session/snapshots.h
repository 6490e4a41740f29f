#pragma once
/// The orchestrator's part of snapshot testing (docs/snapshots.md). Workers check and write
/// entries themselves (python/dx_py_test_runner/snapshots.py, through snapshot::Store); each
/// leaves a record of what it matched, wrote and updated in the run's folder
/// `<cache folder>/snapshot-runs/<pid>/`. After the run the records give the closing line's counts
/// ("2 snapshots written") and, on a full run, the entries nothing used: reported, and
/// deleted with --update-snapshots. The records are binary (snapshot/store.h) and looked up
/// as views into the files' bytes; a .snap file's keys come from its fresh index row
/// (Store::fresh_row), so the files are not read again. A partial run never reports nor deletes unused entries.

#include <cstdint>
#include <string>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::session {

class SnapshotRun {
 public:
  /// Makes the records folder under the cache folder `cache_dir` (none when it is empty or
  /// the folder cannot be made: then nothing is reported).
  /// `snapshot_dir`: [tool.dx-py] snapshot_dir, rootdir-relative (empty: `__snapshots__`
  /// beside each test module).
  SnapshotRun(std::string rootdir, std::string cache_dir, std::string snapshot_dir = {});
  const std::string& snapshot_dir() const { return snapshot_dir_; }
  ~SnapshotRun();
  SnapshotRun(const SnapshotRun&) = delete;
  SnapshotRun& operator=(const SnapshotRun&) = delete;

  /// What the workers get as DXPY_CONFIG's "snapshots.records".
  const std::string& records_dir() const { return records_dir_; }

  /// Test `i` of the run gave a result: `passed` unless any of its results was something
  /// else (failed, skipped...), whose snapshots are never reported unused.
  void on_result(uint32_t i, bool passed);

  struct Report {
    uint64_t written = 0;
    uint64_t updated = 0;
    uint64_t deleted = 0;
    std::vector<std::string> unused;  // "path/__snapshots__/m.snap: node id | name"
    std::vector<std::string> errors;  // .snap files that could not be read or changed
    /// The closing line's words: "2 snapshots written", "1 snapshot unused".
    std::vector<std::string> words() const;
  };
  /// Reads the records and, when `full_run` and `reliable` (no crash, timeout, interrupt
  /// or collection error that would hide a use), finds the unused entries of the .snap
  /// files beside the run's test modules, and deletes them when `update`.
  Report finish(const std::vector<TestCase>& tests, bool full_run, bool reliable, bool update);

 private:
  std::string rootdir_;
  std::string cache_dir_;
  std::string snapshot_dir_;
  std::string records_dir_;
  std::vector<uint8_t> outcome_;  // per test: 0 no result, 1 passed, 2 another outcome
};

}  // namespace dxpy::session
