#pragma once
// Helpers shared by the graph tests: a scoped temp folder kept when a test fails, a
// project laid out from a path -> source map, and resealing edited .dxig bytes.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <string_view>

#include "dxpy/graph/store.h"
#include "dxpy/util/hash.h"
#include "dxpy/util/test_checksum.h"

namespace dxpy::graph {

/// gtest prints a graph in a failure as its describe().
inline void PrintTo(const ImportGraph& g, std::ostream* os) { *os << "\n" << g.describe(); }

}  // namespace dxpy::graph

namespace dxpy::graph::testing {

inline std::string make_temp_dir(const char* prefix) {
  std::string tmpl = ::testing::TempDir() + prefix + "XXXXXX";
  const char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

/// A plain, non-atomic write (parents created): projects, and truncated or corrupt files.
inline void write_bytes(const std::string& path, std::string_view bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("dxpy_graph_"); }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);  // kept for a look when a test fails
  }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  void write(std::string_view name, std::string_view text) const { write_bytes(path(name), text); }
  void write_all(const std::map<std::string, std::string>& files) const {
    for (const auto& [name, text] : files) write(name, text);
  }
  std::string dir_;
};

/// Recomputes the header checksum after a test edited the bytes, from the format comment
/// in store.h rather than shared with the writer, so it also checks that comment.
inline void reseal(std::string& bytes) {
  dxpy::testing::reseal_checksum(bytes, sizeof(format::Header), format::kChecksummedHeaderBytes,
                                 offsetof(format::Header, checksum));
}

template <class T>
void put(std::string& bytes, size_t at, T v) {
  for (size_t k = 0; k < sizeof(T); ++k)
    bytes[at + k] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * k)) & 0xff);
}

}  // namespace dxpy::graph::testing
