#include "dxpy/index/dxti.h"

#include <gtest/gtest.h>

#include <cstring>

#include "dxpy/index/test_support.h"
#include "dxpy/util/fs.h"

namespace dxpy::index {
namespace {

using format::FileRow;
using format::Header;
using format::TestEnd;
using testing::reseal;
using testing::sample_record;
using testing::write_bytes;

constexpr std::string_view kRoot = "/repo";

template <class T>
void put(std::string& bytes, size_t at, T v) {
  for (size_t k = 0; k < sizeof(T); ++k)
    bytes[at + k] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * k)) & 0xff);
}

template <class T>
T get(const std::string& bytes, size_t at) {
  uint64_t v = 0;
  for (size_t k = 0; k < sizeof(T); ++k) v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + k])) << (8 * k);
  return static_cast<T>(v);
}

size_t file_row_at(size_t i) { return sizeof(Header) + i * sizeof(FileRow); }
size_t test_end_at(size_t files, size_t t) { return sizeof(Header) + files * sizeof(FileRow) + t * sizeof(TestEnd); }

std::vector<FileRecord> three_files() {
  return {sample_record("tests/test_b.py", 3), sample_record("tests/test_a.py", 5), sample_record("conftest.py", 0)};
}

class Dxti : public testing::TempDirTest {
 protected:
  std::string index_path() const { return path("index.dxti"); }

  // Writes `bytes` and opens them; the test expects an error with `code`.
  void expect_error(const std::string& bytes, Errc code, std::string_view root = kRoot) {
    write_bytes(index_path(), bytes);
    auto r = IndexReader::open(index_path(), root);
    ASSERT_FALSE(r) << "opened a bad index";
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }
};

// The prepared path (records encoded ahead, on the parsing threads) lays out the same
// bytes as encode_index, whether the tests carry their path or leave it to the record.
TEST_F(Dxti, PreparedRecordsGiveTheSameIndex) {
  auto files = three_files();
  auto expected = encode_index(kRoot, files);
  ASSERT_TRUE(expected) << expected.error().message;
  RecordArena arena;
  std::vector<PreparedRecord> prepared;
  for (const auto& f : files) {
    FileRecord compact = f;
    for (auto& t : compact.tests) t.id.path.clear();
    auto full = prepare_record(f, arena);
    auto lean = prepare_record(compact, arena);
    ASSERT_TRUE(full && lean);
    EXPECT_EQ(full->blob, lean->blob);
    ASSERT_EQ(full->test_count(), f.tests.size());
    for (size_t k = 0; k < f.tests.size(); ++k) EXPECT_EQ(full->node_id(k).str(), f.tests[k].id.node_id());
    prepared.push_back(*lean);
  }
  EXPECT_EQ(files, three_files());  // prepare_record left the records as they were
  std::vector<const PreparedRecord*> entries;
  for (const auto& p : prepared) entries.push_back(&p);
  auto bytes = encode_prepared_index(kRoot, entries);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, *expected);
  ASSERT_TRUE(write_prepared_index(index_path(), kRoot, entries));
  EXPECT_EQ(*read_file(index_path()), *expected);

  // And an index's own entries, copied out without decoding, give it back.
  auto r = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(r) << r.error().message;
  RecordArena copies;
  std::vector<PreparedRecord> again;
  for (size_t i = r->file_count(); i-- > 0;) again.push_back(r->prepared(i, copies));  // in any order
  entries.clear();
  for (const auto& p : again) entries.push_back(&p);
  EXPECT_EQ(*encode_prepared_index(kRoot, entries), *expected);

  PreparedRecord twice = prepared[0];
  entries.push_back(&twice);
  auto dup = encode_prepared_index(kRoot, entries);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::kUsage);
}

// A large index is checksummed on another thread while its pool is written.
TEST_F(Dxti, LargePreparedIndexRoundTrips) {
  std::vector<FileRecord> files;
  for (int k = 0; k < 5000; ++k) files.push_back(sample_record("tests/test_" + std::to_string(k) + ".py", 40));
  RecordArena arena;
  std::vector<PreparedRecord> prepared;
  for (const auto& f : files) prepared.push_back(*prepare_record(f, arena));
  std::vector<const PreparedRecord*> entries;
  for (const auto& p : prepared) entries.push_back(&p);
  ASSERT_TRUE(write_prepared_index(index_path(), kRoot, entries));
  auto bytes = *read_file(index_path());
  EXPECT_GT(bytes.size(), kHelperBytes);
  EXPECT_EQ(bytes, *encode_index(kRoot, files));
  auto r = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->test_count(), 5000u * 40u);
  EXPECT_EQ(*r->record(*r->find("tests/test_17.py")), files[17]);
}

