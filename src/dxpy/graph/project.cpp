#include "dxpy/graph/project.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dxpy/util/fnmatch.h"
#include "dxpy/util/fs.h"

namespace dxpy::graph {

namespace {

bool is_python(std::string_view name) { return name.size() > 3 && name.substr(name.size() - 3) == ".py"; }

FileStamp stamp_of(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

bool skip_dir(const GraphOptions& o, const std::string& abs, std::string_view name) {
  for (std::string_view always : {"__pycache__", ".git", ".hg", ".svn", ".dx-py"})
    if (name == always) return true;
  for (const auto& p : o.norecursedirs)
    if (fnmatch_path(p, abs)) return true;
  return ::access(join_path(abs, "pyvenv.cfg").c_str(), F_OK) == 0 ||
         ::access(join_path(abs, "conda-meta/history").c_str(), F_OK) == 0;
}

// Whether a folder on the way from the rootdir to `rel` (itself excluded) is skipped.
bool in_skipped_folder(const GraphOptions& o, std::string_view rel) {
  for (size_t slash = rel.find('/'); slash != std::string_view::npos; slash = rel.find('/', slash + 1)) {
    std::string_view dir = rel.substr(0, slash);
    if (skip_dir(o, join_path(o.rootdir, dir), basename(dir))) return true;
  }
  return false;
}

std::string child(const std::string& rel, std::string_view name) {
  return rel.empty() ? std::string(name) : rel + "/" + std::string(name);
}

class Walker {
 public:
  explicit Walker(ImportGraph& g) : g_(g), o_(g.options()) {}

  // Walks folder `rel` (graph path; "" for the rootdir), open at `abs`.
  void walk(const std::string& abs, const std::string& rel) {
    int fd = ::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return;
    }
    std::vector<std::string> dirs, files;
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st {};
        if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) {
        dirs.emplace_back(name);
      } else if ((type == DT_REG || type == DT_LNK) && is_python(name)) {
        files.emplace_back(name);  // a link counts when it leads to a file (checked below)
      }
    }
    for (const auto& name : files) {
      struct stat st {};
      if (::fstatat(fd, name.c_str(), &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
      std::string path = child(rel, name);
      FileStamp stamp = stamp_of(st);
      seen_.push_back(path);
      if (g_.stamp(path) == stamp) {
        ++stats_.unchanged;
        continue;
      }
      FileStat read_stat;
      if (read_file_at(fd, name.c_str(), path, buf_, &read_stat)) {
        stamp = {read_stat.size, read_stat.mtime_ns};
      } else {
        buf_.clear();  // unreadable: a node without imports, tried again when it changes
      }
      g_.set_file(path, buf_, stamp);
      ++stats_.scanned;
    }
    ::closedir(d);  // before going down: one open folder per level at most
    for (const auto& name : dirs) {
      std::string sub = join_path(abs, name);
      if (!skip_dir(o_, sub, name)) walk(sub, child(rel, name));
    }
  }

  // Drops the graph's files below `rel` that the walk did not see; then resolves.
  SyncStats finish(std::string_view rel) {
    // Every path seen is in the graph now: after a whole walk, as many as it holds means
    // nothing is gone (the common case, spared a sort and a lookup per file).
    if (!(rel.empty() && seen_.size() == g_.size())) remove_unseen(rel);
    g_.resolve();
    return stats_;
  }

 private:
  void remove_unseen(std::string_view rel) {
    std::sort(seen_.begin(), seen_.end());
    for (const auto& path : g_.paths()) {
      bool below = rel.empty() ||
                   (path.size() > rel.size() && path[rel.size()] == '/' && path.compare(0, rel.size(), rel) == 0);
      if (below && !std::binary_search(seen_.begin(), seen_.end(), path)) {
        g_.remove_file(path);
        ++stats_.removed;
      }
    }
  }

  ImportGraph& g_;
  const GraphOptions& o_;
  std::vector<std::string> seen_;
  SyncStats stats_;
  std::string buf_;
};

}  // namespace

SyncStats sync_graph(ImportGraph& g) {
  Walker w(g);
  w.walk(g.options().rootdir, "");
  return w.finish("");
}

bool update_graph(ImportGraph& g, std::string_view path) {
  auto rel = g.graph_path(path);
  if (!rel) return false;
  const GraphOptions& o = g.options();
  if (in_skipped_folder(o, *rel)) return false;
  const std::string abs = rel->empty() ? o.rootdir : join_path(o.rootdir, *rel);
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) {
    // Gone: the file, or every file of a folder.
    bool changed = g.remove_file(*rel);
    if (!changed) {
      std::string prefix = *rel + "/";
      for (const auto& p : g.paths())
        if (p.compare(0, prefix.size(), prefix) == 0) changed |= g.remove_file(p);
    }
    g.resolve();
    return changed;
  }
  if (S_ISDIR(st.st_mode)) {
    if (!rel->empty() && skip_dir(o, abs, basename(*rel))) return false;
    Walker w(g);
    w.walk(abs, *rel);
    return w.finish(*rel).changed();
  }
  if (!S_ISREG(st.st_mode) || !is_python(*rel)) return false;
  std::string source;
  FileStat read_stat;
  if (!read_file_into(abs, source, &read_stat)) return false;
  FileStamp stamp{read_stat.size, read_stat.mtime_ns};
  if (g.stamp(*rel) == stamp) return false;
  g.set_file(*rel, source, stamp);
  g.resolve();
  return true;
}

}  // namespace dxpy::graph
