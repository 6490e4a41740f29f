#pragma once
// A scoped temp folder for the snapshot tests, kept when a test fails (util/test_temp_dir.h).
#include "dxpy/util/test_temp_dir.h"

namespace dxpy::snapshot::testing {

using dxpy::testing::make_temp_dir;

class TempDirTest : public dxpy::testing::TempDirTest {
 protected:
  TempDirTest() : dxpy::testing::TempDirTest("dxpy_snapshot_") {}
};

}  // namespace dxpy::snapshot::testing
