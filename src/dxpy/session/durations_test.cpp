#include "dxpy/session/durations.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>
#include <string>

#include "dxpy/util/fs.h"

namespace dxpy::session {
namespace {

RC_GTEST_PROP(Durations, FormatThenParseKeepsEveryEntry, ()) {
  Durations d;
  auto n = *rc::gen::inRange(0, 30);
  for (int i = 0; i < n; ++i) {
    // Any byte but those that make invalid UTF-8: quotes, backslashes, controls, newlines.
    auto id = *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange<char>(0, 127)));
    d[id] = *rc::gen::inRange(0, 1'000'000) / 1000.0;
  }
  Durations back = parse_durations(format_durations(d));
  RC_ASSERT(back.size() == d.size());
  for (const auto& [k, v] : d) RC_ASSERT(std::abs(back.at(k) - v) <= 1e-5 * std::max(1.0, v));
}

RC_GTEST_PROP(Durations, ParsingArbitraryBytesNeverFails, (const std::string& text)) {
  Durations d = parse_durations(text);
  for (const auto& [k, v] : d) RC_ASSERT(v >= 0.0);
}

TEST(Durations, SkipsEntriesThatAreNotDurations) {
  Durations d = parse_durations(R"({"a.py::t": 0.5, "b.py::t": -1, "c.py::t": "1", "d.py::t": 2, "e.py::t": null,
                                    "f.py::t": 1e9, "g.py::t": [1]})");
  EXPECT_EQ(d.size(), 2u);
  EXPECT_DOUBLE_EQ(d.at("a.py::t"), 0.5);
  EXPECT_DOUBLE_EQ(d.at("d.py::t"), 2.0);
}

TEST(Durations, ADamagedFileCountsAsEmpty) {
  EXPECT_TRUE(parse_durations(R"({"a.py::t": 0.5, "b.py::)").empty());
  EXPECT_TRUE(parse_durations("[1, 2]").empty());
  EXPECT_TRUE(parse_durations("0.5\ta.py::t\n").empty());  // the old .dx-py/durations lines
}

TEST(Durations, FileIsOneSortedJsonObjectAsPytestSplitWritesIt) {
  EXPECT_EQ(format_durations({{"b.py::t[\"x\"]", 0.25}, {"a.py::t", 1.5}}),
            "{\n\"a.py::t\": 1.5,\n\"b.py::t[\\\"x\\\"]\": 0.25\n}\n");
  EXPECT_EQ(format_durations({}), "{\n}\n");
  // A key JSON cannot hold (not UTF-8) is left out rather than written damaged.
  EXPECT_EQ(format_durations({{"a\xff.py::t", 1.0}, {"b.py::t", 2.0}}), "{\n\"b.py::t\": 2\n}\n");
}

TEST(Durations, SaveMergesWithWhatIsThere) {
  char tmpl[] = "/tmp/dxpy-durations-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/durations.json";
  ASSERT_TRUE(save_durations(path, {{"a.py::t", 1.0}, {"b.py::t", 2.0}}));
  ASSERT_TRUE(save_durations(path, {{"b.py::t", 3.0}}));
  Durations d = load_durations(path);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_DOUBLE_EQ(d.at("a.py::t"), 1.0);
  EXPECT_DOUBLE_EQ(d.at("b.py::t"), 3.0);
  ASSERT_TRUE(save_durations(path, {{"a.py::t", -1}}));
  d = load_durations(path);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.count("a.py::t"), 0u);
  // A CI job that ran another shard brings only its own tests: the others' stay.
  ASSERT_TRUE(save_durations(path, {{"c.py::t", 4.0}}));
  d = load_durations(path);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_DOUBLE_EQ(d.at("b.py::t"), 3.0);
  EXPECT_DOUBLE_EQ(d.at("c.py::t"), 4.0);
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

}  // namespace
}  // namespace dxpy::session
