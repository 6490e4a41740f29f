#pragma once
/// The snapshots of one rootdir: the .snap files (snap_file.h) and their hash index
/// (index.h), read and changed safely by several workers at once.
///
/// Reads need no lock: files are replaced by rename, so a reader sees a whole old or new
/// file. Every change takes the exclusive flock `.dx-py/snapshots.lock`, reads the .snap
/// file again, applies its entries and writes the .snap file, then the index, both
/// atomically: two workers adding entries to the same file each see the other's (no lost
/// write). Writing the index is best effort: a row that missed a change is stale (the
/// .snap file's size, mtime or hash differ) and is rebuilt by the next reader.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dxpy/snapshot/index.h"
#include "dxpy/snapshot/snap_file.h"
#include "dxpy/util/expected.h"

namespace dxpy::snapshot {

/// `tests/test_x.py` -> `tests/__snapshots__/test_x.snap`; with a snapshot folder
/// (`snapshot_dir`, rootdir-relative: [tool.dx-py] snapshot_dir) the module's path under it:
/// `snaps/tests/test_x.snap`.
std::string snap_path_for(std::string_view test_path, std::string_view snapshot_dir = {});

using Key = std::pair<std::string, std::string>;  // (test, name)

class Store {
 public:
  /// `rootdir` absolute; the index and its lock live in the cache folder `cache_dir`
  /// ([tool.dx-py] cache_dir; empty: `rootdir/.dx-py/`).
  explicit Store(std::string rootdir, std::string cache_dir = {});

  std::string index_path() const;
  std::string lock_path() const;
  const std::string& rootdir() const { return rootdir_; }

  /// Every call below first refuses (kUsage) a `snap` that is not snap_path_is_safe or whose
  /// file, or deepest existing folder, resolves (symlinks followed) outside the rootdir: a
  /// cloned project's `__snapshots__` symlink must not make a run read or write elsewhere.
  Expected<void> check_inside(const std::string& snap) const;

  /// The value hashes of the .snap file at `snap` (rootdir-relative), from the index while
  /// its row is fresh; otherwise the file is parsed and the row rewritten. A missing file
  /// has none. kParse for a .snap file that cannot be parsed.
  Expected<std::vector<IndexedEntry>> hashes(const std::string& snap);
  /// The entries parsed from the file (a missing file has none).
  Expected<std::vector<Entry>> read(const std::string& snap);
  /// Under the lock: the file's current entries, with `put` set and `remove` taken out,
  /// written back (the file is deleted when no entry is left), then its index row. Returns
  /// the hashes after the change.
  Expected<std::vector<IndexedEntry>> update(const std::string& snap, std::vector<Entry> put,
                                             const std::vector<Key>& remove = {});

  /// The index row of `snap` when it is fresh (the .snap file's size and mtime are the
  /// row's), read in place from the index without decoding or copying: what a match and
  /// the orchestrator's unused check need. None when the row is missing or stale, or the
  /// file is gone: then hashes() rebuilds it.
  struct Row {
    std::shared_ptr<const IndexView> view;
    IndexView::File file;
  };
  std::optional<Row> fresh_row(const std::string& snap);

  /// Whether the last hashes() call read the .snap file (the index row was missing or
  /// stale), for tests and benchmarks.
  bool last_read_file() const { return last_read_file_; }

 private:
  /// The index as on disk (cached while its stat is unchanged); empty when missing or invalid.
  const Index& load_index();
  /// The same as a view (cached while its stat is unchanged); null when missing or invalid.
  std::shared_ptr<const IndexView> load_view();
  void save_row(const std::string& snap, const IndexedFile* row);
  Expected<IndexedFile> row_from_file(const std::string& snap, bool& missing);

  std::string rootdir_;
  std::string cache_dir_;
  uint64_t root_hash_;
  Index cached_;
  uint64_t cached_size_ = 0;
  int64_t cached_mtime_ = -1;
  uint64_t cached_ino_ = 0;
  std::shared_ptr<const IndexView> view_;
  uint64_t view_size_ = 0;
  int64_t view_mtime_ = -1;
  uint64_t view_ino_ = 0;
  bool last_read_file_ = false;
};

/// What one worker did with snapshots in a run, for the orchestrator (run records, one
/// file per worker), binary and append-only: a record `S u32 len PATH` names the .snap file
/// of the records after it (written only when it changes), then one record per use:
/// `K u32 test_len u32 name_len TEST NAME`, K = 'U' matched, 'W' written, 'C' updated
/// (integers little-endian). A record cut short (a crash) ends the parse.
enum class Use : char { kMatched = 'U', kWritten = 'W', kUpdated = 'C' };
struct UseRecord {
  Use use = Use::kMatched;
  std::string_view snap;  // views into the parsed buffer
  std::string_view test;
  std::string_view name;
  bool operator==(const UseRecord&) const = default;
};
class RecordWriter {
 public:
  void add(Use use, std::string_view snap, std::string_view test, std::string_view name);
  const std::string& bytes() const { return out_; }
  bool empty() const { return out_.empty(); }
  void clear() {
    out_.clear();
    snap_.clear();
    has_snap_ = false;
  }

 private:
  std::string out_;
  std::string snap_;
  bool has_snap_ = false;
};
std::vector<UseRecord> parse_records(std::string_view bytes);

}  // namespace dxpy::snapshot
