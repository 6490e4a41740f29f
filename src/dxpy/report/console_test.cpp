#include "dxpy/report/console.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace dxpy::report {
namespace {

// Each result is its own collected test unless `cases` names the test each came from (a
// test expanded at run time gives several results).
std::string run(int verbosity, const std::vector<TestResult>& results, std::vector<TestCase> cases = {},
                bool color = false, bool live = false, bool full_messages = false) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  ConsoleOptions o{verbosity, color, 80, f};
  o.live = live;
  o.full_messages = full_messages;
  auto sink = make_console_reporter(o);
  sink->on_session_start({"/root", "3.11.7", "0.1.0", {}});
  uint64_t collected = results.size();
  if (!cases.empty()) {
    std::vector<std::string> ids;
    for (const auto& c : cases) ids.push_back(c.id.node_id());
    std::sort(ids.begin(), ids.end());
    collected = std::unique(ids.begin(), ids.end()) - ids.begin();
  }
  sink->on_collected(collected, {}, 0);
  Summary s;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    TestCase tc;
    tc.id = r.id;
    sink->on_test_started(cases.empty() ? tc : cases[i]);
    sink->on_tick();
    sink->on_result(cases.empty() ? tc : cases[i], r);
    ++s.counts[static_cast<int>(r.status)];
  }
  s.seconds = 0.25;
  sink->on_session_end(s);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

TestResult result(const char* node, TestStatus st, const char* msg = "") {
  TestResult r;
  r.id = TestId::parse(node);
  r.status = st;
  r.message = msg;
  return r;
}

TEST(Console, PytestLayout) {
  auto out = run(0, {result("t/test_a.py::test_1", TestStatus::kPassed),
                     result("t/test_a.py::test_2", TestStatus::kFailed, "assert 1 == 2"),
                     result("t/test_b.py::TestC::test_3", TestStatus::kSkipped)});
  EXPECT_NE(out.find("============================= test session starts =============================="),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("collected 3 items\n"), std::string::npos);
  EXPECT_NE(out.find("t/test_a.py .F"), std::string::npos);
  EXPECT_NE(out.find("[ 66%]\n"), std::string::npos);
  EXPECT_NE(out.find("t/test_b.py s"), std::string::npos);
  EXPECT_NE(out.find("[100%]\n"), std::string::npos);
  EXPECT_NE(out.find("_ test_2 _"), std::string::npos);
  EXPECT_NE(out.find("FAILED t/test_a.py::test_2 - assert 1 == 2\n"), std::string::npos);
  EXPECT_NE(out.find("= 1 failed, 1 passed, 1 skipped in 0.25s ="), std::string::npos);
  // Every separator line is exactly the terminal's width, as pytest draws them.
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    std::string line = out.substr(start, end - start);
    if (line.rfind("===", 0) == 0 || line.rfind("___", 0) == 0) {
      EXPECT_EQ(line.size(), 80u) << line;
    }
    start = end + 1;
  }
}

// pytest's short summary keeps a message's first line, but all of it on CI and with -vv.
TEST(Console, ShortSummaryMessagesAreWholeOnlyWhenAskedFor) {
  std::vector<TestResult> rs{result("test_a.py::test_1", TestStatus::kFailed, "AssertionError: bad\nassert 2 == 3")};
  auto first = run(0, rs);
  EXPECT_NE(first.find("FAILED test_a.py::test_1 - AssertionError: bad\n"), std::string::npos) << first;
  EXPECT_EQ(first.find("- AssertionError: bad\nassert 2 == 3"), std::string::npos) << first;
  auto whole = run(0, rs, {}, false, false, true);
  EXPECT_NE(whole.find("FAILED test_a.py::test_1 - AssertionError: bad\nassert 2 == 3\n"), std::string::npos) << whole;
}

TEST(Console, QuietHasNoHeaderAndABareSummary) {
  auto out = run(-1, {result("t/test_a.py::test_1", TestStatus::kPassed)});
  EXPECT_EQ(out.find("test session starts"), std::string::npos);
  EXPECT_NE(out.find("\n1 passed in 0.25s\n"), std::string::npos) << out;
}

TEST(Console, VerboseNamesEachTest) {
  auto out = run(1, {result("t/test_a.py::test_1[x]", TestStatus::kXFailed)});
  EXPECT_NE(out.find("t/test_a.py::test_1[x] XFAIL"), std::string::npos) << out;
}

