// Property 2 (Test Index Round-Trip), and robustness: a truncated, flipped, foreign or
// random .dxti file gives an error, never a crash or a different list.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "dxpy/core/test_arbitrary.h"
#include "dxpy/index/dxti.h"
#include "dxpy/index/test_support.h"
#include "dxpy/util/fs.h"

namespace dxpy::index {
namespace {

using format::FileRow;
using format::Header;
using format::TestEnd;
using testing::reseal;
using testing::write_bytes;

constexpr std::string_view kRoot = "/repo";

// One folder for every property case (each case overwrites its file), removed after the
// run unless a test failed.
class PropDir : public ::testing::Environment {
 public:
  void SetUp() override { dir_ = testing::make_temp_dir("dxpy_index_prop_"); }
  void TearDown() override {
    if (!::testing::UnitTest::GetInstance()->Failed()) std::filesystem::remove_all(dir_);
  }
  std::string file(std::string_view name) const { return dir_ + "/" + std::string(name); }

 private:
  std::string dir_;
};
PropDir* const g_dir = static_cast<PropDir*>(::testing::AddGlobalTestEnvironment(new PropDir));

template <class T>
void put(std::string& bytes, size_t at, T v) {
  for (size_t k = 0; k < sizeof(T); ++k)
    bytes[at + k] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * k)) & 0xff);
}

// A path as the writer stores them (any bytes but '/' and NUL in a component; no empty,
// "." or ".." component: the loader refuses those), made from an arbitrary string.
std::string storable_path(const std::string& p) {
  std::string out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    if (slash == std::string::npos) slash = p.size();
    std::string part = p.substr(start, slash - start);
    std::replace(part.begin(), part.end(), '\0', '_');
    if (!part.empty() && part != "." && part != "..") out += (out.empty() ? "" : "/") + part;
    start = slash + 1;
  }
  return out.empty() ? "x" : out;
}

// Index contents with unique paths (write_index requires them), in no particular order.
// Scaled down so that 1,000 cases of a property run in a few seconds.
rc::Gen<std::vector<FileRecord>> gen_files() {
  return rc::gen::map(rc::gen::scale(0.15, rc::gen::arbitrary<std::vector<FileRecord>>()),
                      [](std::vector<FileRecord> files) {
                        std::map<std::string, FileRecord> by_path;
                        for (auto& f : files) {
                          f.path = storable_path(f.path);
                          by_path.emplace(f.path, std::move(f));
                        }
                        std::vector<FileRecord> out;
                        for (auto& entry : by_path) out.push_back(std::move(entry.second));
                        // The index keeps tests in their record's path and without `file`.
                        for (auto& f : out)
                          for (auto& t : f.tests) {
                            t.id.path = f.path;
                            t.file.clear();
                          }
                        std::reverse(out.begin(), out.end());
                        return out;
                      });
}

Expected<IndexReader> write_and_open(const std::string& bytes, std::string_view root = kRoot) {
  std::string path = g_dir->file("case.dxti");
  // A fresh inode each time: ext4 flushes a file rewritten through O_TRUNC on close.
  std::filesystem::remove(path);
  write_bytes(path, bytes);
  return IndexReader::open(path, root);
}

// Touches everything an opened index offers, and checks the invariants open() promises.
// Under ASan this is what proves the bounds checks complete.
void walk(const IndexReader& r) {
  size_t next_test = 0;
  for (size_t i = 0; i < r.file_count(); ++i) {
    std::string_view path = r.file_path(i);
    if (i > 0) RC_ASSERT(r.file_path(i - 1) < path);
    RC_ASSERT(r.find(path) == std::optional<size_t>(i));
    (void)r.file_size(i);
    (void)r.file_mtime_ns(i);
    (void)r.file_hash(i);
    auto [first, count] = r.file_tests(i);
    RC_ASSERT(first == next_test);
    next_test += count;
    auto rec = r.record(i);
    if (rec) RC_ASSERT(rec->path == path);
  }
  RC_ASSERT(next_test == r.test_count());
  for (size_t t = 0; t < r.test_count(); ++t) {
    size_t f = r.test_file(t);
    RC_ASSERT(f < r.file_count());
    auto [first, count] = r.file_tests(f);
    RC_ASSERT(first <= t && t < first + count);
    std::string id = r.test_node_id(t).str();
    RC_ASSERT(id.size() < (size_t{1} << 32));
  }
}