// "test_x[]" (parametrize("x", [""])) is listed and decoded as such, not as "test_x".
TEST_F(Dxti, AnEmptyParamKeepsItsBrackets) {
  FileRecord f = sample_record("tests/test_e.py", 2);
  f.tests[0].id.param = "";
  f.tests[1].id.param.reset();
  ASSERT_TRUE(write_index(index_path(), kRoot, {f}));
  auto r = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->test_node_id(0).str(), "tests/test_e.py::test_case_0[]");
  EXPECT_EQ(r->test_node_id(1).str(), "tests/test_e.py::TestGroup::test_case_1");
  auto rec = r->record(0);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->tests[0].id.param, std::optional<std::string>(""));
  EXPECT_EQ(*rec, f);
}

TEST_F(Dxti, RoundTripsFilesSortedByPath) {
  auto files = three_files();
  ASSERT_TRUE(write_index(index_path(), kRoot, files));
  auto r = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->file_count(), 3u);
  EXPECT_EQ(r->file_path(0), "conftest.py");
  EXPECT_EQ(r->file_path(1), "tests/test_a.py");
  EXPECT_EQ(r->file_path(2), "tests/test_b.py");
  ASSERT_EQ(r->test_count(), 8u);
  EXPECT_EQ(r->test_node_id(0).str(), "tests/test_a.py::test_case_0");
  EXPECT_EQ(r->test_node_id(2).str(), "tests/test_a.py::test_case_2[p2-x]");
  EXPECT_EQ(r->test_node_id(5).str(), "tests/test_b.py::test_case_0");
  EXPECT_EQ(r->test_node_id(6).str(), "tests/test_b.py::TestGroup::test_case_1");
  EXPECT_EQ(r->test_file(7), 2u);
  EXPECT_EQ(r->file_tests(0), (std::pair<size_t, size_t>{0, 0}));
  EXPECT_EQ(r->file_tests(1), (std::pair<size_t, size_t>{0, 5}));
  EXPECT_EQ(r->file_tests(2), (std::pair<size_t, size_t>{5, 3}));
  for (const auto& f : files) {
    auto i = r->find(f.path);
    ASSERT_TRUE(i.has_value()) << f.path;
    EXPECT_EQ(r->file_size(*i), f.size);
    EXPECT_EQ(r->file_mtime_ns(*i), f.mtime_ns);
    EXPECT_EQ(r->file_hash(*i), f.content_hash);
    auto rec = r->record(*i);
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(*rec, f);
  }
  EXPECT_FALSE(r->find("tests/test_c.py"));
  EXPECT_FALSE(r->find(""));
  EXPECT_FALSE(r->find("zzz"));
}

TEST_F(Dxti, EmptyIndexRoundTrips) {
  ASSERT_TRUE(write_index(index_path(), kRoot, {}));
  auto r = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->file_count(), 0u);
  EXPECT_EQ(r->test_count(), 0u);
  EXPECT_FALSE(r->find("a.py"));
}

TEST_F(Dxti, HeaderLayoutIsLittleEndian) {
  auto bytes = encode_index(kRoot, three_files());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->substr(0, 4), "DXTI");
  EXPECT_EQ(bytes->substr(4, 4), std::string("\x03\x00\x40\x00", 4));  // version 3, header 64
  EXPECT_EQ(get<uint32_t>(*bytes, offsetof(Header, file_count)), 3u);
  EXPECT_EQ(get<uint32_t>(*bytes, offsetof(Header, test_count)), 8u);
  EXPECT_EQ(get<uint64_t>(*bytes, offsetof(Header, root_hash)), blake3_u64("/repo"));
  EXPECT_EQ(get<uint64_t>(*bytes, offsetof(Header, body_size)), bytes->size() - sizeof(Header));
}

TEST_F(Dxti, RootdirIsNormalised) {
  ASSERT_TRUE(write_index(index_path(), "/repo/", three_files()));
  EXPECT_TRUE(IndexReader::open(index_path(), "/repo"));
  EXPECT_TRUE(IndexReader::open(index_path(), "/repo/sub/.."));
}

TEST_F(Dxti, MissingFileIsNotFound) {
  auto r = IndexReader::open(path("nope.dxti"), kRoot);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kNotFound);
}

TEST_F(Dxti, FolderIsNotAnIndex) {
  auto r = IndexReader::open(dir_, kRoot);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kIo);
}

TEST_F(Dxti, EmptyFileIsTruncated) { expect_error("", Errc::kTruncated); }

