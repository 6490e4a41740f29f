#pragma once
/// The file system side of watch mode: one inotify instance over a folder tree.
///
/// Every folder under the root is watched except ignored ones (debounce.h's
/// ignored_dir_name, and virtual environments: a folder holding pyvenv.cfg); symlinked
/// folders are not followed. A folder created later is watched as soon as its creation is
/// read, and the files already in it are reported (they may have been written before the
/// watch was in place). Events: a file written and closed, created, deleted, moved in or
/// out; a folder created, deleted or moved. An overflowed queue reports the root itself
/// (the caller then looks at everything).

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::watch {

class Watcher {
 public:
  /// Watches `root` (an absolute folder) and the folders below it.
  static Expected<std::unique_ptr<Watcher>> open(const std::string& root);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  /// Readable when events wait (non-blocking, close-on-exec): for an epoll set.
  int fd() const { return fd_; }
  /// Reads every waiting event; the absolute paths they name (ignored names left out), in
  /// the order read, possibly repeated. Never blocks.
  std::vector<std::string> read_events();
  size_t watched_folders() const { return dirs_.size(); }
  const std::string& root() const { return root_; }

 private:
  Watcher() = default;
  /// Watches `dir` and the folders below it; appends the files found to `found` if given.
  void add_tree(const std::string& dir, std::vector<std::string>* found);
  int fd_ = -1;
  std::string root_;
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> absolute folder
};

}  // namespace dxpy::watch
