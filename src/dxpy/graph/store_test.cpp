// The .dxig file on disk: a saved graph loads equal, and each way a file can be wrong
// gives the error store.h names.
#include "dxpy/graph/store.h"

#include <gtest/gtest.h>

#include "dxpy/graph/test_support.h"
#include "dxpy/util/fs.h"

namespace dxpy::graph {

namespace {

using format::Header;
using testing::put;
using testing::reseal;
using testing::write_bytes;

GraphOptions options(std::string root = "/repo") {
  GraphOptions o;
  o.rootdir = std::move(root);
  return o;
}

ImportGraph sample(const GraphOptions& o = options()) {
  ImportGraph g(o);
  g.set_file("app/__init__.py", "", {0, 1});
  g.set_file("app/a.py", "import os\nfrom . import b\n", {30, 1'700'000'000'123'456'789});
  g.set_file("app/b.py", "try:\n    import numpy as np\nexcept ImportError:\n    np = None\n", {60, -5});
  g.set_file("lib/util.py", "", {0, 2});
  g.set_file("tests/test_a.py", "from app import a\nimport util\n", {40, 3});
  g.resolve();
  return g;
}

class GraphStore : public testing::TempDirTest {
 protected:
  std::string file() const { return path(std::string(kGraphFileName)); }
  void expect_error(const std::string& bytes, Errc code, const GraphOptions& o = options()) {
    write_bytes(file(), bytes);
    auto g = load_graph(file(), o);
    ASSERT_FALSE(g) << "loaded a bad graph";
    EXPECT_EQ(g.error().code, code) << g.error().message;
    EXPECT_NE(g.error().message.find(file()), std::string::npos) << g.error().message;
  }
};

TEST_F(GraphStore, SavedGraphLoadsEqual) {
  const ImportGraph g = sample();
  ASSERT_TRUE(save_graph(file(), g));
  auto loaded = load_graph(file(), options());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, g);
  EXPECT_EQ(loaded->stamp("app/a.py"), (FileStamp{30, 1'700'000'000'123'456'789}));
  EXPECT_EQ(loaded->stamp("app/b.py"), (FileStamp{60, -5}));
  EXPECT_EQ(loaded->external_modules(), (std::vector<std::string>{"numpy", "os", "util"}));
  EXPECT_EQ(encode_graph(*loaded), encode_graph(g));
}

TEST_F(GraphStore, EdgesAreResolvedAgainOnLoad) {
  // The file holds what the sources said; a changed pythonpath changes the edges.
  ASSERT_TRUE(save_graph(file(), sample()));
  GraphOptions o = options();
  o.pythonpath = {"/repo/lib"};
  auto loaded = load_graph(file(), o);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, sample(o));
  EXPECT_EQ(loaded->dependents("lib/util.py"), (std::vector<std::string>{"tests/test_a.py"}));
}

TEST_F(GraphStore, HeaderAsDocumented) {
  const std::string bytes = encode_graph(sample());
  ASSERT_GE(bytes.size(), sizeof(Header));
  EXPECT_EQ(bytes.substr(0, 4), "DXIG");
  EXPECT_EQ(bytes[offsetof(Header, version)], static_cast<char>(kGraphVersion));
  EXPECT_EQ(bytes[offsetof(Header, header_size)], 64);
  EXPECT_EQ(bytes[offsetof(Header, file_count)], 5);
  EXPECT_EQ(bytes[offsetof(Header, import_count)], 5);
  std::string resealed = bytes;
  reseal(resealed);
  EXPECT_EQ(resealed, bytes);
}

TEST_F(GraphStore, MissingFile) {
  auto g = load_graph(file(), options());
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::kNotFound);
}

TEST_F(GraphStore, EachKindOfBadFile) {
  const std::string good = encode_graph(sample());
  expect_error("", Errc::kTruncated);
  expect_error(good.substr(0, sizeof(Header) - 1), Errc::kTruncated);
  expect_error(good.substr(0, good.size() - 1), Errc::kTruncated);
  expect_error(good + "x", Errc::kCorrupt);
  expect_error(good, Errc::kCorrupt, options("/other"));

  std::string bad = good;
  bad[0] = 'X';
  expect_error(bad, Errc::kCorrupt);

  bad = good;
  put<uint16_t>(bad, offsetof(Header, version), kGraphVersion + 1);
  expect_error(bad, Errc::kVersion);
  reseal(bad);
  expect_error(bad, Errc::kVersion);

  bad = good;
  put<uint16_t>(bad, offsetof(Header, header_size), 72);
  expect_error(bad, Errc::kCorrupt);

  bad = good;
  bad[bad.size() - 3] ^= 0x20;
  expect_error(bad, Errc::kCorrupt);  // checksum

  // Resealed: what the checksum would hide from the checks after it.
  for (uint32_t files : {4u, 6u, 1000000u}) {
    bad = good;
    put<uint32_t>(bad, offsetof(Header, file_count), files);
    reseal(bad);
    expect_error(bad, files == 1000000u || files == 6u ? Errc::kTruncated : Errc::kCorrupt);
  }
  for (uint32_t imports : {4u, 6u}) {
    bad = good;
    put<uint32_t>(bad, offsetof(Header, import_count), imports);
    reseal(bad);
    expect_error(bad, Errc::kCorrupt);
  }
  // The first path, "app/__init__.py", made "../__init__.py" and "app/__init__.pz".
  const size_t first_path = sizeof(Header) + 1;
  ASSERT_EQ(good.substr(first_path, 15), "app/__init__.py");
  bad = good;
  bad.replace(first_path, 3, "../");
  reseal(bad);
  expect_error(bad, Errc::kCorrupt);
  bad = good;
  bad[first_path + 14] = 'z';
  reseal(bad);
  expect_error(bad, Errc::kCorrupt);
  // Out of order: "app/__init__.py" made "zpp/__init__.py" comes before "app/a.py".
  bad = good;
  bad[first_path] = 'z';
  reseal(bad);
  expect_error(bad, Errc::kCorrupt);
}

TEST_F(GraphStore, SaveReplacesAtomically) {
  ASSERT_TRUE(save_graph(file(), sample()));
  ImportGraph g(options());
  g.set_file("only.py", "");
  g.resolve();
  ASSERT_TRUE(save_graph(file(), g));
  auto loaded = load_graph(file(), options());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->paths(), (std::vector<std::string>{"only.py"}));
  // No temp file left beside it.
  EXPECT_EQ(list_dir(dir_), (std::vector<std::string>{std::string(kGraphFileName)}));
}

}  // namespace
}  // namespace dxpy::graph