TEST_F(Dxti, WrongMagicIsCorrupt) {
  auto bytes = *encode_index(kRoot, three_files());
  bytes[0] = 'X';
  expect_error(bytes, Errc::kCorrupt);
  expect_error(std::string(200, '\0'), Errc::kCorrupt);
}

TEST_F(Dxti, WrongVersionIsAVersionError) {
  auto bytes = *encode_index(kRoot, three_files());
  put<uint16_t>(bytes, offsetof(Header, version), kDxtiVersion + 1);
  expect_error(bytes, Errc::kVersion);
  put<uint16_t>(bytes, offsetof(Header, version), 0);
  expect_error(bytes, Errc::kVersion);
}

TEST_F(Dxti, WrongHeaderSizeIsCorrupt) {
  auto bytes = *encode_index(kRoot, three_files());
  put<uint16_t>(bytes, offsetof(Header, header_size), 72);
  reseal(bytes);
  expect_error(bytes, Errc::kCorrupt);
}

TEST_F(Dxti, OtherRootdirIsAnError) {
  ASSERT_TRUE(write_index(index_path(), kRoot, three_files()));
  auto r = IndexReader::open(index_path(), "/elsewhere");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kCorrupt);
  EXPECT_NE(r.error().message.find("another rootdir"), std::string::npos) << r.error().message;
}

TEST_F(Dxti, ShortBodyIsTruncatedAndLongBodyIsCorrupt) {
  auto bytes = *encode_index(kRoot, three_files());
  expect_error(bytes.substr(0, bytes.size() - 1), Errc::kTruncated);
  expect_error(bytes.substr(0, sizeof(Header)), Errc::kTruncated);
  expect_error(bytes + "x", Errc::kCorrupt);
}

TEST_F(Dxti, ChecksumCoversHeaderCountsAndBody) {
  auto good = *encode_index(kRoot, three_files());
  auto bytes = good;
  put<uint32_t>(bytes, offsetof(Header, file_count), 2);
  expect_error(bytes, Errc::kCorrupt);
  bytes = good;
  bytes[bytes.size() - 3] = static_cast<char>(bytes[bytes.size() - 3] ^ 0x20);
  expect_error(bytes, Errc::kCorrupt);
}

TEST_F(Dxti, DuplicatePathsAreRefused) {
  std::vector<FileRecord> files = {sample_record("a.py", 1), sample_record("a.py", 2)};
  auto r = write_index(index_path(), kRoot, files);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUsage);
  EXPECT_FALSE(stat_path(index_path()));
}

TEST_F(Dxti, WriteIntoMissingFolderFails) {
  auto r = write_index(path("missing/index.dxti"), kRoot, three_files());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kIo);
}

// A reader maps the inode it opened; rename gives later readers a new one.
TEST_F(Dxti, AtomicReplaceLeavesOldReadersValid) {
  ASSERT_TRUE(write_index(index_path(), kRoot, three_files()));
  auto old_reader = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(old_reader);
  ASSERT_TRUE(write_index(index_path(), kRoot, {sample_record("other.py", 2)}));
  ASSERT_TRUE(write_index(index_path(), kRoot, {sample_record("newest.py", 1)}));

  EXPECT_EQ(old_reader->file_count(), 3u);
  EXPECT_EQ(old_reader->test_node_id(7).str(), "tests/test_b.py::test_case_2[p2-x]");
  auto rec = old_reader->record(1);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->path, "tests/test_a.py");

  auto new_reader = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(new_reader);
  ASSERT_EQ(new_reader->file_count(), 1u);
  EXPECT_EQ(new_reader->file_path(0), "newest.py");
}

