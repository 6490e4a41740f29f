#include "dxpy/report/console.h"

#include <cinttypes>
#include <string>
#include <unordered_set>
#include <vector>

namespace dxpy::report {

namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kReset = "\x1b[0m";

char letter(TestStatus s) {
  switch (s) {
    case TestStatus::kPassed: return '.';
    case TestStatus::kFailed: return 'F';
    case TestStatus::kError: return 'E';
    case TestStatus::kSkipped: return 's';
    case TestStatus::kXFailed: return 'x';
    case TestStatus::kXPassed: return 'X';
    case TestStatus::kCrashed: return 'C';
    case TestStatus::kTimeout: return 'T';
  }
  return '?';
}

const char* word(TestStatus s) {
  switch (s) {
    case TestStatus::kPassed: return "PASSED";
    case TestStatus::kFailed: return "FAILED";
    case TestStatus::kError: return "ERROR";
    case TestStatus::kSkipped: return "SKIPPED";
    case TestStatus::kXFailed: return "XFAIL";
    case TestStatus::kXPassed: return "XPASS";
    case TestStatus::kCrashed: return "CRASHED";
    case TestStatus::kTimeout: return "TIMEOUT";
  }
  return "?";
}

const char* color_of(TestStatus s) {
  switch (s) {
    case TestStatus::kPassed: return kGreen;
    case TestStatus::kSkipped:
    case TestStatus::kXFailed:
    case TestStatus::kXPassed: return kYellow;
    default: return kRed;
  }
}

bool is_bad(TestStatus s) {
  return s == TestStatus::kFailed || s == TestStatus::kError || s == TestStatus::kCrashed ||
         s == TestStatus::kTimeout;
}

// pytest's TerminalWriter.sep: "=== title ===" filling the width.
std::string sep(char c, const std::string& title, int width) {
  if (title.empty()) return std::string(static_cast<size_t>(width), c);
  int n = std::max((width - static_cast<int>(title.size()) - 2) / 2, 1);
  std::string fill(static_cast<size_t>(n), c);
  std::string line = fill + " " + title + " " + fill;
  if (static_cast<int>(line.size()) + 1 <= width) line.push_back(c);
  return line;
}

// pytest's head line of a report: "Class.test_name[param]".
std::string head_line(const TestId& id) {
  std::string out;
  for (const auto& c : id.classes) out += c + ".";
  out += id.name;
  if (id.param) out += "[" + *id.param + "]";
  return out;
}

struct Bad {
  TestId id;
  TestStatus status;
  std::string message, traceback, out, err;
  bool teardown = false;  // an error in the teardown after the test (is_teardown_error)
  std::string subtest;    // "[msg] (i=2)" of a failed subtest (is_subtest_failure), else empty
};

class Console final : public ReportSink {
 public:
  explicit Console(ConsoleOptions o) : o_(o) {}

  void on_session_start(const SessionInfo& info) override {
    if (o_.verbosity < 0) return;
    line(paint(kBold, sep('=', "test session starts", o_.width)));
    std::string python = info.python_version.empty() ? "" : "Python " + info.python_version + ", ";
    line("platform linux -- " + python + "dx-py-" + info.dxpy_version);
    line("rootdir: " + info.rootdir);
    for (const auto& c : info.configfile) line("configfile: " + c);
  }

  void on_collected(uint64_t items, const std::vector<CollectionError>& errors, uint64_t deselected) override {
    total_ = items - deselected;
    collect_errors_ = errors;
    if (o_.verbosity >= 0) {
      std::string s = "collected " + std::to_string(items) + (items == 1 ? " item" : " items");
      if (!errors.empty()) s += " / " + std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors");
      if (deselected) s += " / " + std::to_string(deselected) + " deselected / " + std::to_string(total_) + " selected";
      line(paint(kBold, s));
      for (const auto& l : o_.collection_lines) line(l);
      line("");
    }
  }

