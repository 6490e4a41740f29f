#pragma once
// Helpers shared by the index tests: a scoped temp folder kept when a test fails, raw file
// writes for corrupt inputs, and a small realistic FileRecord.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "dxpy/core/types.h"
#include "dxpy/index/dxti.h"
#include "dxpy/util/hash.h"
#include "dxpy/util/test_checksum.h"
#include "dxpy/util/test_temp_dir.h"

namespace dxpy::index::testing {

using dxpy::testing::make_temp_dir;

class TempDirTest : public dxpy::testing::TempDirTest {
 protected:
  TempDirTest() : dxpy::testing::TempDirTest("dxpy_index_") {}
};

/// A plain, non-atomic write: tests use it to lay down truncated or corrupt files.
inline void write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Recomputes the header checksum after a test edited the bytes, written from the format
/// comment in dxti.h rather than shared with the writer, so it also checks that comment.
inline void reseal(std::string& bytes) {
  dxpy::testing::reseal_checksum(bytes, sizeof(format::Header), format::kChecksummedHeaderBytes,
                                 offsetof(format::Header, checksum));
}

inline FileRecord sample_record(const std::string& path, int tests) {
  FileRecord r;
  r.path = path;
  r.size = 1000 + path.size();
  r.mtime_ns = 1'700'000'000'000'000'000LL + static_cast<int64_t>(path.size());
  r.content_hash = blake3(path);
  for (int k = 0; k < tests; ++k) {
    TestCase t;
    t.id.path = path;
    if (k % 3 == 1) t.id.classes = {"TestGroup"};
    t.id.name = "test_case_" + std::to_string(k);
    if (k % 4 == 2) {
      std::string param = "p";  // appended, not "p" + ...: GCC 12 gives a false -Wrestrict there
      param += std::to_string(k);
      param += "-x";
      t.id.param = std::move(param);
    } else if (k % 8 == 7) {
      t.id.param = "";  // pytest's "test_x[]"
    }
    t.line = static_cast<uint32_t>(10 + 5 * k);
    t.kind = k % 3 == 1 ? TestKind::kMethod : TestKind::kFunction;
    if (k % 5 == 0) t.markers.push_back(Marker{"slow", {}, {}});
    t.fixtures = {"tmp_path"};
    r.tests.push_back(std::move(t));
  }
  r.fixtures.push_back(FixtureDef{FixtureId{"db", path, 3}, FixtureScope::kModule, false, "", {"tmp_path"}});
  r.imports.push_back(ImportRef{"os.path", {}, {}, "", 0, 1, false});
  return r;
}

}  // namespace dxpy::index::testing
