#include "dxpy/index/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace dxpy::index {

std::string lock_path_for(std::string_view index_path) { return std::string(index_path) + ".lock"; }

namespace {

// The fd and whether the lock was taken; the fd is closed when it was not.
Expected<std::optional<int>> lock_fd(const std::string& lock_path, FileLock::Mode mode, bool wait) {
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return make_error(Errc::kIo, "cannot open lock file " + lock_path + ": " + std::strerror(errno));
  int op = (mode == FileLock::Mode::kExclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
  int rc;
  do {
    rc = ::flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return std::optional<int>(fd);
  int err = errno;
  ::close(fd);
  if (!wait && err == EWOULDBLOCK) return std::optional<int>();
  return make_error(Errc::kIo, "cannot lock " + lock_path + ": " + std::strerror(err));
}

}  // namespace

Expected<FileLock> FileLock::acquire(const std::string& lock_path, Mode mode) {
  DXPY_TRY(std::optional<int> fd, lock_fd(lock_path, mode, /*wait=*/true));
  DXPY_CHECK(fd.has_value());  // a waiting flock either succeeds or fails
  return FileLock(*fd, mode);
}

Expected<std::optional<FileLock>> FileLock::try_acquire(const std::string& lock_path, Mode mode) {
  DXPY_TRY(std::optional<int> fd, lock_fd(lock_path, mode, /*wait=*/false));
  if (!fd) return std::optional<FileLock>();
  return std::optional<FileLock>(FileLock(*fd, mode));
}

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), mode_(other.mode_) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    unlock();
    fd_ = std::exchange(other.fd_, -1);
    mode_ = other.mode_;
  }
  return *this;
}

FileLock::~FileLock() { unlock(); }

void FileLock::unlock() {
  // Closing the only descriptor of the open file description releases the flock.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace dxpy::index
