#pragma once
/// Watch mode's event filtering and coalescing, as pure functions of paths and times so
/// that Property 9 (Watch Mode Filtering) can test them without a file system.
///
/// `ignored` says which paths never start a round: version-control and cache folders,
/// virtual environments, editor temporary files. The `Debouncer` turns a stream of
/// (path, time) events into batches: a batch is due once no event came for `quiet_ms`
/// (an editor's save is several events: write a temp file, rename, chmod), or `max_wait_ms`
/// after its first event however busy the stream (a steady stream still gets rounds).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dxpy::watch {

/// A folder name that is never watched: .git, .hg, .svn, .dx-py, __pycache__, .pytest_cache,
/// .mypy_cache, .ruff_cache, .tox, .nox, .venv, venv, node_modules, *.egg-info.
bool ignored_dir_name(std::string_view name);

/// A file name an editor or tool writes beside the real file: *.swp/*.swo/*.swx (vim),
/// *~ (backups), 4913 (vim's probe), .#* (emacs lock), #*# (emacs autosave), *.tmp,
/// *.kate-swp, *.pyc/*.pyo, .DS_Store.
bool ignored_file_name(std::string_view name);

/// `path` relative to the watched root ('/'-separated): ignored when one of its folders is
/// an ignored folder or its last component an ignored file name.
bool ignored(std::string_view relative_path);

struct DebounceOptions {
  int64_t quiet_ms = 20;
  int64_t max_wait_ms = 200;
};

class Debouncer {
 public:
  explicit Debouncer(DebounceOptions o = {}) : o_(o) {}

  /// An event on `path` (already filtered) at `now_ms` (monotonic).
  void add(std::string path, int64_t now_ms);
  /// The time at which poll() will return a batch; nullopt with nothing pending.
  std::optional<int64_t> deadline() const;
  /// The pending paths, sorted and each once, if the batch is due at `now_ms`; else empty
  /// (and the paths stay pending).
  std::vector<std::string> poll(int64_t now_ms);
  bool pending() const { return !paths_.empty(); }

 private:
  DebounceOptions o_;
  std::set<std::string> paths_;
  int64_t first_ = 0;
  int64_t last_ = 0;
};

}  // namespace dxpy::watch