// Property 2: Test Index Round-Trip. write_index is encode_index plus write_file_atomic,
// whose fsync costs ~5 ms a case on ext4, so the property writes plainly; the unit tests
// cover write_index itself.
RC_GTEST_PROP(DxtiProp, RoundTrips, ()) {
  const auto files = *gen_files();
  auto bytes = encode_index(kRoot, files);
  RC_ASSERT(bytes.has_value());
  auto r = write_and_open(*bytes);
  RC_ASSERT(r.has_value());
  RC_ASSERT(r->file_count() == files.size());
  size_t tests = 0;
  for (const auto& f : files) {
    auto i = r->find(f.path);
    RC_ASSERT(i.has_value());
    RC_ASSERT(r->file_path(*i) == f.path);
    RC_ASSERT(r->file_size(*i) == f.size);
    RC_ASSERT(r->file_mtime_ns(*i) == f.mtime_ns);
    RC_ASSERT(r->file_hash(*i) == f.content_hash);
    auto rec = r->record(*i);
    RC_ASSERT(rec.has_value());
    RC_ASSERT(*rec == f);
    auto [first, count] = r->file_tests(*i);
    RC_ASSERT(count == f.tests.size());
    for (size_t k = 0; k < count; ++k) {
      RC_ASSERT(r->test_node_id(first + k).str() == f.tests[k].id.node_id());
      RC_ASSERT(r->test_file(first + k) == *i);
    }
    tests += count;
  }
  RC_ASSERT(r->test_count() == tests);
  walk(*r);
}

RC_GTEST_PROP(DxtiProp, TruncationIsAnError, ()) {
  const auto bytes = *encode_index(kRoot, *gen_files());
  const auto cut = *rc::gen::inRange<size_t>(0, bytes.size());
  auto r = write_and_open(bytes.substr(0, cut));
  RC_ASSERT(!r.has_value());
  RC_ASSERT(r.error().code == Errc::kTruncated);
}

RC_GTEST_PROP(DxtiProp, ByteFlipIsAnError, ()) {
  auto bytes = *encode_index(kRoot, *gen_files());
  const auto at = *rc::gen::inRange<size_t>(0, bytes.size());
  const auto mask = *rc::gen::inRange<int>(1, 256);
  bytes[at] = static_cast<char>(bytes[at] ^ mask);
  RC_ASSERT(!write_and_open(bytes).has_value());
}

RC_GTEST_PROP(DxtiProp, OtherRootdirIsAnError, (const std::string& other)) {
  RC_PRE(absolute_path("/" + other) != absolute_path(kRoot));
  const auto bytes = *encode_index(kRoot, *gen_files());
  auto r = write_and_open(bytes, "/" + other);
  RC_ASSERT(!r.has_value());
  RC_ASSERT(r.error().code == Errc::kCorrupt);
}

// Fuzz: random bytes, bare or behind a header that passes every check but the checksum.
RC_GTEST_PROP(DxtiProp, RandomBytesAreAnError, (const std::string& junk, bool plausible_header)) {
  std::string bytes = junk;
  if (plausible_header) {
    std::string h(sizeof(Header), '\0');
    h.replace(0, 4, "DXTI");
    put<uint16_t>(h, offsetof(Header, version), kDxtiVersion);
    put<uint16_t>(h, offsetof(Header, header_size), sizeof(Header));
    put<uint32_t>(h, offsetof(Header, file_count), *rc::gen::inRange<uint32_t>(0, 4));
    put<uint32_t>(h, offsetof(Header, test_count), *rc::gen::inRange<uint32_t>(0, 4));
    put<uint64_t>(h, offsetof(Header, root_hash), blake3_u64(kRoot));
    put<uint64_t>(h, offsetof(Header, body_size), junk.size());
    bytes = h + junk;
  }
  RC_ASSERT(!write_and_open(bytes).has_value());
}

