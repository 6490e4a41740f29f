#include "dxpy/watch/keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dxpy::watch {
namespace {

std::vector<Command> feed_all(KeyReader& k, const std::string& bytes) {
  std::vector<Command> out;
  for (char c : bytes)
    if (auto cmd = k.feed(c)) out.push_back(*cmd);
  return out;
}

TEST(KeyReader, SingleKeys) {
  KeyReader k;
  auto got = feed_all(k, "afu\rq?xh\n");
  std::vector<Command::Kind> kinds;
  for (const auto& c : got) kinds.push_back(c.kind);
  EXPECT_EQ(kinds, (std::vector<Command::Kind>{Command::kAll, Command::kFailed, Command::kUpdateSnapshots,
                                               Command::kRerun, Command::kQuit, Command::kHelp, Command::kHelp,
                                               Command::kRerun}));
}

TEST(KeyReader, PatternsAreTypedUpToEnterWithBackspace) {
  KeyReader k;
  EXPECT_TRUE(feed_all(k, "t").empty());
  EXPECT_TRUE(k.entering());
  auto got = feed_all(k, "fooq\x7f_bar\r");  // q is text here, then erased
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, Command::kTestPattern);
  EXPECT_EQ(got[0].text, "foo_bar");
  EXPECT_FALSE(k.entering());
  got = feed_all(k, "ptests/test_a\n");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, Command::kFilePattern);
  EXPECT_EQ(got[0].text, "tests/test_a");
}

TEST(KeyReader, EscCancelsAPattern) {
  KeyReader k;
  auto got = feed_all(k, "pabc\x1b" "a");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, Command::kCancel);
  EXPECT_EQ(got[1].kind, Command::kAll);
}

}  // namespace
}  // namespace dxpy::watch
