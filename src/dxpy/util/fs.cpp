#include "dxpy/util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <vector>

namespace dxpy {

namespace {
Unexpected<Error> io_error(const std::string& what, const std::string& path) {
  return make_error(Errc::kIo, what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

Expected<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path);
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = io_error("cannot read", path);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Expected<void> read_file_into(const std::string& path, std::string& out, FileStat* stat) {
  return read_file_at(AT_FDCWD, path.c_str(), path, out, stat);
}

Expected<void> read_file_at(int dir_fd, const char* name, const std::string& path, std::string& out, FileStat* stat) {
  out.clear();
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path);
  struct stat st {};
  size_t want = 1 << 16;
  bool regular = false;
  if (::fstat(fd, &st) == 0) {
    regular = S_ISREG(st.st_mode);
    if (stat) {
      stat->size = static_cast<uint64_t>(st.st_size);
      stat->mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
      stat->is_dir = S_ISDIR(st.st_mode);
      stat->is_file = S_ISREG(st.st_mode);
    }
    // One byte more than the size: a short read then proves the end of the file.
    if (st.st_size > 0) want = static_cast<size_t>(st.st_size) + 1;
  }
  size_t used = 0;
  for (;;) {
    if (out.size() < used + want) out.resize(used + want);
    ssize_t n = ::read(fd, out.data() + used, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = io_error("cannot read", path);
      ::close(fd);
      out.clear();
      return e;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (regular && static_cast<size_t>(n) < want) break;  // a regular file reads short only at its end
    want = std::max<size_t>(want, 1 << 16);
  }
  out.resize(used);
  ::close(fd);
  if (stat) stat->size = used;
  return {};
}

Expected<void> write_file_atomic(const std::string& path, std::string_view data, Durability durability) {
  return write_file_atomic_pieces(path, std::vector<std::string_view>{data}, durability);
}

namespace {

// Writes `pieces` at `offset` on, as many at a time as writev takes; a short write resumes
// mid-piece. 0, or the errno of the failed write.
int write_all_at(int fd, const std::string_view* pieces, size_t count, off_t offset) {
  std::vector<struct iovec> iov;
  iov.reserve(std::min<size_t>(count, IOV_MAX));
  size_t next = 0;  // the first piece not yet queued
  for (;;) {
    while (iov.size() < IOV_MAX && next < count) {
      std::string_view p = pieces[next++];
      if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
    }
    if (iov.empty()) return 0;
    ssize_t n = ::pwritev(fd, iov.data(), static_cast<int>(iov.size()), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    offset += n;
    // Drop what was written: whole pieces, then the front of a partly written one.
    auto left = static_cast<size_t>(n);
    size_t k = 0;
    while (k < iov.size() && left >= iov[k].iov_len) left -= iov[k++].iov_len;
    iov.erase(iov.begin(), iov.begin() + static_cast<std::ptrdiff_t>(k));
    if (left > 0) {
      iov.front().iov_base = static_cast<char*>(iov.front().iov_base) + left;
      iov.front().iov_len -= left;
    }
  }
}

}  // namespace

Expected<void> write_file_atomic_pieces(const std::string& path, const std::vector<std::string_view>& pieces,
                                        Durability durability, const std::function<void()>& finish_first) {
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) {
    auto e = io_error("cannot create a temp file for", path);
    if (finish_first) finish_first();
    return e;
  }
  // Blocks reserved at once for a large file: writing into them costs less than
  // allocating as it goes. Linux's fallocate, not posix_fallocate, which would write zeros
  // where the file system cannot; and only a hint, so its failure does not matter.
  size_t total = 0;
  for (std::string_view p : pieces) total += p.size();
  if (total >= (size_t{1} << 20)) (void)::fallocate(fd, 0, 0, static_cast<off_t>(total));
  int err;
  if (finish_first && !pieces.empty()) {
    err = write_all_at(fd, pieces.data() + 1, pieces.size() - 1, static_cast<off_t>(pieces[0].size()));
    finish_first();
    if (err == 0) err = write_all_at(fd, pieces.data(), 1, 0);
  } else {
    if (finish_first) finish_first();
    err = write_all_at(fd, pieces.data(), pieces.size(), 0);
  }
  if (err != 0) {
    errno = err;
    auto e = io_error("cannot write", path);
    ::close(fd);
    ::unlink(name.data());
    return e;
  }
  if ((durability == Durability::kDurable && ::fsync(fd) != 0) || ::close(fd) != 0) {
    auto e = io_error("cannot flush", path);
    ::unlink(name.data());
    return e;
  }
  if (::rename(name.data(), path.c_str()) != 0) {
    auto e = io_error("cannot rename into", path);
    ::unlink(name.data());
    return e;
  }
  return {};
}

Expected<FileStat> stat_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(Errc::kNotFound, path + ": " + std::strerror(errno));
  FileStat out;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  out.is_dir = S_ISDIR(st.st_mode);
  out.is_file = S_ISREG(st.st_mode);
  return out;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") out.emplace_back(name);
  }
  ::closedir(d);
  return out;
}

std::string_view dirname(std::string_view path) {
  auto pos = path.rfind('/');
  if (pos == std::string_view::npos) return "";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string_view basename(std::string_view path) {
  auto pos = path.rfind('/');
  return pos == std::string_view::npos ? path : path.substr(pos + 1);
}

std::string join_path(std::string_view a, std::string_view b) {
  if (a.empty() || (!b.empty() && b.front() == '/')) return std::string(b);
  std::string out(a);
  if (out.back() != '/') out.push_back('/');
  out.append(b);
  return out;
}

std::string relative_to(std::string_view path, std::string_view root) {
  if (root.empty()) return std::string(path);
  if (path == root) return ".";
  // path == root + "/" + rest (root may end with its own '/'), compared in place.
  const size_t cut = root.back() == '/' ? root.size() : root.size() + 1;
  if (path.size() >= cut && path.substr(0, root.size()) == root && path[cut - 1] == '/')
    return std::string(path.substr(cut));
  return std::string(path);
}

std::string absolute_path(std::string_view path) {
  std::string full;
  if (!path.empty() && path.front() == '/') {
    full = std::string(path);
  } else {
    std::vector<char> cwd(4096);
    if (::getcwd(cwd.data(), cwd.size()) == nullptr) return std::string(path);
    full = join_path(cwd.data(), path);
  }
  std::vector<std::string_view> parts;
  std::string_view rest = full;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto p : parts) {
    out.push_back('/');
    out.append(p);
  }
  return out.empty() ? "/" : out;
}

}  // namespace dxpy
