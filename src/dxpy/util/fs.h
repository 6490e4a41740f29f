#pragma once
/// File helpers. Writes are atomic: a temp file in the same folder, fsync, then rename, so
/// a reader sees the old file or the new one, never a torn one.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy {

struct FileStat {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool is_dir = false;
  bool is_file = false;
};

Expected<std::string> read_file(const std::string& path);
/// read_file into `out` (replacing its bytes, reusing its capacity), with the file's
/// stat taken from the open descriptor: open, fstat, one read, close for a file that does
/// not change meanwhile. Errors as read_file's.
Expected<void> read_file_into(const std::string& path, std::string& out, FileStat* stat = nullptr);
/// read_file_into of `name` in the folder open as `dir_fd` (openat; AT_FDCWD: the current
/// folder): a caller reading many files of one folder spares the lookup of its path.
/// `path` names the file in errors.
Expected<void> read_file_at(int dir_fd, const char* name, const std::string& path, std::string& out,
                            FileStat* stat = nullptr);
/// kDurable fsyncs before the rename, so the new bytes survive a power cut (snapshots);
/// kCache skips it: a cache validated on load only needs the rename's atomicity.
enum class Durability { kDurable, kCache };
Expected<void> write_file_atomic(const std::string& path, std::string_view data,
                                 Durability durability = Durability::kDurable);
/// write_file_atomic of the pieces' concatenation, written straight from them (writev).
/// With `finish_first`, the first piece is written last, once finish_first() returned: the
/// caller may still be filling it in (a header that holds a checksum of the rest) while the
/// other pieces are written.
Expected<void> write_file_atomic_pieces(const std::string& path, const std::vector<std::string_view>& pieces,
                                        Durability durability = Durability::kDurable,
                                        const std::function<void()>& finish_first = {});
Expected<FileStat> stat_path(const std::string& path);

/// Names in a folder (not "." or ".."), unsorted; empty when it cannot be read.
std::vector<std::string> list_dir(const std::string& path);

/// The last path component and the rest ("a/b/c.py" -> "a/b", "c.py").
std::string_view dirname(std::string_view path);
std::string_view basename(std::string_view path);
std::string join_path(std::string_view a, std::string_view b);
/// `path` made relative to `root` when it lies under it; otherwise `path` unchanged.
std::string relative_to(std::string_view path, std::string_view root);
/// An absolute, lexically normalised path (no ".", "..", or doubled slashes).
std::string absolute_path(std::string_view path);

}  // namespace dxpy
