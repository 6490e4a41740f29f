#include "dxpy/report/junit_merge.h"

#include <gtest/gtest.h>

#include "dxpy/report/junit.h"

namespace dxpy::report {
namespace {

TEST(JunitMerge, SumsCountsAndTimesAndKeepsEveryTestcaseInOrder) {
  std::string a =
      R"(<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" )"
      R"(failures="1" skipped="0" tests="3" time="1.250" timestamp="2026-01-02T10:00:01+00:00" hostname="ci-1">)"
      R"(<properties><property name="ARCH" value="x86" /></properties>)"
      R"(<testcase classname="t.test_a" name="test_x" time="0.001" />)"
      R"(<testcase classname="t.test_a" name="test_y" time="0.002"><failure message="a &lt; b">E &amp; ]]&gt;</failure></testcase>)"
      R"(<testcase classname="" name="t.test_broken" time="0.000"><error message="collection failure">boom</error></testcase>)"
      R"(</testsuite></testsuites>)";
  std::string b =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites name=\"pytest tests\">\n  <testsuite name=\"pytest\" "
      "errors=\"0\" failures=\"0\" skipped=\"1\" tests=\"2\" time=\"2.5\" timestamp=\"2026-01-02T10:00:00+00:00\" "
      "hostname=\"ci-2\">\n    <properties><property name=\"ARCH\" value=\"x86\" /><property name=\"JOB\" "
      "value=\"2\"/></properties>\n    <testcase classname=\"t.test_b\" name=\"test_z[&#10;]\" time=\"0.5\"/>\n"
      "    <testcase classname=\"t.test_b\" name=\"test_s\" time=\"0\"><skipped type=\"pytest.skip\" "
      "message=\"why\">t/test_b.py:3: why</skipped></testcase>\n  </testsuite>\n</testsuites>\n";
  auto merged = merge_junit({{"a.xml", a}, {"b.xml", b}});
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(*merged,
            R"(<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" )"
            R"(errors="1" failures="1" skipped="1" tests="5" time="3.750" timestamp="2026-01-02T10:00:00+00:00" )"
            R"(hostname="ci-1"><properties><property name="ARCH" value="x86" /><property name="JOB" value="2"/>)"
            R"(</properties><testcase classname="t.test_a" name="test_x" time="0.001" />)"
            R"(<testcase classname="t.test_a" name="test_y" time="0.002"><failure message="a &lt; b">E &amp; ]]&gt;)"
            R"(</failure></testcase><testcase classname="" name="t.test_broken" time="0.000"><error )"
            R"(message="collection failure">boom</error></testcase>)"
            R"(<testcase classname="t.test_b" name="test_z[&#10;]" time="0.5"/>)"
            R"(<testcase classname="t.test_b" name="test_s" time="0"><skipped type="pytest.skip" )"
            R"(message="why">t/test_b.py:3: why</skipped></testcase></testsuite></testsuites>)");
}

TEST(JunitMerge, OfOurOwnReportsIsTheirSum) {
  JunitOptions o;
  o.path = "unused.xml";
  JunitReporter a(o), b(o);
  TestResult r;
  r.id = TestId::parse("t/test_a.py::test_x");
  a.on_result({}, r);
  r.id = TestId::parse("t/test_b.py::test_y");
  r.status = TestStatus::kFailed;
  r.message = "assert 0";
  b.on_result({}, r);
  auto merged = merge_junit({{"a", a.document(1)}, {"b", b.document(2)}});
  ASSERT_TRUE(merged);
  EXPECT_NE(merged->find(R"(errors="0" failures="1" skipped="0" tests="2" time="3.000")"), std::string::npos);
  EXPECT_NE(merged->find(R"(<testcase classname="t.test_a" name="test_x" time="0.000" /><testcase classname="t.test_b")"),
            std::string::npos);
}

TEST(JunitMerge, ABareTestsuiteAndAnEmptyOne) {
  auto merged = merge_junit({{"a", R"(<testsuite name="s" tests="0" errors="0" failures="0" />)"},
                             {"b", R"(<testsuite name="s" tests="1" errors="0" failures="0"><testcase name="t"/></testsuite>)"}});
  ASSERT_TRUE(merged);
  EXPECT_EQ(*merged, R"(<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="s" )"
                     R"(errors="0" failures="0" skipped="0" tests="1" time="0.000"><testcase name="t"/></testsuite></testsuites>)");
}

TEST(JunitMerge, BadInputsNameTheFile) {
  auto broken = merge_junit({{"ok.xml", "<testsuite name=\"s\" tests=\"0\" errors=\"0\" failures=\"0\"/>"},
                             {"shard2.xml", "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase></testsuites>"}});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Errc::kParse);
  EXPECT_EQ(broken.error().message.rfind("shard2.xml:1: ", 0), 0u) << broken.error().message;

  auto html = merge_junit({{"page.html", "<html><body/></html>"}});
  ASSERT_FALSE(html);
  EXPECT_NE(html.error().message.find("<html>"), std::string::npos);

