#pragma once
/// One worker's snapshot checks, for dx.snapshot() (python/dx_py_test_runner/snapshots.py):
/// the per-snapshot work is one call here. A .snap file's stored hashes are looked up in
/// place in the index (Store::fresh_row: no decoding, no copy, the .snap file not opened);
/// a stale row is rebuilt from the file once (Store::hashes) and held here, as are the
/// hashes after a write. What the worker matched, wrote and updated goes into one binary
/// buffer (RecordWriter), written to the run's folder when the worker exits.
///
/// Writes can be deferred (set_deferred): the entries of one .snap file are then held and
/// written together by flush() (one lock, one file write, one index write for the lot,
/// still atomic and merged under the lock as Store::update), which runs when a check or a
/// write goes to another .snap file and at the worker's end. The held entries count at once
/// for checks and for the value shown on a mismatch.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dxpy/snapshot/store.h"

namespace dxpy::snapshot {

class Checker {
 public:
  /// `cache_dir`: as Store's (empty: `rootdir/.dx-py`).
  explicit Checker(std::string rootdir, std::string cache_dir = {})
      : store_(std::move(rootdir), std::move(cache_dir)) {}

  Store& store() { return store_; }

  enum class Outcome { kMatched = 0, kMissing = 1, kDiffers = 2 };
  /// Whether `snap`'s hashes are loaded (a check then touches no file).
  bool loaded(std::string_view snap) const { return files_.find(snap) != files_.end(); }
  /// Loads `snap`'s hashes (kParse for a .snap file that does not parse, kIo).
  Expected<void> load(const std::string& snap);
  /// BLAKE3 of `value` against the stored hash of (test, name) in `snap` (loaded first when
  /// needed). A match is recorded as a use.
  Expected<Outcome> check(std::string_view snap, std::string_view test, std::string_view name,
                          std::string_view value);
  /// Sets (test, name) = `value` in `snap` (Store::update: locked, file then index) and
  /// records it as `use` (kWritten or kUpdated); deferred, it is held until flush().
  Expected<void> write(const std::string& snap, std::string test, std::string name, std::string value, Use use);
  void set_deferred(bool deferred) { deferred_ = deferred; }
  /// Writes the held entries (and records them); on an error they are dropped.
  Expected<void> flush();
  size_t pending() const { return pending_.size(); }
  /// The stored value of (test, name): a held one, else the .snap file's (none when absent).
  Expected<std::optional<std::string>> stored_value(const std::string& snap, std::string_view test,
                                                    std::string_view name);
  /// Records a use without a check (a mismatch is still a use).
  void record(Use use, std::string_view snap, std::string_view test, std::string_view name) {
    records_.add(use, snap, test, name);
  }
  /// Forgets `snap`'s hashes: the next check loads them again.
  void forget(std::string_view snap) {
    if (auto it = files_.find(snap); it != files_.end()) files_.erase(it);
  }  // held entries are laid over the hashes loaded again

  const RecordWriter& records() const { return records_; }
  void clear_records() { records_.clear(); }

 private:
  struct Hashes {
    std::shared_ptr<const IndexView> view;  // the fresh index row, read in place
    IndexView::File file;
    std::vector<IndexedEntry> owned;  // else these, sorted by (test, name)
    const uint8_t* find(std::string_view test, std::string_view name) const;
    /// Sets the hash of (test, name), copying a view's row out first.
    void set(std::string_view test, std::string_view name, const Hash256& hash);
  };

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Store store_;
  std::unordered_map<std::string, Hashes, StringHash, std::equal_to<>> files_;
  RecordWriter records_;
  bool deferred_ = false;
  std::string pending_snap_;
  std::vector<Entry> pending_;
  std::vector<Use> pending_uses_;
};

}  // namespace dxpy::snapshot
