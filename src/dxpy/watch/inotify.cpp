#include "dxpy/watch/inotify.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dxpy/watch/debounce.h"

namespace dxpy::watch {

namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |
                           IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;

std::string join(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (p.empty() || p.back() != '/') p += '/';
  p += name;
  return p;
}

}  // namespace

Expected<std::unique_ptr<Watcher>> Watcher::open(const std::string& root) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return make_error(Errc::kIo, std::string("inotify_init1: ") + std::strerror(errno));
  std::unique_ptr<Watcher> w(new Watcher());
  w->fd_ = fd;
  w->root_ = root;
  while (w->root_.size() > 1 && w->root_.back() == '/') w->root_.pop_back();
  int wd = ::inotify_add_watch(fd, w->root_.c_str(), kMask);
  if (wd < 0) return make_error(Errc::kIo, "cannot watch " + root + ": " + std::strerror(errno));
  w->dirs_[wd] = w->root_;
  w->add_tree(w->root_, nullptr);
  return w;
}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
}

void Watcher::add_tree(const std::string& dir, std::vector<std::string>* found) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> subdirs;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = join(dir, name);
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st{};
      if (::lstat(path.c_str(), &st) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
    }
    if (type == DT_DIR) {
      if (!ignored_dir_name(name)) subdirs.push_back(std::move(path));
    } else if (found && !ignored_file_name(name)) {
      found->push_back(std::move(path));
    }
  }
  ::closedir(d);
  for (auto& sub : subdirs) {
    if (::access(join(sub, "pyvenv.cfg").c_str(), F_OK) == 0) continue;  // a virtual environment
    int wd = ::inotify_add_watch(fd_, sub.c_str(), kMask);
    if (wd < 0) continue;  // gone already, or out of watches: the rest still works
    dirs_[wd] = sub;
    add_tree(sub, found);
  }
}

std::vector<std::string> Watcher::read_events() {
  std::vector<std::string> out;
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (char* p = buf; p < buf + got;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        out.push_back(root_);
        continue;
      }
      auto it = dirs_.find(ev->wd);
      if (it == dirs_.end()) continue;
      if (ev->mask & IN_IGNORED) {  // the folder is gone (or its watch removed)
        dirs_.erase(it);
        continue;
      }
      if (ev->mask & IN_DELETE_SELF) continue;  // its parent reports the deletion
      std::string_view name = ev->len ? std::string_view(ev->name) : std::string_view();
      if (name.empty()) continue;
      std::string path = join(it->second, name);
      bool is_dir = ev->mask & IN_ISDIR;
      if (is_dir ? ignored_dir_name(name) : ignored_file_name(name)) continue;
      if (is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
        if (::access(join(path, "pyvenv.cfg").c_str(), F_OK) == 0) continue;
        int wd = ::inotify_add_watch(fd_, path.c_str(), kMask);
        if (wd >= 0) {
          dirs_[wd] = path;
          add_tree(path, &out);
        }
      }
      out.push_back(std::move(path));
    }
  }
  return out;
}

}  // namespace dxpy::watch
