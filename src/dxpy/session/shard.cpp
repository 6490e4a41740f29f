#include "dxpy/session/shard.h"

#include "dxpy/select/shard.h"

namespace dxpy::session {

Expected<void> apply_shard(Selection& selected, const std::string& spec, const Durations& known,
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
  return {};
}

}  // namespace dxpy::session
