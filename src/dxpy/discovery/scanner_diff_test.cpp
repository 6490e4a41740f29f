#include <gtest/gtest.h>

#include "dxpy/discovery/scanner.h"
#include "dxpy/discovery/ts_outline.h"

TEST(Placeholder, Builds) { EXPECT_TRUE(dxpy::discovery::scan_outline("").errors.empty()); }