  void on_result(const TestCase& tc, const TestResult& r) override {
    if (o_.verbosity == 0 && !o_.parallel && r.id.path != current_file_ && !is_runtime_deselected(r))
      finish_progress_line();
    // Progress counts collected items. A test the worker expands into several instances
    // (parametrize arguments or fixture params known only at run time) is one of them: its
    // first result counts, the other instances do not (the percentage never passes 100).
    bool subtest = is_subtest_failure(r);
    bool counted = !subtest && !is_teardown_error(r) && (r.id == tc.id || expanded_.insert(tc.id.node_id()).second);
    if (counted) ++done_;
    // A module skipped at import: one "s" and one count for the module, as pytest shows it.
    if (is_runtime_deselected(r) || (is_module_skip(r) && !skipped_modules_.insert(r.id.path).second)) {
      if (counted && done_ == total_) finish_progress_line();
      return;
    }
    if (subtest)
      bad_.push_back({r.id, r.status, r.message, std::string(subtest_traceback(r)), r.stdout_text, r.stderr_text,
                      false, std::string(subtest_description(r))});
    else if (is_bad(r.status))
      bad_.push_back({r.id, r.status, r.message, r.traceback, r.stdout_text, r.stderr_text, is_teardown_error(r), {}});
    if (o_.verbosity > 0) {
      std::string head = r.id.node_id() + " ";
      std::string w = subtest ? std::string(kSubtestMarker) + std::string(subtest_description(r)) : word(r.status);
      std::string pct = percent();
      int pad = o_.width - static_cast<int>(head.size() + w.size() + pct.size());
      std::fputs(head.c_str(), o_.out);
      std::fputs(paint(color_of(r.status), w).c_str(), o_.out);
      std::fputs(std::string(static_cast<size_t>(std::max(pad, 1)), ' ').c_str(), o_.out);
      std::fputs(paint(color_of(r.status), pct).c_str(), o_.out);
      std::fputc('\n', o_.out);
      return;
    }
    if (o_.verbosity == 0 && !o_.parallel && r.id.path != current_file_) {
      finish_progress_line();
      current_file_ = r.id.path;
      std::fputs(current_file_.c_str(), o_.out);
      std::fputc(' ', o_.out);
      col_ = static_cast<int>(current_file_.size()) + 1;
    }
    if ((o_.verbosity < 0 || o_.parallel) && col_ + 8 >= o_.width) finish_progress_line();
    std::fputs(paint(color_of(r.status), std::string(1, subtest ? 'u' : letter(r.status))).c_str(), o_.out);
    ++col_;
    if (counted && done_ == total_) finish_progress_line();
  }

  void on_interrupted(const std::string& what) override {
    finish_progress_line();
    line(paint(kRed, sep('!', what, o_.width)));
  }

  void on_session_end(const Summary& s) override {
    finish_progress_line();
    if (!collect_errors_.empty() || has(TestStatus::kError)) {
      line(paint(kRed, sep('=', "ERRORS", o_.width)));
      for (const auto& e : collect_errors_) {
        line(paint(kRed, sep('_', "ERROR collecting " + e.path, o_.width)));
        line(e.longrepr.empty() ? e.message : e.longrepr);
      }
      for (const auto& b : bad_)
        if (b.status == TestStatus::kError)
          section(b, (b.teardown ? "ERROR at teardown of " : "ERROR at setup of ") + head_line(b.id));
    }
    if (has(TestStatus::kFailed) || has(TestStatus::kCrashed) || has(TestStatus::kTimeout)) {
      line(paint(kRed, sep('=', "FAILURES", o_.width)));
      for (const auto& b : bad_)
        if (b.status != TestStatus::kError) section(b, head_line(b.id) + (b.subtest.empty() ? "" : " " + b.subtest));
    }
    if (!bad_.empty() || !collect_errors_.empty()) {
      line(sep('=', "short test summary info", o_.width));
      for (const auto& e : collect_errors_) line(paint(kRed, "ERROR") + " " + e.path + " - " + e.message);
      for (const auto& b : bad_) {
        std::string msg = b.message.substr(0, b.message.find('\n'));
        if (b.teardown && msg.size() >= kTeardownErrorPrefix.size() + 2 && msg.back() == '"')  // the reason alone
          msg = msg.substr(kTeardownErrorPrefix.size() + 1, msg.size() - kTeardownErrorPrefix.size() - 2);
        std::string w = b.subtest.empty() ? word(b.status) : std::string(kSubtestMarker) + b.subtest;
        line(paint(kRed, w) + " " + b.id.node_id() + (msg.empty() ? "" : " - " + msg));
      }
    }
    std::string words = summary_words(s);
    bool red = s.counts[static_cast<int>(TestStatus::kFailed)] || s.counts[static_cast<int>(TestStatus::kError)] ||
               s.counts[static_cast<int>(TestStatus::kCrashed)] || s.counts[static_cast<int>(TestStatus::kTimeout)] ||
               s.collection_errors || s.interrupted;
    bool green = !red && s.counts[static_cast<int>(TestStatus::kPassed)] > 0 &&
                 !s.counts[static_cast<int>(TestStatus::kXPassed)];
    const char* c = red ? kRed : green ? kGreen : kYellow;
    line(paint(c, o_.verbosity < 0 ? words : sep('=', words, o_.width)));
    std::fflush(o_.out);
  }

