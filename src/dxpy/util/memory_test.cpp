#include "dxpy/util/memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace dxpy {
namespace {

// Populating leaves what the memory holds as it was, on whole pages and on ranges that
// start and end inside a page, and does nothing for an empty range.
TEST(PopulateForWrite, KeepsTheBytesAndAcceptsAnyRange) {
  std::vector<uint32_t> big(1 << 18);  // 1 MiB: its own mapping
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint32_t>(i * 2654435761u);
  populate_for_write(big.data(), big.size() * sizeof(uint32_t));
  populate_for_write(big.data() + 3, 10);
  populate_for_write(big.data(), 0);
  populate_for_write(nullptr, 100);
  for (size_t i = 0; i < big.size(); ++i) ASSERT_EQ(big[i], static_cast<uint32_t>(i * 2654435761u)) << i;

  std::vector<uint32_t> fresh;
  fresh.reserve(1 << 18);
  populate_for_write(fresh.data(), fresh.capacity() * sizeof(uint32_t));
  fresh.assign(1 << 18, 7u);  // written after: as usual
  EXPECT_EQ(fresh.front(), 7u);
  EXPECT_EQ(fresh.back(), 7u);

  auto small = std::make_unique<char[]>(5);
  small[0] = 'a';
  small[4] = 'e';
  populate_for_write(small.get(), 5);
  EXPECT_EQ(small[0], 'a');
  EXPECT_EQ(small[4], 'e');
}

}  // namespace
}  // namespace dxpy
