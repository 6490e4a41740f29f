#pragma once
/// An advisory flock(2) on a side file, `<index>.lock`, so that two runs starting at once
/// do not both rebuild the same index. Consistency never depends on it: the index is
/// replaced by rename, so a reader without the lock still sees a whole old or new file.
///
/// The protocol for one run:
///   1. shared lock; IndexReader::open; unlock. Fresh and valid: use it.
///   2. exclusive lock; open again, since another run may have rebuilt it while we waited;
///      still stale or invalid: rebuild, write_index, unlock.
/// flock cannot upgrade shared to exclusive atomically, hence the second open.
///
/// flock locks belong to the open file description: two FileLocks on the same path in one
/// process conflict like two processes do, and a lock is dropped when its holder dies.
/// A forked child shares the lock until it execs (the fd is O_CLOEXEC), so hold it only
/// around the open or the rebuild, not across spawning workers.
/// The lock file is never deleted: unlinking it would let a later run lock a new inode
/// while an older run still holds the old one.

#include <optional>
#include <string>
#include <string_view>

#include "dxpy/util/expected.h"

namespace dxpy::index {

/// `<index_path>.lock`.
std::string lock_path_for(std::string_view index_path);

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };

  /// Waits until the lock is held; creates the lock file if missing. kIo on failure.
  static Expected<FileLock> acquire(const std::string& lock_path, Mode mode);
  /// Never waits: std::nullopt when another holder's lock conflicts.
  static Expected<std::optional<FileLock>> try_acquire(const std::string& lock_path, Mode mode);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  Mode mode() const { return mode_; }
  bool held() const { return fd_ >= 0; }
  /// Releases early; the destructor does nothing afterwards.
  void unlock();

 private:
  FileLock(int fd, Mode mode) : fd_(fd), mode_(mode) {}
  int fd_ = -1;
  Mode mode_ = Mode::kShared;
};

}  // namespace dxpy::index
