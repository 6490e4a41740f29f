#include "dxpy/report/junit.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace dxpy::report {
namespace {

using namespace std::string_literals;

TestResult result(const char* node, TestStatus st, std::string msg = "", std::string tb = "", uint64_t ns = 0) {
  TestResult r;
  r.id = TestId::parse(node);
  r.status = st;
  r.message = std::move(msg);
  r.traceback = std::move(tb);
  r.duration_ns = ns;
  r.stdout_text = "captured out";  // junit_logging=no: never written
  r.stderr_text = "captured err";
  return r;
}

JunitOptions opts(std::string path, std::string suite = "pytest", std::string prefix = "") {
  JunitOptions o;
  o.path = std::move(path);
  o.suite_name = std::move(suite);
  o.prefix = std::move(prefix);
  return o;
}

TestCase where(const char* file, uint32_t line) {
  TestCase tc;
  tc.file = file;
  tc.line = line;
  return tc;
}

// The <testcase> elements only, between <testsuite ...> and </testsuite>.
std::string cases(const JunitReporter& j) {
  std::string doc = j.document(0);
  size_t open = doc.find('>', doc.find("<testsuite "));
  size_t close = doc.rfind("</testsuite>");
  if (close == std::string::npos) return "";
  return doc.substr(open + 1, close - open - 1);
}

std::string one(const TestResult& r, const TestCase& tc = {}) {
  JunitReporter j(opts("unused.xml"));
  j.on_result(tc, r);
  return cases(j);
}

TEST(JunitNames, PathDottedWithoutPyThenClasses) {
  auto n = junit_names("tests/test_a.py::test_pass");
  EXPECT_EQ(n.classname, "tests.test_a");
  EXPECT_EQ(n.name, "test_pass");
  n = junit_names("tests/test_a.py::TestOuter::TestInner::test_deep[1]");
  EXPECT_EQ(n.classname, "tests.test_a.TestOuter.TestInner");
  EXPECT_EQ(n.name, "test_deep[1]");
  n = junit_names("test_top.py::TestX::test_y");
  EXPECT_EQ(n.classname, "test_top.TestX");
  EXPECT_EQ(n.name, "test_y");
}

TEST(JunitNames, ParamKeepsItsColonsAndBrackets) {
  // address.partition("["): whatever follows the first '[' is the param, "::" included.
  auto n = junit_names("tests/test_a.py::test_param[x::y[z]]");
  EXPECT_EQ(n.classname, "tests.test_a");
  EXPECT_EQ(n.name, "test_param[x::y[z]]");
}

TEST(JunitNames, CollectionErrorIsTheModuleWithNoClassname) {
  auto n = junit_names("tests/sub/test_imp.py");
  EXPECT_EQ(n.classname, "");
  EXPECT_EQ(n.name, "tests.sub.test_imp");
}

TEST(JunitNames, PrefixGoesFirst) {
  EXPECT_EQ(junit_names("t/test_a.py::C::test_b", "pre").classname, "pre.t.test_a.C");
  EXPECT_EQ(junit_names("t/test_a.py", "pre").classname, "pre");
  EXPECT_EQ(junit_names("t/test_a.py", "pre").name, "t.test_a");
}

TEST(JunitNames, OnlyATrailingPyIsDropped) {
  EXPECT_EQ(junit_names("tests/test_a.pyx::test_b").classname, "tests.test_a.pyx");
  EXPECT_EQ(junit_names("a.py/test_a.py::test_b").classname, "a.py.test_a");
}

TEST(JunitEscape, AsPytest) {
  // Python: bin_xml_escape('a\x00b\x7f\x80\x9f\ud800\ufffe\U0001F600 é\t\n\r\x1b')
  //   == 'a#x00b\x7f\x80\x9f#xD800#xFFFE#x1F600 é\t\n\r#x1B'
  // (U+D800 cannot be UTF-8; its place is taken by the invalid-byte case below.)
  EXPECT_EQ(bin_xml_escape("a\x00" "b\x7f\xc2\x80\xc2\x9f\xef\xbf\xbe\xf0\x9f\x98\x80 \xc3\xa9\t\n\r\x1b"s),
            "a#x00b\x7f\xc2\x80\xc2\x9f#xFFFE#x1F600 \xc3\xa9\t\n\r#x1B");
  EXPECT_EQ(bin_xml_escape("\x01\x08\x0b\x0c\x1f"), "#x01#x08#x0B#x0C#x1F");
  EXPECT_EQ(bin_xml_escape("\xef\xbf\xbd\xed\x9f\xbf\xee\x80\x80"), "\xef\xbf\xbd\xed\x9f\xbf\xee\x80\x80");
  EXPECT_EQ(bin_xml_escape("\xef\xbf\xbf"), "#xFFFF");
  EXPECT_EQ(bin_xml_escape("<&>\""), "<&>\"");  // not XML escaping: ElementTree does that
}

TEST(JunitEscape, BytesThatAreNotUtf8ShowAsSurrogateEscapes) {
  EXPECT_EQ(bin_xml_escape("a\xff" "b"), "a#xDCFFb");
  EXPECT_EQ(bin_xml_escape("\xc3"), "#xDCC3");                         // truncated
  EXPECT_EQ(bin_xml_escape("\xc0\xaf"), "#xDCC0#xDCAF");               // overlong
  EXPECT_EQ(bin_xml_escape("\xed\xa0\x80"), "#xDCED#xDCA0#xDC80");     // an encoded surrogate
  EXPECT_EQ(bin_xml_escape("\xf4\x90\x80\x80"), "#xDCF4#xDC90#xDC80#xDC80");  // above U+10FFFF
}

// The expectations below are pytest 9's own output for the same tests (run on a sample
// project with --junitxml), with the tracebacks shortened.

TEST(Junit, Passed) {
  EXPECT_EQ(one(result("tests/test_a.py::test_pass", TestStatus::kPassed, "", "", 1'234'567)),
            R"(<testcase classname="tests.test_a" name="test_pass" time="0.001" />)");
}

TEST(Junit, XPassedIsAPass) {
  EXPECT_EQ(one(result("tests/test_a.py::test_xpass", TestStatus::kXPassed, "maybe")),
            R"(<testcase classname="tests.test_a" name="test_xpass" time="0.000" />)");
}

TEST(Junit, Failed) {
  EXPECT_EQ(one(result("tests/test_a.py::test_fail", TestStatus::kFailed, "assert 1 == 2",
                       "def test_fail():\n>       assert 1 == 2\n\ntests/test_a.py:7: AssertionError")),
            R"(<testcase classname="tests.test_a" name="test_fail" time="0.000"><failure message="assert 1 == 2">)"
            "def test_fail():\n&gt;       assert 1 == 2\n\ntests/test_a.py:7: AssertionError</failure></testcase>");
}

TEST(Junit, StrictXPassIsAFailureWithItsMessageAsText) {
  EXPECT_EQ(one(result("tests/test_a.py::test_xpass_strict", TestStatus::kFailed, "[XPASS(strict)] strictly")),
            R"(<testcase classname="tests.test_a" name="test_xpass_strict" time="0.000">)"
            R"(<failure message="[XPASS(strict)] strictly">[XPASS(strict)] strictly</failure></testcase>)");
}

TEST(Junit, SetupError) {
  EXPECT_EQ(one(result("tests/test_a.py::test_setup_error", TestStatus::kError, "RuntimeError: setup boom",
                       "@pytest.fixture\n>       raise RuntimeError(\"setup boom\")")),
            R"(<testcase classname="tests.test_a" name="test_setup_error" time="0.000">)"
            R"(<error message="failed on setup with &quot;RuntimeError: setup boom&quot;">)"
            "@pytest.fixture\n&gt;       raise RuntimeError(\"setup boom\")</error></testcase>");
}

TEST(Junit, Skipped) {
  EXPECT_EQ(one(result("tests/test_a.py::test_skip_mark", TestStatus::kSkipped, "not now <x>"),
                where("/tmp/jx/proj/tests/test_a.py", 22)),
            R"(<testcase classname="tests.test_a" name="test_skip_mark" time="0.000">)"
            R"(<skipped type="pytest.skip" message="not now &lt;x&gt;">/tmp/jx/proj/tests/test_a.py:22: not now )"
            R"(&lt;x&gt;</skipped></testcase>)");
  // "Skipped: " in front of a reason is pytest's repr of the exception: dropped, as pytest does.
  EXPECT_EQ(one(result("t/test_b.py::test_c", TestStatus::kSkipped, "Skipped: why"), where("", 3)),
            R"(<testcase classname="t.test_b" name="test_c" time="0.000">)"
            R"(<skipped type="pytest.skip" message="why">t/test_b.py:3: why</skipped></testcase>)");
}

TEST(Junit, XFailedIsASkipOfTypeXfailWithoutText) {
  EXPECT_EQ(one(result("tests/test_a.py::test_xfail", TestStatus::kXFailed, "known bug", "Traceback ...")),
            R"(<testcase classname="tests.test_a" name="test_xfail" time="0.000">)"
            R"(<skipped type="pytest.xfail" message="known bug" /></testcase>)");
  EXPECT_EQ(one(result("t/test_b.py::test_c", TestStatus::kXFailed, "reason: old style")),
            R"(<testcase classname="t.test_b" name="test_c" time="0.000">)"
            R"(<skipped type="pytest.xfail" message="old style" /></testcase>)");
}

TEST(Junit, CrashedAndTimeoutAreFailuresThatSaySo) {
  EXPECT_EQ(one(result("t/test_b.py::test_c", TestStatus::kCrashed,
                       "worker crashed while running this test: signal 11 (SIGSEGV)",
                       "t/test_b.py::test_c: worker crashed\nFatal Python error: Segmentation fault")),
            R"(<testcase classname="t.test_b" name="test_c" time="0.000">)"
            R"x(<failure message="[crashed] worker crashed while running this test: signal 11 (SIGSEGV)">)x"
            "t/test_b.py::test_c: worker crashed\nFatal Python error: Segmentation fault</failure></testcase>");
  EXPECT_EQ(one(result("t/test_b.py::test_c", TestStatus::kTimeout, "Timeout: the test ran longer than 2s", "",
                       2'000'400'000)),
            R"(<testcase classname="t.test_b" name="test_c" time="2.000">)"
            R"(<failure message="[timeout] Timeout: the test ran longer than 2s">)"
            "Timeout: the test ran longer than 2s</failure></testcase>");
}

TEST(Junit, FailureWithNoTextClosesItself) {
  EXPECT_EQ(one(result("t/test_b.py::test_c", TestStatus::kFailed)),
            R"(<testcase classname="t.test_b" name="test_c" time="0.000"><failure message="" /></testcase>)");
}

TEST(Junit, NestedClassesAndParams) {
  EXPECT_EQ(one(result("tests/test_a.py::TestOuter::TestInner::test_deep[1]", TestStatus::kPassed)),
            R"(<testcase classname="tests.test_a.TestOuter.TestInner" name="test_deep[1]" time="0.000" />)");
  EXPECT_EQ(one(result("tests/test_a.py::test_param[x::y[z]]", TestStatus::kPassed)),
            R"(<testcase classname="tests.test_a" name="test_param[x::y[z]]" time="0.000" />)");
}

TEST(Junit, EscapingOfNamesMessagesAndText) {
  // pytest's ids for these params: a<b, q"&', t\x01z (the id escapes it), é😀 (kept).
  EXPECT_EQ(one(result("tests/test_a.py::test_param[a<b]", TestStatus::kPassed)),
            R"(<testcase classname="tests.test_a" name="test_param[a&lt;b]" time="0.000" />)");
  EXPECT_EQ(one(result("tests/test_a.py::test_param[q\"&']", TestStatus::kPassed)),
            R"(<testcase classname="tests.test_a" name="test_param[q&quot;&amp;']" time="0.000" />)");
  EXPECT_EQ(one(result(R"(tests/test_a.py::test_param[t\x01z])", TestStatus::kPassed)),
            R"(<testcase classname="tests.test_a" name="test_param[t\x01z]" time="0.000" />)");
  // A raw control character or an astral character in a name: bin_xml_escape'd.
  EXPECT_EQ(one(result("tests/test_a.py::test_param[t\x01z\xf0\x9f\x98\x80]", TestStatus::kPassed)),
            R"(<testcase classname="tests.test_a" name="test_param[t#x01z#x1F600]" time="0.000" />)");
  // In an attribute \n, \r, \t are character references; in text they stay, only & < > change.
  EXPECT_EQ(one(result("tests/test_a.py::test_msg_ctrl", TestStatus::kFailed,
                       "ValueError: bell\x07 and \x1b[31m <tag> & \"q\"\nsecond\r\tline",
                       "raise ValueError(\"bell\\x07\")\n\x1b[31m<tag> & \"q\"\r\t'")),
            R"(<testcase classname="tests.test_a" name="test_msg_ctrl" time="0.000">)"
            R"(<failure message="ValueError: bell#x07 and #x1B[31m &lt;tag&gt; &amp; &quot;q&quot;&#10;second&#13;&#09;line">)"
            "raise ValueError(\"bell\\x07\")\n#x1B[31m&lt;tag&gt; &amp; \"q\"\r\t'</failure></testcase>");
}

TEST(Junit, CollectionErrorsComeFromOnCollected) {
  JunitReporter j(opts("unused.xml"));
  j.on_collected(3, {{"tests/test_broken.py", "SyntaxError: invalid syntax", "E   SyntaxError: <bad>"},
                     {"tests/test_empty.py", "Boom", ""}},
                 0);
  j.add_collection_error({"tests/test_broken.py", "again", "again"});  // one per path
  EXPECT_EQ(cases(j),
            R"(<testcase classname="" name="tests.test_broken" time="0.000">)"
            R"(<error message="collection failure">E   SyntaxError: &lt;bad&gt;</error></testcase>)"
            R"(<testcase classname="" name="tests.test_empty" time="0.000">)"
            R"(<error message="collection failure">Boom</error></testcase>)");
}

TEST(Junit, ModuleThatFailsToImportInTheWorkerIsOneCollectionError) {
  JunitReporter j(opts("unused.xml"));
  std::string msg = std::string(kImportErrorPrefix) + "tests/sub/test_imp.py";
  j.on_result({}, result("tests/sub/test_imp.py::test_y", TestStatus::kError, msg, "ModuleNotFoundError: x"));
  j.on_result({}, result("tests/sub/test_imp.py::TestK::test_z", TestStatus::kError, msg, "ModuleNotFoundError: x"));
  j.on_result({}, result("tests/test_ok.py::test_w", TestStatus::kPassed));
  EXPECT_EQ(cases(j),
            R"(<testcase classname="" name="tests.sub.test_imp" time="0.000">)"
            R"(<error message="collection failure">ModuleNotFoundError: x</error></testcase>)"
            R"(<testcase classname="tests.test_ok" name="test_w" time="0.000" />)");
  std::string doc = j.document(0);
  EXPECT_NE(doc.find(R"(errors="1" failures="0" skipped="0" tests="2")"), std::string::npos) << doc;
}

TEST(Junit, PrefixOption) {
  JunitReporter j(opts("unused.xml", "pytest", "pre"));
  j.on_collected(1, {{"t/test_x.py", "m", "m"}}, 0);
  j.on_result({}, result("t/test_a.py::C::test_b", TestStatus::kPassed));
  EXPECT_EQ(cases(j),
            R"(<testcase classname="pre" name="t.test_x" time="0.000"><error message="collection failure">m</error>)"
            R"(</testcase><testcase classname="pre.t.test_a.C" name="test_b" time="0.000" />)");
}

// The document around the test cases: one line, pytest's header, counts, time, timestamp.
TEST(Junit, DocumentHeaderAndCounts) {
  JunitReporter j(opts("unused.xml", "my <suite>"));
  j.on_session_start({});
  j.on_collected(9, {{"t/test_x.py", "m", "m"}}, 1);
  j.on_result({}, result("t/test_a.py::test_1", TestStatus::kPassed));
  j.on_result({}, result("t/test_a.py::test_2", TestStatus::kXPassed));
  j.on_result({}, result("t/test_a.py::test_3", TestStatus::kFailed, "m"));
  j.on_result({}, result("t/test_a.py::test_4", TestStatus::kCrashed, "m"));
  j.on_result({}, result("t/test_a.py::test_5", TestStatus::kTimeout, "m"));
  j.on_result({}, result("t/test_a.py::test_6", TestStatus::kError, "m"));
  j.on_result({}, result("t/test_a.py::test_7", TestStatus::kSkipped, "m"));
  j.on_result({}, result("t/test_a.py::test_8", TestStatus::kXFailed, "m"));
  std::string doc = j.document(1.23456);
  std::smatch m;
  std::regex head(
      R"re(^<\?xml version="1\.0" encoding="utf-8"\?><testsuites name="pytest tests"><testsuite name="my &lt;suite&gt;" )re"
      R"re(errors="2" failures="3" skipped="2" tests="9" time="1\.235" )re"
      R"re(timestamp="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d)" hostname="([^"]*)">)re");
  ASSERT_TRUE(std::regex_search(doc, m, head)) << doc;
  EXPECT_EQ(doc.find('\n'), std::string::npos);
  EXPECT_EQ(doc.substr(doc.size() - 25), "</testsuite></testsuites>");
  EXPECT_EQ(doc.find("captured"), std::string::npos);  // no system-out / system-err
}

TEST(Junit, EmptySuiteClosesItself) {
  JunitReporter j(opts("unused.xml"));
  std::string doc = j.document(0);
  EXPECT_NE(doc.find(R"( tests="0" time="0.000" )"), std::string::npos) << doc;
  EXPECT_EQ(doc.substr(doc.size() - 16), " /></testsuites>") << doc;
}

class JunitFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "dxpy_junit_XXXXXX";
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string dir_;
};

TEST_F(JunitFile, WrittenAtSessionEndIntoNewFolders) {
  std::string path = dir_ + "/a/b/report.xml";
  auto j = make_junit_reporter(opts(path));
  j->on_session_start({});
  j->on_result({}, result("t/test_a.py::test_1", TestStatus::kPassed));
  EXPECT_FALSE(std::filesystem::exists(path));
  Summary s;
  s.seconds = 0.5;
  j->on_session_end(s);
  ASSERT_FALSE(j->write_error()) << j->write_error()->message;
  EXPECT_EQ(slurp(path), j->document(0.5));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  mode_t mask = ::umask(022);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);  // as open() would make it, not mkstemp's 0600
  // Nothing left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ + "/a/b"), {}), 1);
}

TEST_F(JunitFile, ReplacesAnOldReport) {
  std::string path = dir_ + "/report.xml";
  std::ofstream(path) << "old";
  auto j = make_junit_reporter(opts(path));
  j->on_session_end({});
  ASSERT_FALSE(j->write_error());
  EXPECT_EQ(slurp(path).rfind("<?xml", 0), 0u);
}

TEST_F(JunitFile, AnUnwritablePathIsAnError) {
  std::ofstream(dir_ + "/file") << "x";
  auto j = make_junit_reporter(opts(dir_ + "/file/report.xml"));  // a folder that is a file
  j->on_session_end({});
  ASSERT_TRUE(j->write_error());
  EXPECT_NE(j->write_error()->message.find("report.xml"), std::string::npos) << j->write_error()->message;
}

}  // namespace
}  // namespace dxpy::report

namespace dxpy::report {
namespace {

TEST(Junit, ModuleLevelSkipIsOneCollectionSkipPerModule) {
  JunitReporter j(JunitOptions{"unused.xml"});
  std::string tb = std::string(kModuleSkipMarker) + "('/r/tests/test_m.py', 2, 'Skipped: no numpy')";
  j.on_result({}, result("tests/test_m.py::test_a", TestStatus::kSkipped, "no numpy", tb));
  j.on_result({}, result("tests/test_m.py::test_b", TestStatus::kSkipped, "no numpy", tb));
  EXPECT_EQ(cases(j),
            "<testcase classname=\"\" name=\"tests.test_m\" time=\"0.000\"><skipped message=\"collection skipped\">"
            "('/r/tests/test_m.py', 2, 'Skipped: no numpy')</skipped></testcase>");
  EXPECT_NE(j.document(0).find("skipped=\"1\" tests=\"1\""), std::string::npos);
}

TEST(Junit, TeardownErrorKeepsTheWorkersWording) {
  std::string xml = one(result("t/test_a.py::test_x", TestStatus::kError, "failed on teardown with \"boom\""));
  EXPECT_NE(xml.find("<error message=\"failed on teardown with &quot;boom&quot;\""), std::string::npos) << xml;
}

}  // namespace
}  // namespace dxpy::report

namespace dxpy::report {
namespace {

// pytest's JUnit XML for a fixture that fails after the test (the worker sends the error as a
// second result of the test, with other workers' results possibly in between).
TEST(JunitTeardown, ErrorJoinsAPassedOrSkippedTestcaseButNotAFailedOne) {
  JunitReporter j(opts("unused.xml"));
  const std::string msg = "failed on teardown with \"RuntimeError: boom\"";
  j.on_result({}, result("t/test_a.py::test_pass", TestStatus::kPassed));
  j.on_result({}, result("t/test_a.py::test_pass2", TestStatus::kPassed));  // another worker's
  j.on_result({}, result("t/test_a.py::test_pass", TestStatus::kError, msg, "E   RuntimeError: boom"));
  j.on_result({}, result("t/test_a.py::test_fail", TestStatus::kFailed, "assert 1 == 2", "E   assert 1 == 2"));
  j.on_result({}, result("t/test_a.py::test_fail", TestStatus::kError, msg, "E   RuntimeError: boom"));
  j.on_result(where("/r/t/test_a.py", 7), result("t/test_a.py::test_skip", TestStatus::kSkipped, "nope"));
  j.on_result({}, result("t/test_a.py::test_skip", TestStatus::kError, msg, "E   RuntimeError: boom"));
  std::string err = "<error message=\"failed on teardown with &quot;RuntimeError: boom&quot;\">E   RuntimeError: boom</error>";
  EXPECT_EQ(cases(j),
            "<testcase classname=\"t.test_a\" name=\"test_pass\" time=\"0.000\">" + err + "</testcase>"
            "<testcase classname=\"t.test_a\" name=\"test_pass2\" time=\"0.000\" />"
            "<testcase classname=\"t.test_a\" name=\"test_fail\" time=\"0.000\"><failure message=\"assert 1 == 2\">"
            "E   assert 1 == 2</failure></testcase>"
            "<testcase classname=\"t.test_a\" name=\"test_fail\" time=\"0.000\">" + err + "</testcase>"
            "<testcase classname=\"t.test_a\" name=\"test_skip\" time=\"0.000\"><skipped type=\"pytest.skip\" "
            "message=\"nope\">/r/t/test_a.py:7: nope</skipped>" + err + "</testcase>");
  std::string doc = j.document(0);
  EXPECT_NE(doc.find("errors=\"3\" failures=\"1\" skipped=\"1\""), std::string::npos) << doc;
}

TEST(JunitTeardown, AnErrorWithoutItsTestIsATestcaseOfItsOwn) {
  JunitReporter j(opts("unused.xml"));
  j.on_result({}, result("t/test_a.py::test_x2", TestStatus::kPassed));
  j.on_result({}, result("t/test_a.py::test_x", TestStatus::kError, "failed on teardown with \"E\"", "tb"));
  EXPECT_EQ(cases(j),
            "<testcase classname=\"t.test_a\" name=\"test_x2\" time=\"0.000\" />"
            "<testcase classname=\"t.test_a\" name=\"test_x\" time=\"0.000\"><error message=\"failed on teardown "
            "with &quot;E&quot;\">tb</error></testcase>");
}

}  // namespace
}  // namespace dxpy::report

namespace dxpy::report {
namespace {

// pytest 9's JUnit XML for failed subtests: one testcase per test, opened by the first failed
// subtest; the other failed subtests and the test's own outcome join it.
TEST(JunitSubtests, FailedSubtestsAndTheTestShareOneTestcase) {
  JunitReporter j(opts("unused.xml"));
  j.on_result({}, result("t/test_a.py::T::test_u", TestStatus::kFailed, "AssertionError: 1", "SUBFAILED(i=1)\ntb1"));
  j.on_result({}, result("t/test_a.py::test_other", TestStatus::kPassed));
  j.on_result({}, result("t/test_a.py::T::test_u", TestStatus::kFailed, "AssertionError: 2", "SUBFAILED(i=2)\ntb2"));
  j.on_result({}, result("t/test_a.py::T::test_u", TestStatus::kPassed));  // unittest: the test passed
  j.on_result({}, result("t/test_a.py::test_f", TestStatus::kFailed, "assert 2 < 2", "SUBFAILED[x] (i=2)\ntb3"));
  j.on_result({}, result("t/test_a.py::test_f", TestStatus::kFailed, "contains 1 failed subtest",
                         "contains 1 failed subtest"));
  j.on_result({}, result("t/test_a.py::test_f", TestStatus::kPassed));  // a later run of the same id
  EXPECT_EQ(cases(j),
            "<testcase classname=\"t.test_a.T\" name=\"test_u\" time=\"0.000\">"
            "<failure message=\"AssertionError: 1\">tb1</failure><failure message=\"AssertionError: 2\">tb2</failure>"
            "</testcase>"
            "<testcase classname=\"t.test_a\" name=\"test_other\" time=\"0.000\" />"
            "<testcase classname=\"t.test_a\" name=\"test_f\" time=\"0.000\"><failure message=\"assert 2 &lt; 2\">tb3"
            "</failure><failure message=\"contains 1 failed subtest\">contains 1 failed subtest</failure></testcase>"
            "<testcase classname=\"t.test_a\" name=\"test_f\" time=\"0.000\" />");
  std::string doc = j.document(0);
  EXPECT_NE(doc.find("errors=\"0\" failures=\"4\" skipped=\"0\" tests=\"7\""), std::string::npos) << doc;
}

}  // namespace
}  // namespace dxpy::report

namespace dxpy::report {
namespace {

TestResult with_properties(TestResult r, std::vector<Property> props) {
  r.properties = std::move(props);
  return r;
}

// pytest 9's output for record_property: the pairs open the testcase, the value escaped as
// bin_xml_escape then ElementTree escape it ("\x01" shows as "#x01", "\n" as "&#10;").
TEST(JunitProperties, OpenTheTestcaseBeforeItsOutcome) {
  EXPECT_EQ(one(with_properties(result("test_p.py::test_props", TestStatus::kPassed, "", "", 1'000'000),
                                {{"answer", "42"}, {"esc", "a<b&\"c\"\n\x01"}, {"7", "None"}})),
            R"(<testcase classname="test_p" name="test_props" time="0.001"><properties>)"
            R"(<property name="answer" value="42" /><property name="esc" value="a&lt;b&amp;&quot;c&quot;&#10;#x01" />)"
            R"(<property name="7" value="None" /></properties></testcase>)");
  EXPECT_EQ(one(with_properties(result("test_p.py::test_fail_props", TestStatus::kFailed, "assert False", "tb"),
                                {{"k", "v"}})),
            R"(<testcase classname="test_p" name="test_fail_props" time="0.000"><properties>)"
            R"(<property name="k" value="v" /></properties><failure message="assert False">tb</failure></testcase>)");
  EXPECT_EQ(one(with_properties(result("test_p.py::test_skip_props", TestStatus::kSkipped, "why"), {{"k", "v"}}),
                where("/tmp/hb_p/test_p.py", 14)),
            R"(<testcase classname="test_p" name="test_skip_props" time="0.000"><properties>)"
            R"(<property name="k" value="v" /></properties><skipped type="pytest.skip" message="why">)"
            R"(/tmp/hb_p/test_p.py:14: why</skipped></testcase>)");
}

// A teardown error joins the passed testcase after its properties; a test's own result that
// joins the testcase its failed subtests opened puts its properties first (pytest 9's output).
TEST(JunitProperties, StayFirstWhenResultsJoinATestcase) {
  JunitReporter j(opts("unused.xml"));
  j.on_result({}, with_properties(result("test_q.py::test_td", TestStatus::kPassed), {{"k", "v"}}));
  j.on_result({}, result("test_q.py::test_td", TestStatus::kError, "failed on teardown with \"RuntimeError: boom\"",
                         "tb"));
  j.on_result({}, result("test_q.py::test_sub", TestStatus::kFailed, "assert False", "SUBFAILED(i=1)\ntb1"));
  j.on_result({}, with_properties(result("test_q.py::test_sub", TestStatus::kFailed, "contains 1 failed subtest",
                                         "contains 1 failed subtest"),
                                  {{"k", "v"}}));
  EXPECT_EQ(cases(j),
            R"(<testcase classname="test_q" name="test_td" time="0.000"><properties><property name="k" value="v" />)"
            R"(</properties><error message="failed on teardown with &quot;RuntimeError: boom&quot;">tb</error>)"
            R"(</testcase>)"
            R"(<testcase classname="test_q" name="test_sub" time="0.000"><properties><property name="k" value="v" />)"
            R"(</properties><failure message="assert False">tb1</failure><failure message="contains 1 failed )"
            R"(subtest">contains 1 failed subtest</failure></testcase>)");
}

// record_testsuite_property: the suite's own <properties>, before every testcase, in the
// order the results brought them.
TEST(JunitProperties, SuitePropertiesComeBeforeTheTestcases) {
  JunitReporter j(opts("unused.xml"));
  TestResult a = result("test_p.py::test_suite", TestStatus::kPassed);
  a.suite_properties = {{"ARCH", "PPC"}, {"n", "3"}};
  j.on_result({}, result("test_p.py::test_plain", TestStatus::kPassed));
  j.on_result({}, a);
  std::string doc = j.document(0);
  EXPECT_NE(doc.find(R"(hostname=")"), std::string::npos);
  const std::string want = R"("><properties><property name="ARCH" value="PPC" /><property name="n" value="3" />)"
                           R"(</properties><testcase classname="test_p" name="test_plain" time="0.000" />)"
                           R"(<testcase classname="test_p" name="test_suite" time="0.000" /></testsuite>)";
  EXPECT_NE(doc.find(want), std::string::npos) << doc;
  std::string c = cases(j);
  EXPECT_EQ(c.find("<property", c.find("<testcase")), std::string::npos);  // none inside a testcase
}

// Suite properties are kept whatever the result that brought them becomes (here a
// collection error).
TEST(JunitProperties, SuitePropertiesOfAResultTurnedIntoACollectionError) {
  JunitReporter j(opts("unused.xml"));
  TestResult r = result("test_m.py::test_a", TestStatus::kError, std::string(kImportErrorPrefix) + "'test_m.py'");
  r.suite_properties = {{"ARCH", "PPC"}};
  j.on_result({}, r);
  std::string doc = j.document(0);
  EXPECT_NE(doc.find(R"(<properties><property name="ARCH" value="PPC" /></properties><testcase)"), std::string::npos)
      << doc;
}

}  // namespace
}  // namespace dxpy::report
