#pragma once
// Test-only: a scoped temp folder for GoogleTest fixtures, kept when a test fails so that
// its files can be looked at. Components' test_support.h headers build on it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace dxpy::testing {

inline std::string make_temp_dir(const char* prefix) {
  std::string tmpl = ::testing::TempDir() + prefix + "XXXXXX";
  const char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

/// `Prefix` names the folder ("dxpy_index_"): a fixture per component.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(const char* prefix = "dxpy_test_") : prefix_(prefix) {}
  void SetUp() override { dir_ = make_temp_dir(prefix_); }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);  // kept for a look when a test fails
  }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  std::string dir_;

 private:
  const char* prefix_;
};

}  // namespace dxpy::testing
