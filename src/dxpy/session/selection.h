#pragma once
/// From the command line to the list of tests to run: configuration (rootdir, ini
/// options), positional arguments (paths, node ids, glob patterns), collection through the
/// index, then -k and -m.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "dxpy/config/config.h"
#include "dxpy/core/types.h"
#include "dxpy/report/sink.h"
#include "dxpy/session/lastfailed.h"
#include "dxpy/util/expected.h"

namespace dxpy::graph {
class ImportGraph;
}

namespace dxpy::session {

struct SelectionRequest {
  std::vector<std::string> args;  // positional: paths, node ids, glob patterns
  std::string inifile;            // -c
  std::string rootdir;            // --rootdir
  std::string keyword;            // -k
  std::string markexpr;           // -m
  bool use_cache = true;
  /// The caller only lists node ids: tests may then carry nothing but their id.
  bool ids_only = false;
  /// The configuration for `args`, `inifile` and `rootdir`, if already loaded; else the
  /// config files are found and read here.
  std::optional<config::Config> config;
  /// --lf, --ff, --lfnf (lastfailed.h). The store is read and its changes made in any case.
  LastFailedOptions last_failed;
  /// --affected-by FILE... (absolute or relative to the working folder) and --changed [REF]
  /// (git's changes in the working tree and index since REF, "" for HEAD, untracked files
  /// too): only the tests whose files depend on these paths through the import graph
  /// (graph/), plus the last failures; the others are deselected. Unset: no such filter.
  std::optional<std::vector<std::string>> affected_by;
  std::optional<std::string> changed_ref;
  /// Watch mode's import graph, kept up to date path by path: used as it is by
  /// --affected-by instead of loading and walking (null: load_synced_graph).
  graph::ImportGraph* graph = nullptr;
};

struct Selection {
  config::Config config;
  std::vector<TestCase> tests;
  std::vector<report::CollectionError> errors;
  uint64_t deselected = 0;
  std::vector<std::string> notes;  // for -v
  /// Listing (ids_only with nothing to filter): the node ids in order, instead of `tests`.
  /// They point into the index's mapping or into strings that `listing_storage` keeps.
  bool listing = false;
  std::vector<ListedFile> listed;  // a file at a time
  std::shared_ptr<const void> listing_storage;  // see wait_for_index_writer
  /// The last failures (lastfailed.h), except when listing: the store's path (empty without
  /// a cache folder), its entries as collection left them and the changes collection made;
  /// with --lf/--ff, pytest's "run-last-failure" status and, with --ff, how many tests at
  /// the front of `tests` failed last time.
  std::string last_failed_path;
  /// The cache folder as open_cache_dir() opened it; empty when there is none usable.
  std::string cache_dir;
  LastFailed last_failed;
  LastFailedChanges last_failed_changes;
  RuntimeIds last_failed_runtime;
  bool last_failed_damaged = false;  // the store did not parse: rewritten after the run
  std::string last_failed_status;
  size_t failed_first = 0;
};

/// The import graph for `cfg`: the cached one (`cache`/graph.dxig, `cache` empty: none)
/// brought up to date with the files on disk and saved back when it changed; notes for -v.
graph::ImportGraph load_synced_graph(const config::Config& cfg, const std::string& cache,
                                     std::vector<std::string>& notes);

/// kUsage for what pytest calls a usage error: a bad config file, a missing path, a bad
/// -k or -m expression.
Expected<Selection> select_tests(const SelectionRequest& req);

/// Listing: waits until the index that collection left being written is written (a
/// listing's storage also waits when it is destroyed).
void wait_for_index_writer(const Selection& selection);

}  // namespace dxpy::session
