#include "dxpy/util/text.h"

#include <gtest/gtest.h>

namespace dxpy {
namespace {

using V = std::vector<std::string>;

TEST(Text, SplitNonemptyDropsEmptyPieces) {
  EXPECT_EQ(split_nonempty("a\nb\n", '\n'), (V{"a", "b"}));
  EXPECT_EQ(split_nonempty("\n\na\n\nb", '\n'), (V{"a", "b"}));
  EXPECT_EQ(split_nonempty("toolz:simplejson", ':'), (V{"toolz", "simplejson"}));
  EXPECT_EQ(split_nonempty("", ':'), V{});
  EXPECT_EQ(split_nonempty(":::", ':'), V{});
  EXPECT_EQ(split_nonempty("one", ':'), V{"one"});
}

}  // namespace
}  // namespace dxpy
