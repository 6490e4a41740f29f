#include "dxpy/util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

Expected<void> write_file_atomic(const std::string& path, std::string_view data, Durability durability) {
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) return io_error("cannot create a temp file for", path);
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = io_error("cannot write", path);
      ::close(fd);
      ::unlink(name.data());
      return e;
    }
    p += n;
    left -= static_cast<size_t>(n);
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
  std::string prefix(root);
  if (prefix.back() != '/') prefix.push_back('/');
  if (path.substr(0, prefix.size()) == prefix) return std::string(path.substr(prefix.size()));
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
