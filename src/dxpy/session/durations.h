#pragma once
/// Test durations from earlier runs: `.dx-py/durations.json`, for longest-first scheduling
/// and for balancing --shard K/N. One JSON object from node id to seconds, sorted by node
/// id, one entry a line (the shape of pytest-split's `.test_durations`, so either tool can
/// read the other's file):
///
///   {
///   "tests/test_a.py::test_slow": 1.25,
///   "tests/test_b.py::TestX::test_y[1]": 0.0042
///   }
///
/// CI may cache the file between jobs. It is rewritten atomically after each run, under a
/// lock, merged with what is there: tests not run this time keep their entries, so a job
/// that ran one shard leaves the other shards' durations alone. Only tests slower than the
/// caller's threshold are kept. A file that does not parse counts as empty (it is a cache).

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::session {

using Durations = std::unordered_map<std::string, double>;

/// The file's name in the cache folder (.dx-py).
inline constexpr std::string_view kDurationsFile = "durations.json";

/// Entries whose value is not a number in [0, 1e7] are skipped; text that is not a JSON
/// object gives none.
Durations parse_durations(std::string_view text);
/// Keys that are not valid UTF-8 (JSON cannot hold them) are left out.
std::string format_durations(const Durations& d);

/// Empty when the file is missing or unreadable.
Durations load_durations(const std::string& path);
/// Merges `fresh` into the file at `path` (fresh values win; a negative value erases).
Expected<void> save_durations(const std::string& path, const Durations& fresh);

}  // namespace dxpy::session
