// --shard K/N: the split is complete, disjoint and deterministic (the same tests and
// durations in any order give every test the same shard), and longest-first balanced.
#include "dxpy/select/shard.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>

namespace dxpy::select {
namespace {

namespace gen = rc::gen;

struct Suite {
  std::vector<std::string> files;  // owns the strings the items view
  std::vector<std::string> ids;
  std::vector<double> weights;
  std::vector<ShardItem> items() const {
    std::vector<ShardItem> out;
    for (size_t i = 0; i < ids.size(); ++i) out.push_back({files[i], ids[i], weights[i]});
    return out;
  }
};

rc::Gen<Suite> gen_suite() {
  return gen::map(gen::container<std::vector<std::tuple<int, int, int>>>(
                      gen::tuple(gen::inRange(0, 12), gen::inRange(0, 40), gen::inRange(-1, 5000))),
                  [](const std::vector<std::tuple<int, int, int>>& rows) {
                    Suite s;
                    std::set<std::string> seen;
                    for (auto [file, test, ms] : rows) {
                      std::string path = "tests/test_" + std::to_string(file) + ".py";
                      std::string id = path + "::test_" + std::to_string(test);
                      if (!seen.insert(id).second) continue;  // node ids are unique
                      s.files.push_back(path);
                      s.ids.push_back(id);
                      s.weights.push_back(ms < 0 ? 1.0 : ms / 1000.0);  // some without durations
                    }
                    return s;
                  });
}

RC_GTEST_PROP(Shard, SplitIsCompleteDisjointAndDeterministic, ()) {
  Suite s = *gen_suite();
  uint32_t n = *gen::inRange<uint32_t>(1, 9);
  std::vector<ShardItem> items = s.items();
  std::vector<uint32_t> shards = assign_shards(items, n);
  RC_ASSERT(shards.size() == items.size());
  // Each test in exactly one shard of 0..N-1: the shards are disjoint and their union is all.
  std::vector<std::set<std::string>> parts(n);
  for (size_t i = 0; i < items.size(); ++i) {
    RC_ASSERT(shards[i] < n);
    RC_ASSERT(parts[shards[i]].insert(s.ids[i]).second);
  }
  size_t sum = 0;
  for (const auto& p : parts) sum += p.size();
  RC_ASSERT(sum == items.size());

  // The same input in another order: every test keeps its shard.
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(*gen::arbitrary<uint32_t>());
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<ShardItem> shuffled;
  for (size_t i : order) shuffled.push_back(items[i]);
  std::vector<uint32_t> again = assign_shards(shuffled, n);
  for (size_t j = 0; j < order.size(); ++j) RC_ASSERT(again[j] == shards[order[j]]);
  RC_ASSERT(assign_shards(items, n) == shards);
}

RC_GTEST_PROP(Shard, FilesStayWholeUnlessHeavierThanAShare, ()) {
  Suite s = *gen_suite();
  uint32_t n = *gen::inRange<uint32_t>(2, 6);
  std::vector<ShardItem> items = s.items();
  std::vector<uint32_t> shards = assign_shards(items, n);
  std::map<std::string, double> weight;
  std::map<std::string, std::set<uint32_t>> where;
  double total = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    weight[s.files[i]] += items[i].weight;
    total += items[i].weight;
    where[s.files[i]].insert(shards[i]);
  }
  for (const auto& [file, w] : weight)
    if (w <= total / n * (1 - 1e-9)) RC_ASSERT(where[file].size() == 1u);
}

RC_GTEST_PROP(Shard, LongestFirstBoundsTheImbalance, ()) {
  // LPT's bound: the heaviest shard exceeds the mean by at most the heaviest unit placed,
  // and a unit is a whole file only while it weighs at most total / N.
  Suite s = *gen_suite();
  uint32_t n = *gen::inRange<uint32_t>(2, 6);
  std::vector<ShardItem> items = s.items();
  std::vector<uint32_t> shards = assign_shards(items, n);
  std::vector<double> load(n, 0.0);
  double total = 0, heaviest_test = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    load[shards[i]] += items[i].weight;
    total += items[i].weight;
    heaviest_test = std::max(heaviest_test, items[i].weight);
  }
  double bound = total / n + std::max(total / n, heaviest_test);
  RC_ASSERT(*std::max_element(load.begin(), load.end()) <= bound * (1 + 1e-9) + 1e-12);
}

TEST(Shard, ParsesKOverN) {
  auto s = parse_shard("2/4");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 4u);
  EXPECT_TRUE(parse_shard("1/1"));
  for (const char* bad : {"", "2", "0/4", "5/4", "1/0", "a/b", "1/2/3", "-1/2", "1 /2", "1/", "/2", "1/9999999999"}) {
    auto r = parse_shard(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kUsage);
    EXPECT_NE(r.error().message.find("--shard"), std::string::npos);
  }
}

TEST(Shard, WithoutDurationsFilesCountByTheirTests) {
  // Four files of 4, 3, 2 and 1 tests over two shards: {4, 1} and {3, 2}.
  std::vector<std::string> ids;
  std::vector<std::string> files;
  for (int f = 0; f < 4; ++f)
    for (int t = 0; t <= f; ++t) {
      files.push_back("t" + std::to_string(f) + ".py");
      ids.push_back(files.back() + "::t" + std::to_string(t));
    }
  std::vector<ShardItem> items;
  for (size_t i = 0; i < ids.size(); ++i) items.push_back({files[i], ids[i], 1.0});
  auto shards = assign_shards(items, 2);
  std::map<std::string, uint32_t> of;
  for (size_t i = 0; i < items.size(); ++i) of[files[i]] = shards[i];
  EXPECT_EQ(of["t3.py"], of["t0.py"]);
  EXPECT_EQ(of["t2.py"], of["t1.py"]);
  EXPECT_NE(of["t3.py"], of["t2.py"]);
}

TEST(Shard, AHeavyFileIsSplitPerTest) {
  std::vector<ShardItem> items = {{"big.py", "big.py::a", 5}, {"big.py", "big.py::b", 5}, {"small.py", "small.py::c", 1}};
  auto shards = assign_shards(items, 2);
  EXPECT_NE(shards[0], shards[1]);
}

TEST(Shard, MoreShardsThanTestsLeavesSomeEmpty) {
  std::vector<ShardItem> items = {{"a.py", "a.py::t", 1}, {"b.py", "b.py::t", 1}};
  auto shards = assign_shards(items, 1000000000u);
  EXPECT_NE(shards[0], shards[1]);
  EXPECT_LT(shards[0], 2u);
  EXPECT_LT(shards[1], 2u);
}

}  // namespace
}  // namespace dxpy::select
