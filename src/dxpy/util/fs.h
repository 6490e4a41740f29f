#pragma once
/// File helpers. Writes are atomic: a temp file in the same folder, fsync, then rename, so
/// a reader sees the old file or the new one, never a torn one.

#include <cstdint>
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
/// kDurable fsyncs before the rename, so the new bytes survive a power cut (snapshots);
/// kCache skips it: a cache validated on load only needs the rename's atomicity.
enum class Durability { kDurable, kCache };
Expected<void> write_file_atomic(const std::string& path, std::string_view data,
                                 Durability durability = Durability::kDurable);
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