// The checksum hides table bugs from the properties above, so these reseal mutated or
// random tables: whatever a buggy writer produced, open() fails or every accessor is safe.
RC_GTEST_PROP(DxtiProp, ResealedMutationsStayInBounds, ()) {
  const auto files = *gen_files();
  size_t tests = 0;
  for (const auto& f : files) tests += f.tests.size();
  auto bytes = *encode_index(kRoot, files);
  const size_t tables_end = sizeof(Header) + files.size() * sizeof(FileRow) + tests * sizeof(TestEnd);
  const auto n = *rc::gen::inRange(1, 4);
  for (int k = 0; k < n; ++k) {
    // Mostly the counts and tables, where a bad value could point outside the mapping.
    const bool in_tables = *rc::gen::arbitrary<bool>();
    const auto at = in_tables ? *rc::gen::inRange<size_t>(offsetof(Header, file_count), tables_end)
                              : *rc::gen::inRange<size_t>(0, bytes.size());
    if (at >= offsetof(Header, root_hash) && at < sizeof(Header)) continue;  // root, size, checksum
    bytes[at] = static_cast<char>(bytes[at] ^ *rc::gen::inRange<int>(1, 256));
  }
  reseal(bytes);
  auto r = write_and_open(bytes);
  if (r) walk(*r);
}

RC_GTEST_PROP(DxtiProp, SealedRandomTablesStayInBounds, ()) {
  // Small numbers, so that offsets land inside the pool often enough to pass the checks.
  const auto files = *rc::gen::inRange<uint32_t>(0, 4);
  const auto tests = *rc::gen::inRange<uint32_t>(0, 6);
  const auto pool = *rc::gen::container<std::string>(rc::gen::elementOf(std::string("ab/\0", 4)));
  auto small = [](uint64_t hi) { return *rc::gen::inRange<uint64_t>(0, hi); };
  std::string bytes(sizeof(Header) + files * sizeof(FileRow) + tests * sizeof(TestEnd), '\0');
  for (size_t i = 0; i < files; ++i) {
    const size_t row = sizeof(Header) + i * sizeof(FileRow);
    put<uint64_t>(bytes, row + offsetof(FileRow, path_offset), small(pool.size() + 3));
    put<uint32_t>(bytes, row + offsetof(FileRow, path_len), static_cast<uint32_t>(small(5)));
    put<uint64_t>(bytes, row + offsetof(FileRow, record_offset), small(pool.size() + 3));
    put<uint32_t>(bytes, row + offsetof(FileRow, record_len), static_cast<uint32_t>(small(5)));
    put<uint32_t>(bytes, row + offsetof(FileRow, first_test), static_cast<uint32_t>(small(tests + 2)));
    put<uint32_t>(bytes, row + offsetof(FileRow, test_count), static_cast<uint32_t>(small(4)));
  }
  for (size_t t = 0; t < tests; ++t) {
    const size_t end = sizeof(Header) + files * sizeof(FileRow) + t * sizeof(TestEnd);
    put<uint32_t>(bytes, end, static_cast<uint32_t>(small(pool.size() + 3)));
  }
  bytes += pool;
  bytes.replace(0, 4, "DXTI");
  put<uint16_t>(bytes, offsetof(Header, version), kDxtiVersion);
  put<uint16_t>(bytes, offsetof(Header, header_size), sizeof(Header));
  put<uint32_t>(bytes, offsetof(Header, file_count), files);
  put<uint32_t>(bytes, offsetof(Header, test_count), tests);
  put<uint64_t>(bytes, offsetof(Header, root_hash), blake3_u64(kRoot));
  put<uint64_t>(bytes, offsetof(Header, body_size), bytes.size() - sizeof(Header));
  reseal(bytes);
  auto r = write_and_open(bytes);
  RC_CLASSIFY(r.has_value(), "opened");
  if (r) walk(*r);
}

}  // namespace
}  // namespace dxpy::index
