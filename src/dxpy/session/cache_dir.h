#pragma once
/// The cache folder (`<rootdir>/.dx-py`, or [tool.dx-py] cache_dir): made private to the user, refused when another user
/// could have written what it holds, and cleared of the temp files that runs killed in the
/// middle of an atomic write left behind.
#include <string>
#include <vector>

namespace dxpy::session {

/// Temp files of atomic writes (`NAME.tmp.XXXXXX`) older than this belong to no live run.
inline constexpr int kStaleTempSeconds = 600;

/// The cache folder `dir`, created 0700 if missing (its parents as umask allows); "" and a note ("no cache: ...") when it cannot
/// be used: it cannot be made (read-only file system, ...), is not a folder (a symlink is
/// refused too), belongs to another user, can be written by others (group or world), or is
/// not writable. Stale temp files in it are removed.
std::string open_cache_dir(const std::string& dir, std::vector<std::string>& notes);

/// Removes the `*.tmp.XXXXXX` files of `dir` last modified more than `age_seconds` ago;
/// returns how many it removed.
size_t remove_stale_temp_files(const std::string& dir, int age_seconds);

}  // namespace dxpy::session
