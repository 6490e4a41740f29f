#pragma once
/// The tests that failed last time, for --lf/--ff and for selections that add them
/// (--changed, --affected-by): `.dx-py/lastfailed`,
///   "dx-py lastfailed 1\n" {node id "\n"} "end <count>\n"
/// with the node ids sorted; a module that could not be collected is its path
/// ("tests/test_a.py"), as in pytest's `cache/lastfailed`. A file that is not whole (another
/// header, truncated, a count that does not match) is ignored as a whole, so that --lf runs
/// everything rather than some of the failures, and the next run rewrites it.
///
/// A run changes it as pytest's cacheprovider does: a test that passes or is skipped leaves,
/// one that fails, errors, crashes or times out enters (any bad result of the test in the run
/// counts, so a failed subtest keeps its test), one that did not run keeps its entry, a module
/// that could not be collected enters, and a module entry whose module collects again becomes
/// its tests. Unlike pytest, an entry for a test that no longer exists (its file is gone, or
/// collected and without it) leaves. The changes are merged under a lock with what the file
/// holds then, as durations are: concurrent runs of different tests keep both their results.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/core/types.h"
#include "dxpy/util/expected.h"

namespace dxpy::session {

using LastFailed = std::set<std::string, std::less<>>;
/// One run's changes: node id -> true (enters: it failed) or false (leaves).
using LastFailedChanges = std::map<std::string, bool, std::less<>>;

std::string format_last_failed(const LastFailed& ids);
/// std::nullopt when `text` is not a whole file of this format.
std::optional<LastFailed> parse_last_failed(std::string_view text);

/// `<cache_dir>/lastfailed`.
std::string last_failed_path(std::string_view cache_dir);

struct LastFailedFile {
  LastFailed ids;
  bool damaged = false;  // it exists but does not parse: ignored
};
/// A missing or unreadable file is empty and not damaged.
LastFailedFile read_last_failed(const std::string& path);

/// The last failures recorded in the cache folder `cache_dir` (`<rootdir>/.dx-py`): node ids
/// relative to the rootdir, and paths of modules that could not be collected. Empty when
/// there are none or the file is damaged.
LastFailed load_last_failed(std::string_view cache_dir);

void apply_changes(LastFailed& ids, const LastFailedChanges& changes);

/// Under the file's lock: reads it again, applies `changes`, and writes it atomically when
/// that changes it (or it was damaged). No file is created to hold nothing.
Expected<void> save_last_failed(const std::string& path, const LastFailedChanges& changes);

/// Failed, error, crashed, timeout: what --lf runs again.
bool is_failure(TestStatus s);

/// `id` without its "[param]": "a.py::T::t[1]" -> "a.py::T::t".
std::string_view node_base(std::string_view id);

/// Stored ids that static collection cannot settle: a parameter id it does not know, of a
/// function it does (parameters given at run time, ids renamed by parametrized fixtures, or
/// a parameter that is gone). The function's id ("a.py::test_p") -> how many tests static
/// collection has of it.
using RuntimeIds = std::map<std::string, uint32_t, std::less<>>;

/// One run's results, for the store.
class LastFailedRecorder {
 public:
  /// `known`: the entries as collection left them (collection_changes); it must outlive the
  /// recorder. A test that passes and that it does not hold changes nothing.
  explicit LastFailedRecorder(const LastFailed& known, RuntimeIds runtime = {})
      : known_(known), runtime_(std::move(runtime)) {}

  /// A result of tests[index], which may have several: parameters expanded at run time, a
  /// teardown error after a pass, failed subtests. Any bad one makes the test a failure.
  void record(uint32_t index, const TestCase& test, const TestResult& result);

  /// The run's changes: `collected` (collection_changes'), overridden by the results. When
  /// every test of a function in `runtime` ran to the end (its index not in `unfinished`),
  /// the ids `known` holds for the function that none of them produced leave.
  LastFailedChanges changes(LastFailedChanges collected, const std::vector<uint32_t>& unfinished) const;

 private:
  struct Function {
    std::set<uint32_t> tests;                         // that ran
    std::set<std::string, std::less<>> produced;      // the ids of their results
  };
  const LastFailed& known_;
  RuntimeIds runtime_;
  LastFailedChanges results_;
  std::map<std::string, Function, std::less<>> ran_;
};

// --- selection --------------------------------------------------------------------------

struct LastFailedOptions {
  bool last_failed = false;   // --lf
  bool failed_first = false;  // --ff
  /// --lfnf none: with no known failures, deselect every test (pytest's default: run all).
  bool none_without_failures = false;
  bool active() const { return last_failed || failed_first; }
};

/// A file of the collection, as the last-failed selection sees it.
struct CollectedFile {
  std::string path;       // rootdir-relative
  bool initpath = false;  // named on the command line: --lf keeps all its tests
  bool error = false;     // could not be collected
  /// The node ids of all its tests; filled only for files that the store names.
  std::vector<std::string> ids;
  /// Set by collection_changes: the store named it as a module that could not be collected.
  bool recollected = false;
};

/// A test the arguments asked for.
struct Candidate {
  TestCase test;
  uint32_t file = 0;     // index in the files
  bool selected = true;  // kept by -k and -m
};

/// Collection's share of the upkeep (pytest's pytest_collectreport): a module that could not
/// be collected enters; a module entry whose module collects becomes the module's tests; an
/// entry of a collected module that has no such test (not even under another parameter id),
/// or of a file that no longer exists under `rootdir`, leaves. Updates `known` and `changes`,
/// and gives the entries that only a run can settle in `runtime`.
void collection_changes(LastFailed& known, std::vector<CollectedFile>& files, const std::string& rootdir,
                        LastFailedChanges& changes, RuntimeIds& runtime);

struct LastFailedSelection {
  std::vector<TestCase> tests;  // to run: with --ff the previous failures first
  size_t failed_first = 0;      // with --ff: how many of `tests`, at the front, failed last time
  uint64_t deselected = 0;      // -k/-m's and --lf's
  /// pytest's "run-last-failure: STATUS" line: "rerun previous 2 failures (skipped 1 file)".
  std::string status;
};

/// pytest's --lf/--ff over a collection (`known` after collection_changes): with --lf, the
/// files that hold no known failure are skipped once one that holds one is collected, and a
/// file's other tests are left out unless the file was named or they are in a class (these
/// are deselected instead); with --ff the known failures go first. -k/-m apply before.
/// A known failure matches a test by its node id, or by its function when the stored id is
/// one of `runtime`'s: the whole function runs again.
LastFailedSelection select_last_failed(const LastFailed& known, const RuntimeIds& runtime,
                                       const std::vector<CollectedFile>& files, std::vector<Candidate> candidates,
                                       const LastFailedOptions& options);

}  // namespace dxpy::session
