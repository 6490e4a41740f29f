#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "dxpy/snapshot/checker.h"
#include "dxpy/snapshot/index.h"
#include "dxpy/snapshot/snap_file.h"
#include "dxpy/snapshot/store.h"
#include "dxpy/snapshot/test_support.h"
#include "dxpy/util/fs.h"

namespace dxpy::snapshot {
namespace {

using testing::TempDirTest;

bool make_dirs_for_test(const std::string& dir) { return ::mkdir(dir.c_str(), 0777) == 0; }

void write_plain(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(SnapFile, RendersSortedEntriesWithIndentedValues) {
  std::vector<Entry> entries = {{"t.py::test_b", "1", "x"}, {"t.py::test_a", "2", "line1\n== t.py::x | 1\n"}};
  normalize(entries);
  std::string text = render(entries);
  EXPECT_EQ(text, std::string(kSnapHeader) +
                      "\n== t.py::test_a | 2\n  line1\n  == t.py::x | 1\n\n== t.py::test_b | 1\n  x\n");
  auto back = parse(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, entries);
}

TEST(SnapFile, EscapesBarsAndNewlinesInKeys) {
  std::vector<Entry> entries = {{"t.py::test[a | b]", "n\\|\n", "v"}};
  std::string text = render(entries);
  EXPECT_NE(text.find("== t.py::test[a \\| b] | n\\\\\\|\\n\n"), std::string::npos) << text;
  auto back = parse(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, entries);
}

TEST(SnapFile, NormalizeKeepsTheLastOfEqualKeys) {
  std::vector<Entry> entries = {{"a", "1", "old"}, {"b", "1", "x"}, {"a", "1", "new"}};
  normalize(entries);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].value, "new");
}

TEST(SnapFile, AcceptsEmptyLinesForEmptyValueLinesAndLinesWithoutFinalNewline) {
  auto back = parse("# c\n\n== a | 1\n  x\n\n  y");
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].value, "x\n\ny");
}

TEST(SnapFile, RejectsMalformedLinesWithTheirNumber) {
  auto bad = parse("== a | 1\n  x\nstray\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kParse);
  EXPECT_NE(bad.error().message.find("line 3"), std::string::npos);
  EXPECT_FALSE(parse("== no separator\n"));
  EXPECT_FALSE(parse("text before an entry\n"));
  EXPECT_FALSE(parse("== a | 1\n== a | 1\n"));  // duplicate key
  EXPECT_FALSE(parse("== a\\q | 1\n"));          // unknown escape
}

// Fuzzer finding (snapshot_fuzz_snap, corpus regression-duplicate-after-unordered): once
// an entry came out of order, a later header repeating an earlier key (not the last one)
// was accepted, and the file parsed into two entries of the same key.
TEST(SnapFile, RejectsADuplicateKeyAfterAnEntryOutOfOrder) {
  auto bad = parse("== b | 1\n  x\n== a | 1\n  y\n== c | 1\n  z\n== b | 1\n  w\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kParse);
  EXPECT_NE(bad.error().message.find("line 7: a second entry for b | 1"), std::string::npos) << bad.error().message;
  auto ok = parse("== b | 1\n  x\n== a | 1\n  y\n== c | 1\n  z\n");  // out of order, no duplicate
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[0].test, "a");
}

TEST(Index, RoundTripsAndRejectsDamage) {
  Index index;
  index.put({"t/__snapshots__/b.snap", 10, 20, blake3("b"), {{"t/b.py::x", "1", blake3("v")}}});
  index.put({"t/__snapshots__/a.snap", 1, 2, blake3("a"), {}});
  ASSERT_EQ(index.files[0].path, "t/__snapshots__/a.snap");
  std::string bytes = encode_index(index, 7);
  auto back = decode_index(bytes, 7);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, index);
  EXPECT_EQ(decode_index(bytes, 8).error().code, Errc::kCorrupt);  // another rootdir
  EXPECT_EQ(decode_index(bytes.substr(0, 10), 7).error().code, Errc::kTruncated);
  std::string flipped = bytes;
  flipped[bytes.size() - 1] ^= 1;
  EXPECT_EQ(decode_index(flipped, 7).error().code, Errc::kCorrupt);
  std::string version = bytes;
  version[4] = 9;
  EXPECT_EQ(decode_index(version, 7).error().code, Errc::kVersion);
}

