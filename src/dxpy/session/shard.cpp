#include "dxpy/session/shard.h"

#include <algorithm>
#include <cstdio>

#include "dxpy/select/shard.h"

namespace dxpy::session {

Expected<std::string> apply_shard(Selection& selected, const std::string& spec, const Durations& known,
                           double unknown_seconds) {
  DXPY_TRY(select::ShardSpec shard, select::parse_shard(spec));
  std::vector<std::string> ids;
  ids.reserve(selected.tests.size());
  for (const auto& tc : selected.tests) ids.push_back(tc.id.node_id());
  std::vector<select::ShardItem> items;
  items.reserve(ids.size() + selected.errors.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    double w = 1;
    if (!known.empty()) {
      auto it = known.find(ids[i]);
      w = it == known.end() ? unknown_seconds : it->second;
    }
    items.push_back({selected.tests[i].id.path, ids[i], w});
  }
  for (const auto& e : selected.errors) items.push_back({e.path, e.path, 0});
  std::vector<uint32_t> of = select::assign_shards(items, shard.count);
  uint32_t mine = shard.index - 1;
  // FNV-1a over (node id, shard) in node id order: the same split gives the same digest.
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].node_id < items[b].node_id; });
  uint64_t digest = 1469598103934665603ull;
  auto mix = [&](unsigned char c) { digest = (digest ^ c) * 1099511628211ull; };
  for (size_t i : order) {
    for (char c : items[i].node_id) mix(static_cast<unsigned char>(c));
    mix(0);
    for (int b = 0; b < 4; ++b) mix(static_cast<unsigned char>(of[i] >> (8 * b)));
  }
  size_t total_tests = ids.size(), known_tests = 0;
  for (const auto& id : ids) known_tests += known.count(id);

  size_t kept = 0, failures_kept = 0;
  for (size_t i = 0; i < selected.tests.size(); ++i) {
    if (of[i] != mine) continue;
    if (i < selected.failed_first) ++failures_kept;
    if (kept != i) selected.tests[kept] = std::move(selected.tests[i]);
    ++kept;
  }
  selected.deselected += selected.tests.size() - kept;
  selected.tests.resize(kept);
  selected.failed_first = failures_kept;
  size_t error_kept = 0;
  for (size_t j = 0; j < selected.errors.size(); ++j) {
    if (of[ids.size() + j] != mine) continue;
    if (error_kept != j) selected.errors[error_kept] = std::move(selected.errors[j]);
    ++error_kept;
  }
  selected.errors.resize(error_kept);
  char note[256];
  std::snprintf(note, sizeof note, "shard %u/%u: %zu of %zu tests (durations known for %zu); split digest %016llx",
                shard.index, shard.count, kept, total_tests, known_tests, static_cast<unsigned long long>(digest));
  return std::string(note);
}

}  // namespace dxpy::session
