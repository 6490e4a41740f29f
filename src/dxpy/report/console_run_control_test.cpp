// The console's part of the run-control flags: --tb=no and line, the stop line of
// -x/--maxfail, flaky results (--retries) and extra summary sections (--durations).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "dxpy/report/console.h"

namespace dxpy::report {
namespace {

std::string run(ConsoleOptions o, const std::vector<TestResult>& results, Summary s = {}) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  o.out = f;
  auto sink = make_console_reporter(std::move(o));
  sink->on_session_start({"/root", "3.11.7", "0.1.0", {}});
  sink->on_collected(results.size(), {}, 0);
  for (const auto& r : results) {
    TestCase tc;
    tc.id = r.id;
    sink->on_result(tc, r);
    if (is_flaky(r))
      ++s.flaky;
    else
      ++s.counts[static_cast<int>(r.status)];
  }
  s.seconds = 0.5;
  sink->on_session_end(s);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

TestResult result(const char* node, TestStatus st, const char* msg = "", const char* tb = "", const char* out = "") {
  TestResult r;
  r.id = TestId::parse(node);
  r.status = st;
  r.message = msg;
  r.traceback = tb;
  r.stdout_text = out;
  return r;
}

ConsoleOptions options(const char* tb = "auto") {
  ConsoleOptions o;
  o.tbstyle = tb;
  return o;
}

TEST(ConsoleRunControl, TbNoPrintsNeitherFailuresNorErrors) {
  auto out = run(options("no"), {result("test_a.py::test_f", TestStatus::kFailed, "assert 0", "E  assert 0"),
                                 result("test_a.py::test_e", TestStatus::kError, "boom", "E  boom")});
  EXPECT_EQ(out.find("FAILURES"), std::string::npos) << out;
  EXPECT_EQ(out.find("ERRORS"), std::string::npos) << out;
  EXPECT_NE(out.find("FAILED test_a.py::test_f - assert 0\nERROR test_a.py::test_e - boom\n"), std::string::npos) << out;
}

TEST(ConsoleRunControl, TbLinePutsTheCrashLineAfterTheCapturedOutput) {
  auto out = run(options("line"), {result("test_a.py::test_f", TestStatus::kFailed, "assert 0",
                                          "E   assert 0\n/r/test_a.py:2: assert 0", "printed\n"),
                                   result("test_a.py::test_e", TestStatus::kError, "boom",
                                          "E   ValueError: boom\n/r/test_a.py:9: ValueError: boom")});
  std::string failures = "=================================== FAILURES ===================================\n"
                         "E   assert 0\n"
                         "----------------------------- Captured stdout call -----------------------------\n"
                         "printed\n"
                         "/r/test_a.py:2: assert 0\n";
  EXPECT_NE(out.find(failures), std::string::npos) << out;
  // An error keeps its title and has no crash line, as in pytest.
  EXPECT_NE(out.find("___________________________ ERROR at setup of test_e ___________________________\n"
                     "E   ValueError: boom\n="),
            std::string::npos)
      << out;
}

TEST(ConsoleRunControl, StopLineBeforeTheCounts) {
  Summary s;
  s.stop_reason = "stopping after 1 failures";
  auto out = run(options(), {result("test_a.py::test_f", TestStatus::kFailed, "assert 0", "E")}, s);
  EXPECT_NE(out.find("FAILED test_a.py::test_f - assert 0\n"
                     "!!!!!!!!!!!!!!!!!!!!!!!!!! stopping after 1 failures !!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                     "============================== 1 failed in 0.50s ===============================\n"),
            std::string::npos)
      << out;
}

TEST(ConsoleRunControl, FlakyHasItsLetterWordAndCount) {
  std::vector<TestResult> rs = {result("test_a.py::test_1", TestStatus::kPassed),
                                result("test_a.py::test_2", TestStatus::kPassed, "flaky: passed on run 2 of 3", "E  x")};
  auto out = run(options(), rs);
  EXPECT_NE(out.find("test_a.py .R "), std::string::npos) << out;
  EXPECT_NE(out.find(" 1 passed, 1 flaky in 0.50s "), std::string::npos) << out;
  EXPECT_EQ(out.find("FAILURES"), std::string::npos) << out;
  ConsoleOptions v = options();
  v.verbosity = 1;
  out = run(v, rs);
  EXPECT_NE(out.find("test_a.py::test_2 FLAKY "), std::string::npos) << out;
}

TEST(ConsoleRunControl, TerminalSummarySectionBeforeTheShortSummary) {
  ConsoleOptions o = options();
  o.terminal_summary = [] { return std::vector<std::string>{"slowest 1 durations", "0.20s call     test_a.py::test_f"}; };
  auto out = run(o, {result("test_a.py::test_f", TestStatus::kFailed, "assert 0", "E")});
  size_t d = out.find("============================= slowest 1 durations ==============================\n"
                      "0.20s call     test_a.py::test_f\n");
  ASSERT_NE(d, std::string::npos) << out;
  EXPECT_LT(out.find("FAILURES"), d);
  EXPECT_LT(d, out.find("short test summary info"));
}

}  // namespace
}  // namespace dxpy::report