TEST(SnapPath, SitsBesideTheTestModule) {
  EXPECT_EQ(snap_path_for("tests/test_x.py"), "tests/__snapshots__/test_x.snap");
  EXPECT_EQ(snap_path_for("test_y.py"), "__snapshots__/test_y.snap");
  EXPECT_EQ(snap_path_for("tests/test_x.py", "snaps"), "snaps/tests/test_x.snap");
  EXPECT_EQ(snap_path_for("test_y.py", "snaps"), "snaps/test_y.snap");
}

class StoreTest : public TempDirTest {};

TEST_F(StoreTest, UpdateWritesFileAndIndexAndHashesComeFromTheIndex) {
  Store store(dir_);
  auto written = store.update("__snapshots__/t.snap", {{"t.py::a", "1", "one"}, {"t.py::b", "1", "two"}});
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->size(), 2u);
  EXPECT_EQ((*written)[0].value_hash, blake3("one"));
  Store other(dir_);  // another worker
  auto h = other.hashes("__snapshots__/t.snap");
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, *written);
  EXPECT_FALSE(other.last_read_file());  // decided from the index alone
  EXPECT_TRUE(stat_path(store.index_path()));
}

TEST_F(StoreTest, AStaleRowIsRebuiltFromTheEditedFile) {
  Store store(dir_);
  ASSERT_TRUE(store.update("__snapshots__/t.snap", {{"t.py::a", "1", "one"}}));
  write_plain(dir_ + "/__snapshots__/t.snap", render({{"t.py::a", "1", "changed by hand, longer"}}));
  auto h = Store(dir_).hashes("__snapshots__/t.snap");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].value_hash, blake3("changed by hand, longer"));
  Store again(dir_);
  ASSERT_TRUE(again.hashes("__snapshots__/t.snap"));
  EXPECT_FALSE(again.last_read_file());  // the rebuilt row was saved
}

TEST_F(StoreTest, ACorruptIndexIsIgnoredAndRebuilt) {
  Store store(dir_);
  ASSERT_TRUE(store.update("__snapshots__/t.snap", {{"t.py::a", "1", "one"}}));
  write_plain(store.index_path(), "garbage");
  Store fresh(dir_);
  auto h = fresh.hashes("__snapshots__/t.snap");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_TRUE(fresh.last_read_file());
  auto idx = read_file(store.index_path());
  ASSERT_TRUE(idx);
  EXPECT_TRUE(decode_index(*idx, blake3_u64(dir_)));
}

TEST_F(StoreTest, RemovingTheLastEntryDeletesTheFile) {
  Store store(dir_);
  ASSERT_TRUE(store.update("__snapshots__/t.snap", {{"t.py::a", "1", "one"}}));
  auto left = store.update("__snapshots__/t.snap", {}, {{"t.py::a", "1"}});
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  EXPECT_FALSE(stat_path(dir_ + "/__snapshots__/t.snap"));
  auto h = store.hashes("__snapshots__/t.snap");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->empty());
}

TEST_F(StoreTest, AnUnparsableSnapFileIsAnError) {
  ASSERT_TRUE(Store(dir_).update("__snapshots__/t.snap", {{"t.py::a", "1", "one"}}));
  write_plain(dir_ + "/__snapshots__/t.snap", "not a snapshot file\n");
  auto h = Store(dir_).hashes("__snapshots__/t.snap");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kParse);
}

