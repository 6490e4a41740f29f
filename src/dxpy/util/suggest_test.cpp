#include "dxpy/util/suggest.h"

#include <gtest/gtest.h>

namespace dxpy {
namespace {

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("--maxfial", "--maxfail"), 1u);  // one transposition
  EXPECT_EQ(edit_distance("--colr", "--color"), 1u);
  EXPECT_EQ(edit_distance("abcd", "abcd"), 0u);
}

TEST(Suggest, EditDistanceIsSymmetric) {
  const char* words[] = {"", "a", "ab", "ba", "--maxfail", "--maxfial", "--junitxml", "--junit-xml", "-k"};
  for (const char* a : words)
    for (const char* b : words) EXPECT_EQ(edit_distance(a, b), edit_distance(b, a)) << a << " " << b;
}

TEST(Suggest, ClosestMatch) {
  std::vector<std::string> flags = {"--maxfail", "--markers", "--color", "--collect-only", "--timeout"};
  EXPECT_EQ(closest_match("--maxfial", flags), "--maxfail");
  EXPECT_EQ(closest_match("--colour", flags), "--color");
  EXPECT_EQ(closest_match("--timout", flags), "--timeout");
  EXPECT_EQ(closest_match("--frobnicate", flags), std::nullopt);  // nothing close
  EXPECT_EQ(closest_match("--color", flags), std::nullopt);       // not a typo
  EXPECT_EQ(closest_match("x", {}), std::nullopt);
  EXPECT_EQ(closest_match("snapshot-dir", {"workers", "snapshot_dir", "cache_dir"}), "snapshot_dir");
}

}  // namespace
}  // namespace dxpy
