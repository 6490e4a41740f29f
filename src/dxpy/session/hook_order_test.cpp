#include "dxpy/session/hook_order.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "dxpy/util/fs.h"
#include "dxpy/util/test_temp_dir.h"

namespace dxpy::session {
namespace {

TestCase test(std::string path, std::string name) {
  TestCase tc;
  tc.id.path = std::move(path);
  tc.id.name = std::move(name);
  return tc;
}

using Entry = HookOrder::Entry;
Entry E(uint32_t t) { return Entry{t, std::nullopt}; }
Entry E(uint32_t t, std::string param) { return Entry{t, std::move(param)}; }
std::vector<Entry> whole(std::vector<uint32_t> ts) {
  std::vector<Entry> out;
  for (uint32_t t : ts) out.push_back(E(t));
  return out;
}

std::vector<std::string> names(const std::vector<TestCase>& tests) {
  std::vector<std::string> out;
  for (const auto& t : tests) out.push_back(t.id.name);
  return out;
}

TEST(HookOrder, ParsesKeepOrderAndDeselected) {
  auto keep = parse_hook_order("keep\n", 3);
  ASSERT_TRUE(keep.has_value());
  EXPECT_FALSE(keep->has_value());
  auto order = parse_hook_order("order\n2\n0\ndeselected\n1\n", 3);
  ASSERT_TRUE(order.has_value());
  ASSERT_TRUE(order->has_value());
  EXPECT_EQ((*order)->kept, whole({2, 0}));
  EXPECT_EQ((*order)->deselected, whole({1}));
  // Items of a test expanded at run time, by their id in hex.
  auto items = parse_hook_order("order\n1\t61\n0\n1\t5b625d\ndeselected\n1\t\n", 3);
  ASSERT_TRUE(items.has_value() && items->has_value());
  EXPECT_EQ((*items)->kept, (std::vector<Entry>{E(1, "a"), E(0), E(1, "[b]")}));
  EXPECT_EQ((*items)->deselected, (std::vector<Entry>{E(1, "")}));
  auto empty = parse_hook_order("order\n", 3);
  ASSERT_TRUE(empty.has_value() && empty->has_value());
  EXPECT_TRUE((*empty)->kept.empty());
}

TEST(HookOrder, RefusesAnswersThatAreNotWellFormed) {
  auto err = parse_hook_order("error ImportError: no module named x\n", 3);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().message, "ImportError: no module named x");
  EXPECT_FALSE(parse_hook_order("", 3).has_value());
  EXPECT_FALSE(parse_hook_order("keep\n0\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("something\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("order\n3\n", 3).has_value());           // out of range
  EXPECT_FALSE(parse_hook_order("order\n1\n1\n", 3).has_value());        // twice
  EXPECT_FALSE(parse_hook_order("order\n1\ndeselected\n1\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("order\n-1\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("order\n1x\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("order\n1\t61\n1\t61\n", 3).has_value());  // an item twice
  EXPECT_FALSE(parse_hook_order("order\n1\n1\t61\n", 3).has_value());      // whole and by item
  EXPECT_FALSE(parse_hook_order("order\n1\t61\n1\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("order\n1\tzz\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("order\n1\t612\n", 3).has_value());
  EXPECT_FALSE(parse_hook_order("order\n\n", 3).has_value());
}

TEST(HookOrder, AppliesTheOrderWithUnnamedTestsFirstAndDeselectedOut) {
  std::vector<TestCase> tests = {test("a.py", "a"), test("a.py", "b"), test("b.py", "c"), test("b.py", "d")};
  size_t failed_first = 0;
  HookOrder order{whole({3, 0, 2}), {}};  // "b" is not named: its module did not collect
  EXPECT_EQ(apply_hook_order(tests, failed_first, order), 0u);
  EXPECT_EQ(names(tests), (std::vector<std::string>{"b", "d", "a", "c"}));

  std::vector<TestCase> more = {test("a.py", "a"), test("a.py", "b"), test("b.py", "c")};
  EXPECT_EQ(apply_hook_order(more, failed_first, HookOrder{whole({2, 0}), whole({1})}), 1u);
  EXPECT_EQ(names(more), (std::vector<std::string>{"c", "a"}));
}

TEST(HookOrder, AnExpandedTestBecomesOneTestPerKeptItem) {
  std::vector<TestCase> tests = {test("a.py", "f"), test("a.py", "g")};
  tests[0].expand_at_runtime = true;
  size_t failed_first = 0;
  HookOrder order{{E(0, "2"), E(1), E(0, "1")}, {E(0, "3")}};
  EXPECT_EQ(apply_hook_order(tests, failed_first, order), 1u);
  ASSERT_EQ(tests.size(), 3u);
  EXPECT_EQ(tests[0].id.node_id(), "a.py::f[2]");
  EXPECT_EQ(tests[1].id.node_id(), "a.py::g");
  EXPECT_EQ(tests[2].id.node_id(), "a.py::f[1]");
  EXPECT_FALSE(tests[0].expand_at_runtime);
}

TEST(HookOrder, LastFailuresStayFirstInTheHooksOrder) {
  // --ff: tests 0 and 1 failed last time; the hooks reverse everything.
  std::vector<TestCase> tests = {test("a.py", "f1"), test("a.py", "f2"), test("a.py", "p1"), test("a.py", "p2")};
  size_t failed_first = 2;
  EXPECT_EQ(apply_hook_order(tests, failed_first, HookOrder{whole({3, 2, 1}), whole({0})}), 1u);
  EXPECT_EQ(names(tests), (std::vector<std::string>{"f2", "p2", "p1"}));
  EXPECT_EQ(failed_first, 1u);
}

RC_GTEST_PROP(HookOrderProp, ResultIsTheKeptAndUnnamedTestsOnceEach, ()) {
  const size_t n = *rc::gen::inRange<size_t>(0, 40);
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(*rc::gen::arbitrary<uint32_t>()));
  const size_t kept_n = *rc::gen::inRange<size_t>(0, n + 1);
  const size_t desel_n = *rc::gen::inRange<size_t>(0, n - kept_n + 1);
  HookOrder order;
  for (size_t i = 0; i < kept_n; ++i) order.kept.push_back(E(perm[i]));
  for (size_t i = kept_n; i < kept_n + desel_n; ++i) order.deselected.push_back(E(perm[i]));
  size_t failed_first = *rc::gen::inRange<size_t>(0, n + 1);
  const size_t failed_before = failed_first;
  std::vector<TestCase> tests;
  for (size_t i = 0; i < n; ++i) tests.push_back(test("m.py", std::to_string(i)));
  size_t dropped = apply_hook_order(tests, failed_first, order);
  RC_ASSERT(dropped == desel_n);
  RC_ASSERT(tests.size() == n - desel_n);
  std::vector<uint32_t> got;
  for (const auto& t : tests) got.push_back(static_cast<uint32_t>(std::stoul(t.id.name)));
  // Failures first; within each group, unnamed tests (ascending) then the kept in the hooks' order.
  for (size_t i = 0; i < got.size(); ++i) RC_ASSERT((i < failed_first) == (got[i] < failed_before));
  std::vector<int> rank(n, -1);
  for (size_t i = 0; i < order.kept.size(); ++i) rank[order.kept[i].test] = static_cast<int>(i);
  for (const auto& d : order.deselected) RC_ASSERT(std::find(got.begin(), got.end(), d.test) == got.end());
  auto key = [&](uint32_t t) {  // unnamed tests first (ascending), then the hooks' order
    return std::pair{t >= failed_before, rank[t] < 0 ? static_cast<int>(t) - static_cast<int>(n) - 1 : rank[t]};
  };
  for (size_t i = 1; i < got.size(); ++i) RC_ASSERT(key(got[i - 1]) < key(got[i]));
}

class HookOrderFiles : public testing::TempDirTest {
 protected:
  HookOrderFiles() : TempDirTest("dxpy_hook_order_") {}
  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
    std::ofstream(path(rel)) << text;
  }
};

TEST_F(HookOrderFiles, FindsTheConftestsThatNameTheHookAboveTheTests) {
  write("conftest.py", "def pytest_collection_modifyitems(items):\n    items.reverse()\n");
  write("a/conftest.py", "import pytest\n");
  write("a/b/conftest.py", "def pytest_collection_modifyitems(items): pass\n");
  write("c/conftest.py", "def pytest_collection_modifyitems(items): pass\n");  // no test below it
  std::vector<TestCase> tests = {test("a/b/test_x.py", "t"), test("a/test_y.py", "t")};
  auto found = modifyitems_conftests(tests, dir_, "");
  EXPECT_EQ(found, (std::vector<std::string>{path("a/b/conftest.py"), path("conftest.py")}));
  // The confcutdir leaves out the conftests above it.
  EXPECT_EQ(modifyitems_conftests(tests, dir_, path("a")), (std::vector<std::string>{path("a/b/conftest.py")}));
  // The same from module paths, as a listing of node ids gives them (rootdir-relative or absolute).
  std::vector<std::string_view> listed = {"a/b/test_x.py", "a/b/test_x.py", "a/test_y.py"};
  EXPECT_EQ(modifyitems_conftests(listed, dir_, ""), found);
  std::string absolute = path("a/test_y.py");
  EXPECT_EQ(modifyitems_conftests(std::vector<std::string_view>{absolute}, dir_, ""),
            (std::vector<std::string>{path("conftest.py")}));
  // None: the suite pays the look and nothing else.
  std::vector<TestCase> elsewhere = {test("a/test_y.py", "t")};
  std::filesystem::remove(path("conftest.py"));
  EXPECT_TRUE(modifyitems_conftests(elsewhere, dir_, "").empty());
}

}  // namespace
}  // namespace dxpy::session

namespace dxpy::session {
namespace {

// The C++ look at a conftest's hook says "keeps the order" only where worker/order.py's
// may_reorder would too: the hooks in tests/data/hooks_that_keep_order, which
// tests/python/test_worker_order.py gives may_reorder, read `items` without changing it.
TEST(HookSurelyKeepsOrder, ReadingHooksKeepTheOrder) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DXPY_HOOKS_KEEP_DIR)) {
    std::string text;
    ASSERT_TRUE(read_file_into(entry.path().string(), text));
    EXPECT_TRUE(hook_surely_keeps_order(text)) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 6u);
}

TEST(HookSurelyKeepsOrder, AnythingElseIsLeftToPython) {
  const char* unsure[] = {
      "def pytest_collection_modifyitems(items):\n    items.sort(key=lambda item: item.name)\n",
      "def pytest_collection_modifyitems(items):\n    items[:] = reversed(items)\n",
      "import random\n\ndef pytest_collection_modifyitems(items):\n    random.Random(7).shuffle(items)\n",
      "def _by_name_length(items):\n    items.sort()\n\ndef pytest_collection_modifyitems(items):\n"
      "    _by_name_length(items)\n",
      "def pytest_collection_modifyitems(items):\n    its = items\n    its.reverse()\n",
      "def pytest_collection_modifyitems(items):\n    del items[0]\n",
      "def pytest_collection_modifyitems(items):\n    items += []\n",
      "def pytest_collection_modifyitems(items):\n    reorder(items)\n",
      "def pytest_collection_modifyitems(items):\n    x.reversed(items)\n",
      "def pytest_collection_modifyitems(items):\n    a, items = items, []\n",
      "def pytest_collection_modifyitems(items):\n    f(*items)\n",
      "def pytest_collection_modifyitems(items):\n    def inner(items):\n        pass\n",
      "class Plugin:\n    def pytest_collection_modifyitems(self, items):\n        pass\n",
      "from plugin import pytest_collection_modifyitems\n",
      "@pytest.hookimpl(specname='pytest_collection_modifyitems')\ndef hook(items):\n    items.sort()\n",
      "def pytest_collection_modifyitems(items):\n    pass\npytest_collection_modifyitems = other\n",
      "def pytest_collection_modifyitems(items):\n    s = 'unterminated\n",
      "def pytest_collection_modifyitems(items):\n    items.pop()\n",
      "def pytest_collection_modifyitems(items):\n    x = (items)\n",
      "def pytest_collection_modifyitems(items):\n    f'{items.sort()}'\n",  // an f-string: not read
  };
  for (const char* src : unsure) EXPECT_FALSE(hook_surely_keeps_order(src)) << src;
}

}  // namespace
}  // namespace dxpy::session