TEST_F(Dxti, ReaderMovesOwnership) {
  ASSERT_TRUE(write_index(index_path(), kRoot, three_files()));
  auto opened = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(opened);
  IndexReader a = std::move(*opened);
  IndexReader b = std::move(a);
  EXPECT_EQ(a.file_count(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from reader is empty
  EXPECT_EQ(b.file_count(), 3u);
  a = std::move(b);
  EXPECT_EQ(a.file_path(2), "tests/test_b.py");
}

// The checksum stops accidents; these cover what a buggy writer could still produce.
class DxtiBadTables : public Dxti {
 protected:
  void SetUp() override {
    Dxti::SetUp();
    good_ = *encode_index(kRoot, three_files());
  }
  void expect_corrupt(std::string bytes) {
    reseal(bytes);
    expect_error(bytes, Errc::kCorrupt);
  }
  std::string good_;
};

TEST_F(DxtiBadTables, ResealedGoodIndexOpens) {
  auto bytes = good_;
  reseal(bytes);
  EXPECT_EQ(bytes, good_);
}

// A hostile (or corrupt) index cannot name a file outside what a walk could find: the
// loader refuses paths with "..", "." or empty components, and NUL.
TEST_F(Dxti, PathsThatEscapeTheProjectAreRefused) {
  for (const char* bad : {"../outside/test_x.py", "tests/../../test_x.py", "a/./test_x.py", "a//test_x.py",
                          "tests/", "/abs/../etc/test_x.py"}) {
    auto bytes = encode_index(kRoot, {sample_record("conftest.py", 0), sample_record(bad, 1)});
    ASSERT_TRUE(bytes) << bad;
    expect_error(*bytes, Errc::kCorrupt);
  }
  auto nul = encode_index(kRoot, {sample_record(std::string("a\0b.py", 6), 1)});
  ASSERT_TRUE(nul);
  expect_error(*nul, Errc::kCorrupt);
  // What the writer does store: relative paths, and absolute ones for files outside the rootdir.
  ASSERT_TRUE(write_index(index_path(), kRoot, {sample_record("tests/test_a.py", 1), sample_record("/elsewhere/test_b.py", 1)}));
  auto ok = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->file_count(), 2u);
}

TEST_F(DxtiBadTables, TablesLargerThanBody) {
  auto bytes = good_;
  put<uint32_t>(bytes, offsetof(Header, test_count), 0xffffffffu);
  expect_corrupt(bytes);
}

TEST_F(DxtiBadTables, PathOutsidePool) {
  auto bytes = good_;
  put<uint64_t>(bytes, file_row_at(1) + offsetof(FileRow, path_offset), ~uint64_t{0} - 2);
  expect_corrupt(bytes);
  bytes = good_;
  put<uint32_t>(bytes, file_row_at(2) + offsetof(FileRow, path_len), 1u << 30);
  expect_corrupt(bytes);
}

TEST_F(DxtiBadTables, RecordOutsidePool) {
  auto bytes = good_;
  put<uint32_t>(bytes, file_row_at(0) + offsetof(FileRow, record_len), 0xffffffffu);
  expect_corrupt(bytes);
}

TEST_F(DxtiBadTables, NodeIdOutsidePool) {
  auto bytes = good_;
  put<uint32_t>(bytes, test_end_at(3, 7), static_cast<uint32_t>(bytes.size()));  // the last test's end
  expect_corrupt(bytes);
}

TEST_F(DxtiBadTables, NodeIdEndsBeforeTheOneBefore) {
  auto bytes = good_;
  put<uint32_t>(bytes, test_end_at(3, 6), 0);  // file 2's second test ends where its tails start
  expect_corrupt(bytes);
}

TEST_F(DxtiBadTables, UnsortedPaths) {
  auto bytes = good_;
  // Swap the path references of files 1 and 2.
  const size_t off = offsetof(FileRow, path_offset);
  const size_t len = offsetof(FileRow, path_len);
  put(bytes, file_row_at(1) + off, get<uint64_t>(good_, file_row_at(2) + off));
  put(bytes, file_row_at(1) + len, get<uint32_t>(good_, file_row_at(2) + len));
  put(bytes, file_row_at(2) + off, get<uint64_t>(good_, file_row_at(1) + off));
  put(bytes, file_row_at(2) + len, get<uint32_t>(good_, file_row_at(1) + len));
  expect_corrupt(bytes);
}

TEST_F(DxtiBadTables, TestsNotGroupedByFile) {
  auto bytes = good_;
  put<uint32_t>(bytes, file_row_at(2) + offsetof(FileRow, first_test), 4);
  expect_corrupt(bytes);
  bytes = good_;
  put<uint32_t>(bytes, file_row_at(2) + offsetof(FileRow, test_count), 2);  // leaves an orphan row
  expect_corrupt(bytes);
}

TEST_F(DxtiBadTables, RecordThatDisagreesWithItsRow) {
  auto bytes = good_;
  put<uint64_t>(bytes, file_row_at(1) + offsetof(FileRow, size), 7);
  reseal(bytes);
  write_bytes(index_path(), bytes);
  auto r = IndexReader::open(index_path(), kRoot);
  ASSERT_TRUE(r) << r.error().message;  // the tables alone are consistent
  EXPECT_EQ(r->file_size(1), 7u);
  auto rec = r->record(1);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().code, Errc::kCorrupt);
  EXPECT_TRUE(r->record(0));
}

}  // namespace
}  // namespace dxpy::index