  auto counts = merge_junit({{"c.xml", R"(<testsuite name="s" tests="many" errors="0" failures="0"/>)"}});
  ASSERT_FALSE(counts);
  auto none = merge_junit({{"n.xml", "<testsuites/>"}});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no <testsuite>"), std::string::npos);
}

// junit_logging and junit_family (pytest's output for the same tests, pytest 9.0.3).
TestResult with_output(const char* node, TestStatus st) {
  TestResult r;
  r.id = TestId::parse(node);
  r.status = st;
  r.message = st == TestStatus::kSkipped ? "why" : st == TestStatus::kFailed ? "assert 0" : "";
  r.stdout_text = "out\n";
  r.stderr_text = "err\n";
  return r;
}

std::string render(JunitOptions o, const TestResult& r) {
  o.path = "unused.xml";
  JunitReporter j(o);
  TestCase tc;
  tc.file = "t.py";
  tc.line = 7;
  j.on_result(tc, r);
  std::string doc = j.document(0);
  size_t open = doc.find("<testcase");
  return doc.substr(open, doc.rfind("</testsuite>") - open);
}

const std::string kOut = "<system-out>" + std::string(33, '-') + " Captured Out " + std::string(33, '-') + "\nout\n\n</system-out>";
const std::string kErr = "<system-err>" + std::string(33, '-') + " Captured Err " + std::string(33, '-') + "\nerr\n\n</system-err>";

TEST(JunitLogging, NoneByDefault) {
  EXPECT_EQ(render({}, with_output("t.py::test_p", TestStatus::kPassed)), R"(<testcase classname="t" name="test_p" time="0.000" />)");
}

TEST(JunitLogging, SystemOutAfterTheOutcomeTwiceForASkipAsPytestWritesIt) {
  JunitOptions o;
  o.logging = JunitOptions::Logging::kSystemOut;
  EXPECT_EQ(render(o, with_output("t.py::test_p", TestStatus::kPassed)),
            R"(<testcase classname="t" name="test_p" time="0.000">)" + kOut + "</testcase>");
  EXPECT_EQ(render(o, with_output("t.py::test_f", TestStatus::kFailed)),
            R"(<testcase classname="t" name="test_f" time="0.000"><failure message="assert 0">assert 0</failure>)" + kOut +
                "</testcase>");
  EXPECT_EQ(render(o, with_output("t.py::test_s", TestStatus::kSkipped)),
            R"(<testcase classname="t" name="test_s" time="0.000"><skipped type="pytest.skip" message="why">t.py:7: why)"
            R"(</skipped>)" + kOut + kOut + "</testcase>");
}

TEST(JunitLogging, OutErrAndPassingTestsOff) {
  JunitOptions o;
  o.logging = JunitOptions::Logging::kOutErr;
  o.log_passing_tests = false;
  EXPECT_EQ(render(o, with_output("t.py::test_p", TestStatus::kPassed)), R"(<testcase classname="t" name="test_p" time="0.000" />)");
  EXPECT_EQ(render(o, with_output("t.py::test_x", TestStatus::kXFailed)),
            R"(<testcase classname="t" name="test_x" time="0.000"><skipped type="pytest.xfail" message="" /></testcase>)");
  EXPECT_EQ(render(o, with_output("t.py::test_f", TestStatus::kFailed)),
            R"(<testcase classname="t" name="test_f" time="0.000"><failure message="assert 0">assert 0</failure>)" + kOut +
                kErr + "</testcase>");
  EXPECT_EQ(render(o, with_output("t.py::test_s", TestStatus::kSkipped)),
            R"(<testcase classname="t" name="test_s" time="0.000"><skipped type="pytest.skip" message="why">t.py:7: why)"
            R"(</skipped>)" + kOut + kErr + "</testcase>");
}

TEST(JunitLogging, AllPutsTheLogSectionFirstInSystemOut) {
  JunitOptions o;
  o.logging = JunitOptions::Logging::kAll;
  std::string log = std::string(33, '-') + " Captured Log " + std::string(33, '-') + "\n\n";
  EXPECT_EQ(render(o, with_output("t.py::test_p", TestStatus::kPassed)),
            R"(<testcase classname="t" name="test_p" time="0.000"><system-out>)" + log + kOut.substr(12) + kErr +
                "</testcase>");
  EXPECT_EQ(parse_junit_logging("out-err"), JunitOptions::Logging::kOutErr);
  EXPECT_FALSE(parse_junit_logging("stdout"));
}

TEST(JunitFamily, Xunit1AddsFileAndZeroBasedLine) {
  JunitOptions o;
  o.xunit1 = true;
  EXPECT_EQ(render(o, with_output("t.py::test_p", TestStatus::kPassed)),
            R"(<testcase classname="t" name="test_p" file="t.py" line="6" time="0.000" />)");
}

}  // namespace
}  // namespace dxpy::report