TEST_F(StoreTest, ProcessesWritingTheSameFileLoseNoEntry) {
  constexpr int kProcs = 4, kEach = 25;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Store store(dir_);
      for (int i = 0; i < kEach; ++i) {
        std::string test = "t.py::w" + std::to_string(p) + "_" + std::to_string(i);
        if (!store.update("__snapshots__/t.snap", {{test, "1", test}})) ::_exit(1);
      }
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto entries = Store(dir_).read("__snapshots__/t.snap");
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->size(), static_cast<size_t>(kProcs * kEach));
  Store reader(dir_);
  auto h = reader.hashes("__snapshots__/t.snap");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), static_cast<size_t>(kProcs * kEach));
  EXPECT_FALSE(reader.last_read_file());
}

TEST(Records, RoundTripAndStopAtACutRecord) {
  std::vector<UseRecord> records = {{Use::kMatched, "a/__snapshots__/t.snap", "a/t.py::x[1 | 2]", "1"},
                                    {Use::kWritten, "s", "t", std::string_view("name\nwith\0nul", 13)},
                                    {Use::kUpdated, "s", "t", "2"},
                                    {Use::kMatched, "a/__snapshots__/t.snap", "", ""}};
  RecordWriter w;
  for (const auto& r : records) w.add(r.use, r.snap, r.test, r.name);
  std::string bytes = w.bytes();
  EXPECT_EQ(parse_records(bytes), records);
  // A path is written once for the records after it on the same file: S + 4 + path, then
  // K + 8 + test + name each: 27 + 26, 6 + 23 + 11, 27 + 9.
  EXPECT_EQ(bytes.size(), 129u);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto some = parse_records(std::string_view(bytes).substr(0, cut));
    ASSERT_LE(some.size(), records.size());
    EXPECT_TRUE(std::equal(some.begin(), some.end(), records.begin())) << cut;
  }
  EXPECT_TRUE(parse_records("X garbage").empty());
}

class CheckerTest : public TempDirTest {};

TEST_F(CheckerTest, AMatchIsDecidedFromTheIndexAndRecorded) {
  ASSERT_TRUE(Store(dir_).update("__snapshots__/t.snap", {{"t.py::a", "1", "one"}, {"t.py::b", "x", "two"}}));
  Checker c(dir_);
  auto r = c.check("__snapshots__/t.snap", "t.py::a", "1", "one");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Checker::Outcome::kMatched);
  EXPECT_FALSE(c.store().last_read_file());
  // The .snap file is not needed for a match: a fresh row is read in place from the index.
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::b", "x", "two"), Checker::Outcome::kMatched);
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::b", "x", "TWO"), Checker::Outcome::kDiffers);
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::c", "1", "one"), Checker::Outcome::kMissing);
  EXPECT_EQ(*c.check("__snapshots__/none.snap", "t.py::a", "1", "one"), Checker::Outcome::kMissing);
  auto recs = parse_records(c.records().bytes());
  ASSERT_EQ(recs.size(), 2u);  // only the matches
  EXPECT_EQ(recs[0], (UseRecord{Use::kMatched, "__snapshots__/t.snap", "t.py::a", "1"}));
  EXPECT_EQ(recs[1], (UseRecord{Use::kMatched, "__snapshots__/t.snap", "t.py::b", "x"}));
}