 private:
  std::string paint(const char* color, const std::string& s) const {
    return o_.color ? std::string(color) + s + kReset : s;
  }
  void line(const std::string& s) {
    std::fputs(s.c_str(), o_.out);
    std::fputc('\n', o_.out);
  }
  bool has(TestStatus st) const {
    for (const auto& b : bad_)
      if (b.status == st) return true;
    return false;
  }
  std::string percent() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "[%3" PRIu64 "%%]", total_ ? std::min<uint64_t>(done_ * 100 / total_, 100) : 100);
    return buf;
  }
  void finish_progress_line() {
    if (col_ == 0) return;
    std::string pct = percent();
    int pad = o_.width - col_ - static_cast<int>(pct.size());
    std::fputs(std::string(static_cast<size_t>(std::max(pad, 1)), ' ').c_str(), o_.out);
    std::fputs(paint(kGreen, pct).c_str(), o_.out);
    std::fputc('\n', o_.out);
    col_ = 0;
    current_file_.clear();
  }
  void section(const Bad& b, const std::string& title) {
    line(paint(kRed, sep('_', title, o_.width)));
    line(b.traceback.empty() ? b.message : b.traceback);
    if (!b.out.empty()) {
      line(sep('-', "Captured stdout call", o_.width));
      std::fputs(b.out.c_str(), o_.out);
      if (b.out.back() != '\n') std::fputc('\n', o_.out);
    }
    if (!b.err.empty()) {
      line(sep('-', "Captured stderr call", o_.width));
      std::fputs(b.err.c_str(), o_.out);
      if (b.err.back() != '\n') std::fputc('\n', o_.out);
    }
  }

  ConsoleOptions o_;
  uint64_t total_ = 0, done_ = 0;
  std::unordered_set<std::string> expanded_;  // node ids of expanded tests already counted
  std::unordered_set<std::string> skipped_modules_;  // paths of modules skipped at import, shown
  int col_ = 0;
  std::string current_file_;
  std::vector<Bad> bad_;
  std::vector<CollectionError> collect_errors_;
};

}  // namespace

std::string summary_words(const Summary& s) {
  auto n = [&](TestStatus st) { return s.counts[static_cast<int>(st)]; };
  std::vector<std::string> parts;
  auto add = [&](uint64_t count, const char* one, const char* many) {
    if (count) parts.push_back(std::to_string(count) + " " + (count == 1 ? one : many));
  };
  // pytest's order: failed passed skipped deselected xfailed xpassed warnings error.
  add(n(TestStatus::kFailed), "failed", "failed");
  add(n(TestStatus::kPassed), "passed", "passed");
  add(n(TestStatus::kSkipped), "skipped", "skipped");
  add(s.deselected, "deselected", "deselected");
  add(n(TestStatus::kXFailed), "xfailed", "xfailed");
  add(n(TestStatus::kXPassed), "xpassed", "xpassed");
  add(n(TestStatus::kError) + s.collection_errors, "error", "errors");
  add(n(TestStatus::kCrashed), "crashed", "crashed");
  add(n(TestStatus::kTimeout), "timeout", "timeouts");
  add(s.interrupted_tests, "interrupted", "interrupted");
  parts.insert(parts.end(), s.extra.begin(), s.extra.end());
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  if (out.empty()) out = "no tests ran";
  char buf[32];
  std::snprintf(buf, sizeof buf, " in %.2fs", s.seconds);
  return out + buf;
}

std::unique_ptr<ReportSink> make_console_reporter(ConsoleOptions opts) { return std::make_unique<Console>(opts); }

}  // namespace dxpy::report
