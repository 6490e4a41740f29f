#pragma once
/// Collection with the .dxti index: a file is parsed again only when its size or mtime
/// changed and its BLAKE3 content hash differs. Parsing runs on every core.

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <memory>
#include <optional>
#include <thread>

#include "dxpy/core/types.h"
#include "dxpy/index/dxti.h"
#include "dxpy/discovery/rules.h"

namespace dxpy::session {

struct CollectOptions {
  std::string rootdir;             // absolute
  std::vector<std::string> files;  // absolute paths of the modules to collect
  discovery::NameRules rules;
  std::string index_path;  // empty: no index (read-only project, or disabled)
  unsigned threads = 0;    // 0: the number of cores
  /// Listing only: a record taken unchanged from the index is not decoded; its node ids are
  /// read from the index's test table (Collected::index_rows).
  bool ids_only = false;
};

struct CollectStats {
  size_t reused = 0;    // taken from the index, unchanged
  size_t rehashed = 0;  // touched but identical content
  size_t parsed = 0;
  bool index_written = false;
};

struct Collected {
  std::vector<FileRecord> records;  // one per file, in the order given
  std::vector<std::string> notes;   // for -v: why the index was ignored or not written
  CollectStats stats;
  /// With ids_only: the index row of each record left undecoded (its `tests` are empty),
  /// and the index those rows belong to, kept mapped for as long as this lives.
  std::vector<std::optional<size_t>> index_rows;
  std::shared_ptr<const index::IndexReader> index;
  /// With ids_only: the records parsed in this run, encoded for the index (one slot per
  /// record); where ids_in_prepared[i], record i's `tests` were dropped once encoded and
  /// its node ids are prepared[i]'s.
  std::vector<index::PreparedRecord> prepared;
  std::vector<char> ids_in_prepared;
  std::vector<std::unique_ptr<index::RecordArena>> arenas;  // what `prepared` points into
  /// With ids_only: every record's node ids, a file at a time, in order. They point into
  /// `index`, `arenas`, `records` (paths) or `owned_tails` and `owned_ends` (of records whose
  /// tests are whole).
  std::vector<ListedFile> listed;
  std::deque<std::string> owned_tails;
  std::deque<std::vector<uint32_t>> owned_ends;
  /// With ids_only: the thread writing the index, if it needs writing. It reads `records`,
  /// `prepared`, `arenas` and `index` (their elements, which stay in place when the vectors
  /// are moved): whoever takes it must keep those alive until it is joined. Declared last,
  /// so that it is joined first when this is destroyed.
  std::jthread index_writer;
};

Collected collect_files(const CollectOptions& opts);

}  // namespace dxpy::session
