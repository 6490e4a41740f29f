#pragma once
/// Test durations from earlier runs, for longest-first scheduling: `.dx-py/durations`, one
/// line per test, "<seconds>\t<node id>\n". A line that does not parse is skipped, so a
/// damaged file costs only the lines it damaged; the file is rewritten atomically after
/// each run, under a lock, merged with what is there (tests not run this time keep theirs).

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::session {

using Durations = std::unordered_map<std::string, double>;

Durations parse_durations(std::string_view text);
std::string format_durations(const Durations& d);

/// Empty when the file is missing or unreadable.
Durations load_durations(const std::string& path);
/// Merges `fresh` into the file at `path` (fresh values win; a negative value erases).
Expected<void> save_durations(const std::string& path, const Durations& fresh);

}  // namespace dxpy::session