TEST(Console, ProgressCountsAnExpandedTestOnce) {
  // test_p is parametrized at run time: one collected item, three results.
  TestCase p, q;
  p.id = TestId::parse("t/test_a.py::test_p");
  p.expand_at_runtime = true;
  q.id = TestId::parse("t/test_a.py::test_q");
  auto out = run(0,
                 {result("t/test_a.py::test_p[1]", TestStatus::kPassed),
                  result("t/test_a.py::test_p[2]", TestStatus::kPassed),
                  result("t/test_a.py::test_p[3]", TestStatus::kPassed), result("t/test_a.py::test_q", TestStatus::kPassed)},
                 {p, p, p, q});
  EXPECT_NE(out.find("collected 2 items\n"), std::string::npos) << out;
  EXPECT_NE(out.find("t/test_a.py ....  "), std::string::npos) << out;
  EXPECT_NE(out.find("[100%]\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("%]", out.find("[100%]") + 6), std::string::npos) << out;  // one progress mark
  auto verbose = run(1, {result("t/test_a.py::test_p[1]", TestStatus::kPassed),
                         result("t/test_a.py::test_p[2]", TestStatus::kPassed), result("t/test_a.py::test_q", TestStatus::kPassed)},
                     {p, p, q});
  EXPECT_NE(verbose.find("test_p[1] PASSED"), std::string::npos) << verbose;
  EXPECT_EQ(verbose.find("[150%]"), std::string::npos) << verbose;
  EXPECT_EQ(verbose.find("[100%]"), verbose.rfind("[100%]")) << verbose;  // the last one only
}

TEST(Console, TeardownErrorIsAnErrorAfterTheTestsOwnResult) {
  auto out = run(0, {result("t/test_a.py::test_1", TestStatus::kPassed),
                     result("t/test_a.py::test_1", TestStatus::kError, "failed on teardown with \"RuntimeError: boom\""),
                     result("t/test_a.py::test_2", TestStatus::kPassed)},
                 [] {
                   TestCase a, b;
                   a.id = TestId::parse("t/test_a.py::test_1");
                   b.id = TestId::parse("t/test_a.py::test_2");
                   return std::vector<TestCase>{a, a, b};
                 }());
  EXPECT_NE(out.find("t/test_a.py .E.  "), std::string::npos) << out;
  EXPECT_EQ(out.find("[ 50%]"), std::string::npos) << out;  // the error is not a test of its own
  EXPECT_NE(out.find("_ ERROR at teardown of test_1 _"), std::string::npos) << out;
  EXPECT_NE(out.find("ERROR t/test_a.py::test_1 - RuntimeError: boom\n"), std::string::npos) << out;
  EXPECT_NE(out.find("= 2 passed, 1 error in 0.25s ="), std::string::npos) << out;
}

TEST(Console, FailedSubtestsAreFailuresOfTheirOwnBeforeTheTest) {
  TestCase u;
  u.id = TestId::parse("t/test_a.py::T::test_u");
  auto out = run(0, {result("t/test_a.py::T::test_u", TestStatus::kFailed, "AssertionError: 2 not less than 2"),
                     result("t/test_a.py::T::test_u", TestStatus::kPassed)},
                 {u, u});
  EXPECT_EQ(out.find("SUBFAILED"), std::string::npos) << out;  // no marker: an ordinary failure
  auto sub = result("t/test_a.py::T::test_u", TestStatus::kFailed, "AssertionError: 2 not less than 2");
  sub.traceback = "SUBFAILED(i=2)\nE   AssertionError: 2 not less than 2";
  out = run(0, {sub, result("t/test_a.py::T::test_u", TestStatus::kPassed)}, {u, u});
  EXPECT_NE(out.find("collected 1 item\n"), std::string::npos) << out;
  EXPECT_NE(out.find("t/test_a.py u.  "), std::string::npos) << out;
  EXPECT_NE(out.find("_ T.test_u (i=2) _"), std::string::npos) << out;
  EXPECT_NE(out.find("\nE   AssertionError: 2 not less than 2\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("SUBFAILED(i=2)\nE"), std::string::npos) << out;  // the marker line is not shown
  EXPECT_NE(out.find("SUBFAILED(i=2) t/test_a.py::T::test_u - AssertionError: 2 not less than 2\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("= 1 failed, 1 passed in 0.25s ="), std::string::npos) << out;
  auto verbose = run(1, {sub, result("t/test_a.py::T::test_u", TestStatus::kPassed)}, {u, u});
  EXPECT_NE(verbose.find("t/test_a.py::T::test_u SUBFAILED(i=2)"), std::string::npos) << verbose;
}

TEST(Console, AModuleSkippedAtImportShowsOnce) {
  auto skip = [](const char* node) {
    auto r = result(node, TestStatus::kSkipped, "could not import 'numpy'");
    r.traceback = std::string(kModuleSkipMarker) + "('/r/t/test_np.py', 3, \"Skipped: could not import 'numpy'\")";
    return r;
  };
  auto out = run(0, {skip("t/test_np.py::test_1"), skip("t/test_np.py::test_2"), skip("t/test_np.py::test_3"),
                     result("t/test_ok.py::test_ok", TestStatus::kPassed)});
  EXPECT_NE(out.find("t/test_np.py s  "), std::string::npos) << out;
  EXPECT_NE(out.find("[ 75%]"), std::string::npos) << out;  // the progress still counts each test
  EXPECT_NE(out.find("t/test_ok.py .  "), std::string::npos) << out;
}

TEST(Console, ProgressLinesAreOneShortOfTheWidthAndABlankLineFollows) {
  auto out = run(0, {result("t/test_a.py::test_1", TestStatus::kPassed)});
  EXPECT_NE(out.find("\nt/test_a.py ." + std::string(79 - 13 - 6, ' ') + "[100%]\n\n="), std::string::npos) << out;
  auto verbose = run(1, {result("t/test_a.py::test_1", TestStatus::kPassed)});
  std::string head = "t/test_a.py::test_1 PASSED";
  EXPECT_NE(verbose.find(head + std::string(79 - head.size() - 6, ' ') + "[100%]\n\n="), std::string::npos) << verbose;
  auto quiet = run(-1, {result("t/test_a.py::test_1", TestStatus::kPassed)});
  EXPECT_NE(quiet.find("[100%]\n1 passed"), std::string::npos) << quiet;  // -q: no blank line
}

TEST(Console, PytestsColours) {
  auto out = run(0,
                 {result("t/test_a.py::test_1", TestStatus::kPassed),
                  result("t/test_a.py::test_2", TestStatus::kFailed, "assert 1 == 2"),
                  result("t/test_b.py::test_3", TestStatus::kSkipped)},
                 {}, true);
  // Progress in the run's main colour so far: green, then red after the failure.
  EXPECT_NE(out.find("\x1b[31m" + std::string(79 - 14 - 6, ' ') + "[ 66%]\x1b[0m"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[33ms\x1b[0m"), std::string::npos) << out;
  // "collected" is bold only on a terminal; the section titles red and bold; the summary
  // header cyan and bold; FAILURES plain.
  EXPECT_NE(out.find("\ncollected 3 items\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[31m\x1b[1m______"), std::string::npos) << out;
  EXPECT_NE(out.find("\n=================================== FAILURES ==================================="),
            std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[36m\x1b[1m=========================== short test summary info"), std::string::npos);
  EXPECT_NE(out.find("\x1b[31mFAILED\x1b[0m t/test_a.py::\x1b[1mtest_2\x1b[0m - assert 1 == 2\n"), std::string::npos);
  // Closing line: each count in its colour, bold when it is the main colour.
  EXPECT_NE(out.find("\x1b[31m==================== \x1b[0m\x1b[31m\x1b[1m1 failed\x1b[0m\x1b[31m, \x1b[0m"
                     "\x1b[32m1 passed\x1b[0m\x1b[31m, \x1b[0m\x1b[33m1 skipped\x1b[0m\x1b[31m in 0.25s\x1b[0m"
                     "\x1b[31m ====================\x1b[0m\n"),
            std::string::npos)
      << out;
  auto green = run(-1, {result("t/test_a.py::test_1", TestStatus::kPassed)}, {}, true);
  EXPECT_NE(green.find("\x1b[32m\x1b[1m1 passed\x1b[0m\x1b[32m in 0.25s\x1b[0m\n"), std::string::npos) << green;
  auto yellow = run(-1, {result("t/test_a.py::test_1", TestStatus::kSkipped)}, {}, true);
  EXPECT_NE(yellow.find("\x1b[33m\x1b[1m1 skipped"), std::string::npos) << yellow;
  auto plain = run(0, {result("t/test_a.py::test_2", TestStatus::kFailed, "assert 1 == 2")});
  EXPECT_EQ(plain.find('\x1b'), std::string::npos) << plain;
  auto terminal = run(0, {result("t/test_a.py::test_1", TestStatus::kPassed)}, {}, true, true);
  EXPECT_NE(terminal.find("\x1b[1mcollected 1 item\x1b[0m"), std::string::npos) << terminal;  // bold on a terminal
}

TEST(Console, LiveBarIsDrawnBelowAndGoneAtTheEnd) {
  auto out = run(0, {result("t/test_a.py::test_1", TestStatus::kPassed)}, {}, false, true);
  EXPECT_NE(out.find("\ncollected 1 item\n"), std::string::npos) << out;  // no colour: not bold either
  size_t bar = out.find("\n[░░░░░░░░░░░░░░░░░░░░] 0/1");
  ASSERT_NE(bar, std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[1A\r", bar), std::string::npos) << out;  // back up to the progress line
  EXPECT_NE(out.find("\x1b[J"), std::string::npos) << out;           // erased before more output
  EXPECT_EQ(out.find("\x1b[1A", out.rfind("\x1b[J")), std::string::npos) << out;  // not drawn after the end
  EXPECT_NE(out.find("1 passed in 0.25s"), std::string::npos) << out;
}

TEST(Summary, WordsInPytestOrder) {
  Summary s;
  s.counts[static_cast<int>(TestStatus::kError)] = 2;
  s.counts[static_cast<int>(TestStatus::kPassed)] = 3;
  s.counts[static_cast<int>(TestStatus::kCrashed)] = 1;
  s.seconds = 1.5;
  EXPECT_EQ(summary_words(s), "3 passed, 2 errors, 1 crashed in 1.50s");
  EXPECT_EQ(summary_words(Summary{}), "no tests ran in 0.00s");
  s = Summary{};
  s.counts[static_cast<int>(TestStatus::kPassed)] = 1;
  s.seconds = 3725.5;  // pytest's format_session_duration past a minute
  EXPECT_EQ(summary_words(s), "1 passed in 3725.50s (1:02:05)");
}

}  // namespace
}  // namespace dxpy::report