TEST_F(CheckerTest, AHandEditedFileIsReadAgainAndWritesAreSeenAtOnce) {
  Store store(dir_);
  ASSERT_TRUE(store.update("__snapshots__/t.snap", {{"t.py::a", "1", "one"}}));
  write_plain(dir_ + "/__snapshots__/t.snap", render({{"t.py::a", "1", "edited by hand"}}));
  Checker c(dir_);
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::a", "1", "one"), Checker::Outcome::kDiffers);
  EXPECT_TRUE(c.store().last_read_file());
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::a", "1", "edited by hand"), Checker::Outcome::kMatched);
  ASSERT_TRUE(c.write("__snapshots__/t.snap", "t.py::b", "1", "new", Use::kWritten));
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::b", "1", "new"), Checker::Outcome::kMatched);
  ASSERT_TRUE(c.write("__snapshots__/t.snap", "t.py::b", "1", "newer", Use::kUpdated));
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::b", "1", "newer"), Checker::Outcome::kMatched);
  auto entries = store.read("__snapshots__/t.snap");
  ASSERT_TRUE(entries);
  EXPECT_EQ(*entries, (std::vector<Entry>{{"t.py::a", "1", "edited by hand"}, {"t.py::b", "1", "newer"}}));
  auto recs = parse_records(c.records().bytes());
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[1].use, Use::kWritten);
  EXPECT_EQ(recs[3].use, Use::kUpdated);
}

TEST_F(CheckerTest, DeferredWritesAreHeldPerFileAndWrittenTogetherWithoutLosingOthers) {
  Checker a(dir_), b(dir_);  // two workers writing into one file
  a.set_deferred(true);
  b.set_deferred(true);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(a.write("__snapshots__/t.snap", "t.py::a" + std::to_string(i), "1", "va", Use::kWritten));
    ASSERT_TRUE(b.write("__snapshots__/t.snap", "t.py::b" + std::to_string(i), "1", "vb", Use::kWritten));
  }
  EXPECT_FALSE(stat_path(dir_ + "/__snapshots__/t.snap"));  // nothing written yet
  EXPECT_EQ(a.pending(), 5u);
  // Held entries count for checks and for the value a mismatch shows.
  EXPECT_EQ(*a.check("__snapshots__/t.snap", "t.py::a3", "1", "va"), Checker::Outcome::kMatched);
  EXPECT_EQ(*a.check("__snapshots__/t.snap", "t.py::a3", "1", "other"), Checker::Outcome::kDiffers);
  EXPECT_EQ(**a.stored_value("__snapshots__/t.snap", "t.py::a3", "1"), "va");
  EXPECT_TRUE(parse_records(a.records().bytes()).size() == 1u);  // the match; writes come with the flush
  ASSERT_TRUE(a.write("__snapshots__/t.snap", "t.py::a0", "1", "va2", Use::kUpdated));
  // A check of another file writes the held ones first.
  EXPECT_EQ(*a.check("__snapshots__/u.snap", "u.py::x", "1", "v"), Checker::Outcome::kMissing);
  EXPECT_EQ(a.pending(), 0u);
  ASSERT_TRUE(b.flush());
  auto entries = Store(dir_).read("__snapshots__/t.snap");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 10u);
  EXPECT_EQ((*entries)[0], (Entry{"t.py::a0", "1", "va2"}));
  EXPECT_EQ((*entries)[5], (Entry{"t.py::b0", "1", "vb"}));
  auto h = Store(dir_).hashes("__snapshots__/t.snap");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 10u);
  size_t written = 0, updated = 0;
  for (const auto& r : parse_records(a.records().bytes())) {
    written += r.use == Use::kWritten;
    updated += r.use == Use::kUpdated;
  }
  EXPECT_EQ(written, 5u);
  EXPECT_EQ(updated, 1u);
  // A new checker sees both workers' entries from the index.
  Checker c(dir_);
  EXPECT_EQ(*c.check("__snapshots__/t.snap", "t.py::b4", "1", "vb"), Checker::Outcome::kMatched);
  EXPECT_FALSE(c.store().last_read_file());
}

TEST_F(CheckerTest, AnUnparsableSnapFileIsAnError) {
  ASSERT_TRUE(make_dirs_for_test(dir_ + "/__snapshots__"));
  write_plain(dir_ + "/__snapshots__/t.snap", "not a snap file\n");
  Checker c(dir_);
  auto r = c.check("__snapshots__/t.snap", "t.py::a", "1", "one");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kParse);
}

}  // namespace
}  // namespace dxpy::snapshot
