#include "dxpy/session/cache_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>

#include "dxpy/util/fs.h"

namespace dxpy::session {

namespace {

// write_file_atomic's temp names: the target, ".tmp.", then mkstemp's six characters.
bool is_temp_name(std::string_view name) {
  const size_t at = name.rfind(".tmp.");
  return at != std::string_view::npos && at > 0 && name.size() - at == 5 + 6;
}

}  // namespace

std::string open_cache_dir(const std::string& dir, std::vector<std::string>& notes) {
  // The parents of a configured folder (`cache_dir = "build/dx-cache"`), one level at a time.
  for (size_t at = dir.find('/', 1); at != std::string::npos; at = dir.find('/', at + 1)) {
    std::string parent = dir.substr(0, at);
    if (::mkdir(parent.c_str(), 0777) != 0 && errno != EEXIST) {
      notes.push_back("no cache: cannot create " + parent + ": " + std::strerror(errno));
      return "";
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    notes.push_back("no cache: cannot create " + dir + ": " + std::strerror(errno));
    return "";
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    notes.push_back("no cache: " + dir + " is not a folder");
    return "";
  }
  if (st.st_uid != ::geteuid()) {
    notes.push_back("no cache: " + dir + " belongs to another user (uid " + std::to_string(st.st_uid) + ")");
    return "";
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    notes.push_back("no cache: " + dir + " can be written by other users (chmod go-w to use it)");
    return "";
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    notes.push_back("no cache: " + dir + " is not writable: " + std::strerror(errno));
    return "";
  }
  remove_stale_temp_files(dir, kStaleTempSeconds);
  return dir;
}

size_t remove_stale_temp_files(const std::string& dir, int age_seconds) {
  const time_t now = ::time(nullptr);
  size_t removed = 0;
  for (const std::string& name : list_dir(dir)) {
    if (!is_temp_name(name)) continue;
    const std::string path = join_path(dir, name);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (now - st.st_mtime <= age_seconds) continue;  // perhaps a live run's, about to be renamed
    if (::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace dxpy::session
