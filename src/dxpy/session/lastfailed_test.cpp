#include "dxpy/session/lastfailed.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dxpy/core/test_arbitrary.h"
#include "dxpy/report/sink.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {
namespace {

// --- the file -----------------------------------------------------------------------------

rc::Gen<std::string> node_id() {
  // Any bytes but the line break and NUL, non-empty: what a node id can hold.
  return rc::gen::nonEmpty(rc::gen::container<std::string>(
      rc::gen::suchThat(rc::gen::arbitrary<char>(), [](char c) { return c != '\n' && c != '\0'; })));
}

rc::Gen<LastFailed> id_set() { return rc::gen::container<LastFailed>(node_id()); }

RC_GTEST_PROP(LastFailed, FormatThenParseRoundTrips, ()) {
  LastFailed ids = *id_set();
  auto back = parse_last_failed(format_last_failed(ids));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == ids);
}

RC_GTEST_PROP(LastFailed, EveryTruncationIsRejected, ()) {
  std::string text = format_last_failed(*id_set());
  size_t cut = *rc::gen::inRange<size_t>(0, text.size());
  RC_ASSERT(!parse_last_failed(std::string_view(text).substr(0, cut)).has_value());
}

RC_GTEST_PROP(LastFailed, ParsingArbitraryBytesNeverFails, (const std::string& text)) {
  auto ids = parse_last_failed(text);
  if (ids)
    for (const auto& id : *ids) RC_ASSERT(!id.empty());
}

TEST(LastFailed, RejectsDamagedFiles) {
  EXPECT_TRUE(parse_last_failed("dx-py lastfailed 1\na.py::t\nend 1\n").has_value());
  EXPECT_TRUE(parse_last_failed("dx-py lastfailed 1\nend 0\n").has_value());
  EXPECT_FALSE(parse_last_failed("").has_value());
  EXPECT_FALSE(parse_last_failed("dx-py lastfailed 2\na.py::t\nend 1\n").has_value());  // another version
  EXPECT_FALSE(parse_last_failed("dx-py lastfailed 1\na.py::t\nend 2\n").has_value());  // a count that differs
  EXPECT_FALSE(parse_last_failed("dx-py lastfailed 1\na.py::t\n").has_value());         // no end line
  EXPECT_FALSE(parse_last_failed("dx-py lastfailed 1\n\nend 0\n").has_value());         // an empty line
  EXPECT_FALSE(parse_last_failed("dx-py lastfailed 1\na\na\nend 2\n").has_value());     // twice
  EXPECT_FALSE(parse_last_failed("dx-py lastfailed 1\nend 0\nmore\n").has_value());     // after the end
  EXPECT_FALSE(parse_last_failed("{\"a.py::t\": true}").has_value());                   // pytest's JSON
}

class LastFailedFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "dxpy_lastfailed_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);  // kept for a look when a test fails
  }
  void write(const std::string& rel, std::string_view bytes) {
    std::filesystem::create_directories(std::filesystem::path(join_path(dir_, rel)).parent_path());
    std::ofstream(join_path(dir_, rel), std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string dir_;
};

TEST_F(LastFailedFiles, SaveMergesChangesWithWhatIsThere) {
  std::string path = last_failed_path(dir_);
  EXPECT_TRUE(load_last_failed(dir_).empty());
  ASSERT_TRUE(save_last_failed(path, {{"a.py::x", false}}));
  EXPECT_FALSE(stat_path(path)) << "no file is made to hold nothing";
  ASSERT_TRUE(save_last_failed(path, {{"a.py::x", true}, {"a.py::y", true}}));
  // Another run, of other tests, meanwhile: both keep their results.
  ASSERT_TRUE(save_last_failed(path, {{"b.py::z", true}, {"a.py::y", false}}));
  EXPECT_EQ(load_last_failed(dir_), (LastFailed{"a.py::x", "b.py::z"}));
  ASSERT_TRUE(save_last_failed(path, {{"a.py::x", false}, {"b.py::z", false}}));
  EXPECT_TRUE(load_last_failed(dir_).empty());
  EXPECT_EQ(*read_file(path), "dx-py lastfailed 1\nend 0\n");  // emptied, as pytest's "{}"
}

TEST_F(LastFailedFiles, DamagedFileIsIgnoredAndRewritten) {
  std::string path = last_failed_path(dir_);
  std::string whole = format_last_failed({"a.py::x", "a.py::y"});
  write("lastfailed", whole.substr(0, whole.size() - 3));
  LastFailedFile f = read_last_failed(path);
  EXPECT_TRUE(f.damaged);
  EXPECT_TRUE(f.ids.empty());
  EXPECT_TRUE(load_last_failed(dir_).empty());
  ASSERT_TRUE(save_last_failed(path, {}));  // nothing changed, but the file was damaged
  f = read_last_failed(path);
  EXPECT_FALSE(f.damaged);
  EXPECT_TRUE(f.ids.empty());
  write("lastfailed", std::string("\0\xff garbage", 10));
  ASSERT_TRUE(save_last_failed(path, {{"c.py::t", true}}));
  EXPECT_EQ(load_last_failed(dir_), LastFailed{"c.py::t"});
}

RC_GTEST_PROP(LastFailed, SavedThenLoadedIsTheChangedSet, ()) {
  // One folder for every case (each rewrites the file), removed when the test program ends.
  static const struct Folder {
    Folder() {
      std::string t = ::testing::TempDir() + "dxpy_lastfailed_XXXXXX";
      if (::mkdtemp(t.data())) path = t;
    }
    ~Folder() {
      if (!path.empty()) std::filesystem::remove_all(path);
    }
    std::string path;
  } folder;
  const std::string& tmpl = folder.path;
  RC_ASSERT(!tmpl.empty());
  LastFailed before = *id_set();
  auto changes = *rc::gen::container<LastFailedChanges>(node_id(), rc::gen::arbitrary<bool>());
  std::string path = last_failed_path(tmpl);
  RC_ASSERT(static_cast<bool>(write_file_atomic(path, format_last_failed(before), Durability::kCache)));
  RC_ASSERT(static_cast<bool>(save_last_failed(path, changes)));
  LastFailed expected = before;
  apply_changes(expected, changes);
  RC_ASSERT(load_last_failed(tmpl) == expected);
}

// --- results ------------------------------------------------------------------------------

TestCase test_case(std::string_view id) {
  TestCase tc;
  tc.id = TestId::parse(id);
  return tc;
}

TestResult result(std::string_view id, TestStatus s, std::string message = "") {
  TestResult r;
  r.id = TestId::parse(id);
  r.status = s;
  r.message = std::move(message);
  return r;
}

// A run updates the store for the tests it ran and for no other: those keep their entry.
RC_GTEST_PROP(LastFailed, UpdateKeepsEntriesOfTestsNotRun, ()) {
  auto universe = *rc::gen::unique<std::vector<std::string>>(
      rc::gen::map(rc::gen::inRange(0, 200), [](int k) { return "t.py::test_" + std::to_string(k); }));
  LastFailed known;
  std::vector<TestCase> tests;
  std::map<std::string, bool> ran;  // id -> a bad result
  for (const auto& id : universe)
    if (*rc::gen::arbitrary<bool>()) known.insert(id);
  LastFailedRecorder recorder(known);
  for (const auto& id : universe) {
    if (!*rc::gen::arbitrary<bool>()) continue;  // not run
    tests.push_back(test_case(id));
    auto index = static_cast<uint32_t>(tests.size() - 1);
    // One to three results (a teardown error, failed subtests), in any order.
    auto statuses = *rc::gen::resize(3, rc::gen::nonEmpty<std::vector<TestStatus>>());
    for (auto s : statuses) {
      recorder.record(index, tests.back(), result(id, s));
      ran[id] = ran[id] || is_failure(s);
    }
  }
  LastFailed after = known;
  apply_changes(after, recorder.changes({}, {}));
  for (const auto& id : universe) {
    auto r = ran.find(id);
    if (r == ran.end())
      RC_ASSERT(after.count(id) == known.count(id));
    else
      RC_ASSERT(after.count(id) == (r->second ? 1u : 0u));
  }
}

TEST(LastFailedRecorder, AnyBadResultOfATestKeepsItFailed) {
  std::vector<TestCase> tests = {test_case("a.py::t_teardown"), test_case("a.py::t_sub"), test_case("a.py::t_ok"),
                                 test_case("a.py::t_desel")};
  LastFailed known = {"a.py::t_ok", "a.py::t_desel"};
  LastFailedRecorder r(known);
  r.record(0, tests[0], result("a.py::t_teardown", TestStatus::kPassed));
  r.record(0, tests[0], result("a.py::t_teardown", TestStatus::kError, "failed on teardown with \"x\""));
  r.record(1, tests[1], result("a.py::t_sub", TestStatus::kFailed));  // a failed subtest, then the test passes
  r.record(1, tests[1], result("a.py::t_sub", TestStatus::kPassed));
  r.record(2, tests[2], result("a.py::t_ok", TestStatus::kXFailed));
  r.record(3, tests[3], result("a.py::t_desel", TestStatus::kSkipped, std::string(report::kDeselectedMessage)));
  LastFailedChanges c = r.changes({{"a.py::t_ok", true}}, {});
  EXPECT_EQ(c, (LastFailedChanges{{"a.py::t_teardown", true}, {"a.py::t_sub", true}, {"a.py::t_ok", false}}));
}

TEST(LastFailedRecorder, ParameterIdsATestExpandedAtRunTimeNoLongerHasLeave) {
  TestCase p = test_case("a.py::test_p");
  p.expand_at_runtime = true;
  TestCase q = p;
  q.id.name = "test_q";
  LastFailed known = {"a.py::test_p[2]", "a.py::test_p[3]", "a.py::test_q[9]", "a.py::test_pp[1]"};
  LastFailedRecorder r(known, {{"a.py::test_p", 1}, {"a.py::test_q", 1}});
  r.record(0, p, result("a.py::test_p[1]", TestStatus::kPassed));
  r.record(0, p, result("a.py::test_p[3]", TestStatus::kFailed));
  r.record(1, q, result("a.py::test_q[1]", TestStatus::kPassed));
  // test_q was interrupted: what it did not produce may still exist.
  LastFailedChanges c = r.changes({}, {1});
  // Passes of tests it did not hold change nothing.
  EXPECT_EQ(c, (LastFailedChanges{{"a.py::test_p[2]", false}, {"a.py::test_p[3]", true}}));
}

TEST(LastFailedRecorder, AParameterIdLeavesOnceAllItsFunctionRanWithoutIt) {
  TestCase p1 = test_case("a.py::test_p[1]"), p3 = test_case("a.py::test_p[3]");
  LastFailed known = {"a.py::test_p[2]"};  // parametrize([1, 2, 3]) is now ([1, 3])
  LastFailedRecorder part(known, {{"a.py::test_p", 2}});
  part.record(0, p1, result("a.py::test_p[1]", TestStatus::kPassed));
  EXPECT_EQ(part.changes({}, {}), LastFailedChanges{});  // test_p[3] did not run: [2] may be its id
  LastFailedRecorder all(known, {{"a.py::test_p", 2}});
  all.record(0, p1, result("a.py::test_p[1]", TestStatus::kPassed));
  all.record(1, p3, result("a.py::test_p[3]", TestStatus::kPassed));
  EXPECT_EQ(all.changes({}, {}), (LastFailedChanges{{"a.py::test_p[2]", false}}));
  // A parametrized fixture renames the ids at run time: what they produce stays known.
  LastFailed renamed_known = {"a.py::test_p[1-x]", "a.py::test_p[3-x]"};
  LastFailedRecorder renamed(renamed_known, {{"a.py::test_p", 2}});
  renamed.record(0, p1, result("a.py::test_p[1-x]", TestStatus::kFailed));
  renamed.record(1, p3, result("a.py::test_p[3-x]", TestStatus::kPassed));
  EXPECT_EQ(renamed.changes({}, {}), (LastFailedChanges{{"a.py::test_p[1-x]", true}, {"a.py::test_p[3-x]", false}}));
}

// --- collection ---------------------------------------------------------------------------

CollectedFile file(std::string path, std::vector<std::string> ids, bool initpath = false) {
  CollectedFile f;
  f.path = std::move(path);
  f.initpath = initpath;
  f.ids = std::move(ids);
  return f;
}

TEST_F(LastFailedFiles, CollectionChangesFollowPytestsCollectReports) {
  write("gone_not.py", "");
  LastFailed known = {"fixed.py",         "a.py::test_gone",   "a.py::test_x",      "a.py::test_p[7]",
                      "a.py::TestC",      "gone.py::test_y",   "gone_not.py::t",    "same.py::test_z"};
  std::vector<CollectedFile> files = {
      file("fixed.py", {"fixed.py::test_1", "fixed.py::T::test_2"}),
      file("a.py", {"a.py::test_x", "a.py::test_p[1]", "a.py::TestC::test_m"}),
      file("broken.py", {}),
      file("same.py", {"same.py::test_z"}),
  };
  files[2].error = true;
  LastFailedChanges changes;
  RuntimeIds runtime;
  collection_changes(known, files, dir_, changes, runtime);
  EXPECT_EQ(runtime, (RuntimeIds{{"a.py::test_p", 1}}));
  EXPECT_EQ(changes, (LastFailedChanges{{"fixed.py", false},
                                        {"fixed.py::test_1", true},
                                        {"fixed.py::T::test_2", true},
                                        {"a.py::test_gone", false},  // collected, and no such test
                                        {"broken.py", true},         // a collection error enters
                                        {"gone.py::test_y", false}}));  // the file is gone
  // A parameter id static collection does not know (run-time parameters) and a class entry
  // stay; so do entries of files not collected this time.
  EXPECT_EQ(known, (LastFailed{"a.py::TestC", "a.py::test_p[7]", "a.py::test_x", "broken.py", "fixed.py::T::test_2",
                               "fixed.py::test_1", "gone_not.py::t", "same.py::test_z"}));
}

// --- selection: the outcomes of pytest 9.0.3 on the same projects ----------------------------

std::vector<std::string> ids_of(const std::vector<TestCase>& tests) {
  std::vector<std::string> out;
  for (const auto& t : tests) out.push_back(t.id.node_id());
  return out;
}

struct Project {
  std::vector<CollectedFile> files;
  std::vector<Candidate> candidates;
  Project& add(std::string path, std::vector<std::string> tests, bool initpath = false) {
    auto index = static_cast<uint32_t>(files.size());
    files.push_back(file(path, tests, initpath));
    for (const auto& id : tests) candidates.push_back({test_case(id), index, true});
    return *this;
  }
  Project& deselect(std::string_view id) {
    for (auto& c : candidates)
      if (c.test.id.node_id() == id) c.selected = false;
    return *this;
  }
};

Project two_files(bool a_named = false) {
  return Project{}
      .add("test_a.py", {"test_a.py::test_fail", "test_a.py::test_pass"}, a_named)
      .add("test_b.py", {"test_b.py::test_ok"});
}

const LastFailed kOneFailure = {"test_a.py::test_fail"};

TEST(SelectLastFailed, LfRunsTheFailuresAndSkipsTheOtherFiles) {
  auto p = two_files();
  auto s = select_last_failed(kOneFailure, {}, p.files, p.candidates, {true, false, false});
  EXPECT_EQ(ids_of(s.tests), std::vector<std::string>{"test_a.py::test_fail"});
  EXPECT_EQ(s.deselected, 0u);  // pytest: "collected 1 item"
  EXPECT_EQ(s.status, "rerun previous 1 failure (skipped 1 file)");
  EXPECT_EQ(s.failed_first, 0u);
}

TEST(SelectLastFailed, LfDeselectsTheRestOfANamedFile) {
  auto p = Project{}.add("test_a.py", {"test_a.py::test_fail", "test_a.py::test_pass"}, true);
  auto s = select_last_failed(kOneFailure, {}, p.files, p.candidates, {true, false, false});
  EXPECT_EQ(ids_of(s.tests), std::vector<std::string>{"test_a.py::test_fail"});
  EXPECT_EQ(s.deselected, 1u);  // pytest: "collected 2 items / 1 deselected / 1 selected"
  EXPECT_EQ(s.status, "rerun previous 1 failure");
}

TEST(SelectLastFailed, FfPutsTheFailuresFirst) {
  auto p = Project{}
               .add("test_0.py", {"test_0.py::test_ok"})
               .add("test_a.py", {"test_a.py::test_pass", "test_a.py::test_fail"});
  auto s = select_last_failed(kOneFailure, {}, p.files, p.candidates, {false, true, false});
  EXPECT_EQ(ids_of(s.tests),
            (std::vector<std::string>{"test_a.py::test_fail", "test_0.py::test_ok", "test_a.py::test_pass"}));
  EXPECT_EQ(s.failed_first, 1u);
  EXPECT_EQ(s.deselected, 0u);
  EXPECT_EQ(s.status, "rerun previous 1 failure first");
}

TEST(SelectLastFailed, KeywordDeselectsBeforeLf) {
  auto p = two_files().deselect("test_a.py::test_fail");
  auto s = select_last_failed(kOneFailure, {}, p.files, p.candidates, {true, false, false});
  EXPECT_TRUE(s.tests.empty());
  EXPECT_EQ(s.deselected, 1u);  // pytest: "collected 1 item / 1 deselected / 0 selected"
  EXPECT_EQ(s.status, "1 known failures not in selected tests (skipped 1 file)");
}

TEST(SelectLastFailed, FailuresOutsideTheSelection) {
  auto p = Project{}.add("test_b.py", {"test_b.py::test_ok"}, true);
  auto s = select_last_failed(kOneFailure, {}, p.files, p.candidates, {true, false, false});
  EXPECT_EQ(ids_of(s.tests), std::vector<std::string>{"test_b.py::test_ok"});
  EXPECT_EQ(s.status, "1 known failures not in selected tests");
}

TEST(SelectLastFailed, NoKnownFailures) {
  auto p = two_files();
  auto all = select_last_failed({}, {}, p.files, p.candidates, {true, false, false});
  EXPECT_EQ(all.tests.size(), 3u);
  EXPECT_EQ(all.status, "no previously failed tests, not deselecting items.");
  auto none = select_last_failed({}, {}, p.files, p.candidates, {true, false, true});
  EXPECT_TRUE(none.tests.empty());
  EXPECT_EQ(none.deselected, 3u);
  EXPECT_EQ(none.status, "no previously failed tests, deselecting all items.");
}

TEST(SelectLastFailed, AFailureInAClassDeselectsTheRest) {
  // pytest looks for failures among a module's own items; a class is kept whole at
  // collection and its other methods are deselected, and no file is skipped.
  auto p = Project{}
               .add("test_d.py", {"test_d.py::TestK::test_m", "test_d.py::TestK::test_n", "test_d.py::test_f"})
               .add("test_e.py", {"test_e.py::test_ok"});
  auto s = select_last_failed({"test_d.py::TestK::test_m"}, {}, p.files, p.candidates, {true, false, false});
  EXPECT_EQ(ids_of(s.tests), std::vector<std::string>{"test_d.py::TestK::test_m"});
  EXPECT_EQ(s.deselected, 3u);  // pytest: "collected 4 items / 3 deselected / 1 selected"
  EXPECT_EQ(s.status, "rerun previous 1 failure");
}

TEST(SelectLastFailed, RunTimeParameterMatchesItsFunction) {
  auto p = Project{}.add("test_p.py", {"test_p.py::test_p", "test_p.py::test_other"});
  p.candidates[0].test.expand_at_runtime = true;
  auto s = select_last_failed({"test_p.py::test_p[2]"}, {{"test_p.py::test_p", 1}}, p.files, p.candidates,
                              {true, false, false});
  EXPECT_EQ(ids_of(s.tests), std::vector<std::string>{"test_p.py::test_p"});
  EXPECT_EQ(s.status, "rerun previous 1 failure");
}

}  // namespace
}  // namespace dxpy::session
