#pragma once
/// The JUnit XML reporter (--junitxml), written as pytest 9's `_pytest/junitxml.py` writes
/// it with its defaults (junit_family=xunit2, junit_logging=no, junit_duration_report=total):
/// the same element and attribute names, order and escaping, so tools that read pytest's file
/// (and `compare_junit.py`) read ours and match tests by (classname, name).
///
///   <?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite
///   name="pytest" errors= failures= skipped= tests= time= timestamp= hostname=>
///   <properties><property name="ARCH" value="PPC" /></properties>   (record_testsuite_property)
///   <testcase classname="tests.test_a.TestX" name="test_y[1]" time="0.001" />...
///
/// A test's record_property pairs (TestResult::properties) open its testcase with
/// `<properties><property name= value= />...</properties>`, before the elements below.
///
/// Per status (pytest's element, message attribute, text):
///   passed, xpassed      bare testcase (a non-strict XPASS is a pass in JUnit)
///   failed               <failure message="MESSAGE">TRACEBACK</failure>; a strict XPASS is
///                        a failure too ("[XPASS(strict)] reason", as the worker says it)
///   crashed, timeout     <failure message="[crashed] MESSAGE"> / "[timeout] MESSAGE"
///   error                <error message="failed on setup with &quot;MESSAGE&quot;">
///   skipped              <skipped type="pytest.skip" message="REASON">FILE:LINE: REASON</skipped>
///   xfailed              <skipped type="pytest.xfail" message="REASON" />
///   collection error     <testcase classname="" name="tests.test_broken" time="0.000">
///                        <error message="collection failure">LONGREPR</error>
/// A module that fails to import in a worker is a collection error in pytest: results whose
/// status is error and whose message starts with kImportErrorPrefix (the worker's wording)
/// become one such testcase per module instead of one error per test.
///
/// The ini options (JunitOptions) as pytest's: junit_logging puts the captured output into
/// <system-out>/<system-err> after the test's element, each as "----- Captured Out -----"
/// (centred in 80 columns), the text and an empty line; pytest writes it once per report
/// that carries output, which makes it twice for a skipped test while junit_log_passing_tests
/// is true (on the skip and at teardown) and never for a passing one when it is false.
/// dx-py has no separate log capture: "log" and "all" write the log section empty.
/// junit_family=xunit1 (or legacy) adds file and line to every testcase.
///
/// Results are rendered as they arrive; only the rendered XML is kept (a passed test costs
/// its names and time). The file is written atomically at on_session_end.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dxpy/report/sink.h"
#include "dxpy/util/expected.h"

namespace dxpy::report {

/// How the worker's message for a module that could not be imported begins.
inline constexpr std::string_view kImportErrorPrefix = "ImportError while importing test module ";

struct JunitOptions {
  std::string path;                  // where the file goes; missing folders are created
  std::string suite_name = "pytest";  // ini junit_suite_name
  std::string prefix;                // --junitprefix: put before every classname
  /// ini junit_logging: no|log|system-out|system-err|out-err|all (pytest: anything else is no).
  enum class Logging { kNo, kLog, kSystemOut, kSystemErr, kOutErr, kAll } logging = Logging::kNo;
  bool log_passing_tests = true;  // ini junit_log_passing_tests
  bool xunit1 = false;            // ini junit_family=xunit1|legacy (default xunit2)
};

/// pytest's junit_logging value; nullopt when it is none of pytest's words.
std::optional<JunitOptions::Logging> parse_junit_logging(std::string_view v);

class JunitReporter final : public ReportSink {
 public:
  explicit JunitReporter(JunitOptions opts);

  void on_session_start(const SessionInfo&) override;
  void on_collected(uint64_t items, const std::vector<CollectionError>& errors, uint64_t deselected) override;
  void on_result(const TestCase&, const TestResult&) override;
  void on_session_end(const Summary&) override;

  /// A collection error found after on_collected (pytest's `pytest_collectreport` failure).
  /// Once per path: later calls for the same path are ignored.
  void add_collection_error(const CollectionError& e);
  /// A module skipped as a whole; `text` is pytest's str(longrepr). Once per path.
  void add_collection_skip(const std::string& path, const std::string& text);

  /// The XML as on_session_end writes it (the suite's time is `seconds`).
  std::string document(double seconds) const;
  /// Set when on_session_end could not write the file (pytest stops with an internal error).
  const std::optional<Error>& write_error() const { return write_error_; }

 private:
  /// A teardown error of a test whose testcase is already written: pytest puts the <error>
  /// into that testcase when the call passed or was skipped (a failed call keeps its own
  /// testcase and the error gets a new one). False when there is none to merge into.
  bool merge_teardown_error(const std::string& classname, const std::string& name, const TestResult& r);
  /// The element inside a testcase for `r` (empty for a pass), counted in the totals.
  std::string element(const TestCase& tc, const TestResult& r, std::string_view traceback);
  /// The <system-out>/<system-err> elements junit_logging asks for after `r`'s element.
  std::string captured_output(const TestResult& r) const;
  /// Where the last testcase named so starts in body_ (npos: none); *end is where it ends.
  size_t find_testcase(const std::string& classname, const std::string& name, size_t* end) const;

  JunitOptions o_;
  std::string body_;  // the rendered <testcase> elements, in arrival order
  std::vector<Property> suite_properties_;  // record_testsuite_property's, in arrival order
  uint64_t errors_ = 0, failures_ = 0, skipped_ = 0, passed_ = 0;
  std::unordered_set<std::string> collect_error_paths_;
  std::unordered_set<std::string> subtest_open_;  // "classname\nname" of testcases a failed subtest opened
  std::string timestamp_;
  std::optional<Error> write_error_;
};

std::unique_ptr<JunitReporter> make_junit_reporter(JunitOptions opts);

/// pytest's `bin_xml_escape`: every character XML 1.0 forbids (and, as pytest's regex has
/// it, every one above U+FFFF) becomes the visible text "#xNN" / "#xNNNN". A byte that is
/// not valid UTF-8 is shown as its surrogateescape code point, "#xDC80".."#xDCFF".
std::string bin_xml_escape(std::string_view utf8);

/// pytest's `mangle_test_address` for a test: {classname, name}, e.g. tests/test_a.py::
/// TestX::Inner::test_y[1] -> {"tests.test_a.TestX.Inner", "test_y[1]"}. Unescaped.
struct JunitNames {
  std::string classname;
  std::string name;
};
JunitNames junit_names(std::string_view node_id, std::string_view prefix = {});

}  // namespace dxpy::report
