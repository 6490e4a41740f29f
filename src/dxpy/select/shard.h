#pragma once
/// --shard K/N: which tests shard K of N runs, for CI jobs that split one suite.
///
/// Every job computes the whole split from the same input (the selected tests and the
/// durations file) and keeps its own part, so the split must be a function of that input
/// alone: deterministic, disjoint and complete.
///
/// The unit is the file (module), not the test: a module's tests share its import and its
/// module- and class-scoped fixtures, which a per-test split would set up in every shard
/// that got one of its tests, and the scheduler hands a module's tests to one worker as a
/// batch. A file that alone weighs more than a shard's share (total / N) is split per test,
/// since kept whole it would make its shard the slowest by itself.
///
/// Balance: longest processing time first. Units are sorted by weight (heaviest first, ties
/// by name) and each goes to the shard with the least weight so far (ties: the lowest).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::select {

struct ShardSpec {
  uint32_t index = 1;  // K, 1-based
  uint32_t count = 1;  // N
};

/// "K/N" with 1 <= K <= N (as pytest-split's --group K --splits N): anything else is a usage
/// error whose message says what was wrong.
Expected<ShardSpec> parse_shard(std::string_view text);

/// One test as the split sees it: its file and its weight (expected seconds, or 1 when no
/// durations are known). A collection error is an item of weight 0 for its path.
struct ShardItem {
  std::string_view file;
  std::string_view node_id;  // orders the tests of a split file
  double weight = 1;
};

/// The shard of each item, 0-based, in `items`' order. Does not depend on that order.
std::vector<uint32_t> assign_shards(const std::vector<ShardItem>& items, uint32_t count);

}  // namespace dxpy::select
