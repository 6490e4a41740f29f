#pragma once
// A scoped temp folder for the snapshot tests, kept when a test fails.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace dxpy::snapshot::testing {

inline std::string make_temp_dir(const char* prefix) {
  std::string tmpl = ::testing::TempDir() + prefix + "XXXXXX";
  const char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("dxpy_snapshot_"); }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

}  // namespace dxpy::snapshot::testing
