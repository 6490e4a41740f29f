#pragma once
/// --shard K/N on a selection (select/shard.h decides the split): keeps shard K's tests and
/// collection errors, counts the others as deselected (as pytest-split does).

#include <string>

#include "dxpy/session/durations.h"
#include "dxpy/session/selection.h"
#include "dxpy/util/expected.h"

namespace dxpy::session {

/// Weights: the tests' seconds in `known` (.dx-py/durations.json); a test missing from a
/// non-empty file weighs `unknown_seconds` (it ran faster than the file keeps, or is new);
/// with no durations at all every test weighs 1, so files count by their number of tests.
/// A collection error weighs 0 and goes to exactly one shard. kUsage for a bad `spec`.
/// Returns a note for -v: the shard's share, and a digest of the whole split (every job of
/// one CI run must print the same one, or the jobs saw different tests or durations).
Expected<std::string> apply_shard(Selection& selected, const std::string& spec, const Durations& known,
                           double unknown_seconds);

}  // namespace dxpy::session
