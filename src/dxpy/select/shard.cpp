#include "dxpy/select/shard.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <queue>

namespace dxpy::select {

Expected<ShardSpec> parse_shard(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return make_error(Errc::kUsage, "argument --shard: invalid value '" + std::string(text) + "': " + why);
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("expected K/N, as 2/4");
  auto number = [](std::string_view s, uint32_t& out) {
    if (s.empty() || s.size() > 9) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
  };
  ShardSpec spec;
  if (!number(text.substr(0, slash), spec.index) || !number(text.substr(slash + 1), spec.count))
    return bad("K and N must be whole numbers, as 2/4");
  if (spec.count < 1) return bad("N must be at least 1");
  if (spec.index < 1 || spec.index > spec.count) return bad("K must be between 1 and N");
  return spec;
}

std::vector<uint32_t> assign_shards(const std::vector<ShardItem>& items, uint32_t count) {
  std::vector<uint32_t> out(items.size(), 0);
  if (count <= 1 || items.empty()) return out;

  // Files, by name (std::map: the order of `items` does not matter), with their items.
  struct File {
    double weight = 0;
    std::vector<uint32_t> items;
  };
  std::map<std::string_view, File> files;
  double total = 0;
  for (uint32_t i = 0; i < items.size(); ++i) {
    File& f = files[items[i].file];
    f.items.push_back(i);
  }
  // Sum in a fixed order (node id, then position among equal ids) so that the weights do
  // not depend on the input order either.
  auto by_id = [&](uint32_t a, uint32_t b) {
    return items[a].node_id != items[b].node_id ? items[a].node_id < items[b].node_id
                                                : items[a].weight < items[b].weight;
  };
  for (auto& [name, f] : files) {
    std::sort(f.items.begin(), f.items.end(), by_id);
    for (uint32_t i : f.items) f.weight += std::max(0.0, items[i].weight);
    total += f.weight;
  }

  struct Unit {
    double weight;
    std::string_view file;
    std::string_view node_id;  // empty for a whole file
    std::vector<uint32_t> items;
  };
  std::vector<Unit> units;
  units.reserve(files.size());
  double split_above = total / count;
  for (auto& [name, f] : files) {
    if (f.weight > split_above && f.items.size() > 1) {
      for (uint32_t i : f.items) units.push_back({std::max(0.0, items[i].weight), name, items[i].node_id, {i}});
    } else {
      units.push_back({f.weight, name, {}, std::move(f.items)});
    }
  }
  std::sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    if (a.file != b.file) return a.file < b.file;
    return a.node_id < b.node_id;
  });

  // The least loaded shard, the lowest index among equals.
  using Load = std::pair<double, uint32_t>;
  std::priority_queue<Load, std::vector<Load>, std::greater<>> loads;
  // Past as many shards as units the rest stay empty: no need to hold them (N may be large).
  uint32_t used = static_cast<uint32_t>(std::min<size_t>(count, units.size()));
  for (uint32_t s = 0; s < used; ++s) loads.push({0.0, s});
  for (const Unit& u : units) {
    auto [load, shard] = loads.top();
    loads.pop();
    for (uint32_t i : u.items) out[i] = shard;
    loads.push({load + u.weight, shard});
  }
  return out;
}

}  // namespace dxpy::select
