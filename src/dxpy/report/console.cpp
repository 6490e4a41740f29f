#include "dxpy/report/console.h"

#include <cinttypes>
#include <chrono>
#include <string>
#include <unordered_set>
#include <vector>

#include "dxpy/report/live.h"

namespace dxpy::report {

namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kCyan = "\x1b[36m";
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

// pytest's summary colours (terminal.py _color_for_type) are red for what went wrong, green
// for passed, yellow for the rest; the line's main colour is red if anything went wrong, else
// yellow with an xpass, else green if something passed.
const char* main_color(const Summary& s) {
  auto n = [&](TestStatus st) { return s.counts[static_cast<int>(st)]; };
  if (n(TestStatus::kFailed) || n(TestStatus::kError) || n(TestStatus::kCrashed) || n(TestStatus::kTimeout) ||
      s.collection_errors || s.interrupted)
    return kRed;
  if (n(TestStatus::kXPassed)) return kYellow;
  return n(TestStatus::kPassed) ? kGreen : kYellow;
}

struct Part {
  std::string text;
  const char* color;
};

// The closing line's parts in pytest's order: failed passed skipped deselected xfailed
// xpassed error, then dx-py's own outcomes.
std::vector<Part> summary_parts(const Summary& s) {
  auto n = [&](TestStatus st) { return s.counts[static_cast<int>(st)]; };
  std::vector<Part> parts;
  auto add = [&](uint64_t count, const char* one, const char* many, const char* color) {
    if (count) parts.push_back({std::to_string(count) + " " + (count == 1 ? one : many), color});
  };
  add(n(TestStatus::kFailed), "failed", "failed", kRed);
  add(n(TestStatus::kPassed), "passed", "passed", kGreen);
  add(s.flaky, "flaky", "flaky", kYellow);
  add(n(TestStatus::kSkipped), "skipped", "skipped", kYellow);
  add(s.deselected, "deselected", "deselected", kYellow);
  add(n(TestStatus::kXFailed), "xfailed", "xfailed", kYellow);
  add(n(TestStatus::kXPassed), "xpassed", "xpassed", kYellow);
  add(n(TestStatus::kError) + s.collection_errors, "error", "errors", kRed);
  add(n(TestStatus::kCrashed), "crashed", "crashed", kRed);
  add(n(TestStatus::kTimeout), "timeout", "timeouts", kRed);
  add(s.interrupted_tests, "interrupted", "interrupted", kRed);
  if (parts.empty()) parts.push_back({"no tests ran", kYellow});
  for (const auto& e : s.extra) parts.push_back({e, ""});  // "2 snapshots written"
  return parts;
}

// pytest's format_session_duration: past a minute, also H:MM:SS.
std::string duration_text(double seconds) {
  char buf[64];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, " in %.2fs", seconds);
  } else {
    long t = static_cast<long>(seconds);
    std::snprintf(buf, sizeof buf, " in %.2fs (%ld:%02ld:%02ld)", seconds, t / 3600, t / 60 % 60, t % 60);
  }
  return buf;
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
    collected_ = true;
    collect_errors_ = errors;
    if (o_.verbosity >= 0) {
      std::string s = "collected " + std::to_string(items) + (items == 1 ? " item" : " items");
      if (!errors.empty()) s += " / " + std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors");
      if (deselected) s += " / " + std::to_string(deselected) + " deselected / " + std::to_string(total_) + " selected";
      line(o_.live ? paint(kBold, s) : s);
      for (const auto& l : o_.collection_lines) line(l);
      line("");
    }
    refresh_live(true);
  }

  void on_result(const TestCase& tc, const TestResult& r) override {
    show_result(tc, r);
    if (o_.live) running_.finished(tc.id.node_id());
  }

  void on_test_started(const TestCase& tc) override {
    if (o_.live) running_.started(tc.id.node_id(), Clock::now());
  }

  void on_tick() override { refresh_live(false); }

  void show_result(const TestCase& tc, const TestResult& r) {
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
    bool flaky = is_flaky(r);
    note_status(subtest ? TestStatus::kFailed : r.status);
    if (o_.verbosity > 0) {
      std::string head = r.id.node_id() + " ";
      std::string w = subtest ? std::string(kSubtestMarker) + std::string(subtest_description(r))
                      : flaky ? "FLAKY"
                              : word(r.status);
      std::string pct = percent();
      // pytest fills the line to one column short of the width.
      int pad = o_.width - 1 - static_cast<int>(head.size() + w.size() + pct.size());
      clear_live();
      std::fputs(head.c_str(), o_.out);
      std::fputs(paint(flaky ? kYellow : color_of(r.status), w).c_str(), o_.out);
      std::fputs(paint(progress_color(), std::string(static_cast<size_t>(std::max(pad, 1)), ' ') + pct).c_str(), o_.out);
      std::fputc('\n', o_.out);
      printed_progress_ = true;
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
    std::fputs(paint(flaky ? kYellow : color_of(r.status), std::string(1, subtest ? 'u' : flaky ? 'R' : letter(r.status))).c_str(),
               o_.out);
    ++col_;
    printed_progress_ = true;
    if (counted && done_ == total_) finish_progress_line();
  }

  void on_interrupted(const std::string& what) override {
    clear_live();
    finish_progress_line();
    line(paint(kRed, sep('!', what, o_.width)));
  }

  void on_session_end(const Summary& s) override {
    clear_live();
    o_.live = false;
    if (!s.stop_reason.empty() && col_ > 0) {  // -x: pytest ends the progress line without a percentage
      std::fputc('\n', o_.out);
      col_ = 0;
    }
    finish_progress_line();
    if (printed_progress_ && o_.verbosity >= 0) line("");
    bool tracebacks = o_.tbstyle != "no";
    if (tracebacks && (!collect_errors_.empty() || has(TestStatus::kError))) {
      line(sep('=', "ERRORS", o_.width));
      for (const auto& e : collect_errors_) {
        line(paint(kRed, paint(kBold, sep('_', "ERROR collecting " + e.path, o_.width))));
        line(e.longrepr.empty() ? e.message : e.longrepr);
      }
      for (const auto& b : bad_)
        if (b.status == TestStatus::kError)
          section(b, (b.teardown ? "ERROR at teardown of " : "ERROR at setup of ") + head_line(b.id));
    }
    if (tracebacks && (has(TestStatus::kFailed) || has(TestStatus::kCrashed) || has(TestStatus::kTimeout))) {
      line(sep('=', "FAILURES", o_.width));
      for (const auto& b : bad_)
        if (b.status != TestStatus::kError) section(b, head_line(b.id) + (b.subtest.empty() ? "" : " " + b.subtest));
    }
    if (o_.terminal_summary) {
      std::vector<std::string> extra = o_.terminal_summary();
      for (size_t i = 0; i < extra.size(); ++i) line(i == 0 ? sep('=', extra[0], o_.width) : extra[i]);
    }
    if (!bad_.empty() || !collect_errors_.empty()) {
      line(paint(kCyan, paint(kBold, sep('=', "short test summary info", o_.width))));
      for (const auto& e : collect_errors_) line(paint(kRed, "ERROR") + " " + e.path + " - " + e.message);
      for (const auto& b : bad_) {
        std::string msg = o_.full_messages ? b.message : b.message.substr(0, b.message.find('\n'));
        if (b.teardown && msg.size() >= kTeardownErrorPrefix.size() + 2 && msg.back() == '"')  // the reason alone
          msg = msg.substr(kTeardownErrorPrefix.size() + 1, msg.size() - kTeardownErrorPrefix.size() - 2);
        std::string w = b.subtest.empty() ? word(b.status) : std::string(kSubtestMarker) + b.subtest;
        line(paint(kRed, w) + " " + node_id_markup(b.id) + (msg.empty() ? "" : " - " + msg));
      }
    }
    if (!s.stop_reason.empty()) line(paint(kRed, sep('!', s.stop_reason, o_.width)));
    // pytest's closing line: each count in its colour (bold in the line's main colour), the
    // rest of the line in the main colour.
    const char* c = main_color(s);
    std::string plain, colored;
    std::vector<Part> parts = summary_parts(s);
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string text = (i ? ", " : "") + parts[i].text;
      plain += text;
      colored += (i ? paint(c, ", ") : "") +
                 paint(parts[i].color, parts[i].color == c ? paint(kBold, parts[i].text) : parts[i].text);
    }
    std::string duration = duration_text(s.seconds);
    plain += duration;
    colored += paint(c, duration);
    if (o_.verbosity < 0) {
      line(colored);
    } else {
      std::string full = sep('=', plain, o_.width);
      size_t at = full.find(plain);
      line(paint(c, full.substr(0, at)) + colored + paint(c, full.substr(at + plain.size())));
    }
    std::fflush(o_.out);
  }

 private:
  using Clock = std::chrono::steady_clock;

  std::string paint(const char* color, const std::string& s) const {
    if (!o_.color) return s;
    // Nested paint: one reset at the end is enough.
    if (s.size() >= 4 && s.compare(s.size() - 4, 4, kReset) == 0) return std::string(color) + s;
    return std::string(color) + s + kReset;
  }
  // pytest's node id in the short summary: the part after the file in bold.
  std::string node_id_markup(const TestId& id) const {
    std::string node = id.node_id();
    size_t sep_at = node.find("::");
    if (sep_at == std::string::npos) return node;
    return node.substr(0, sep_at + 2) + paint(kBold, node.substr(sep_at + 2));
  }
  void note_status(TestStatus st) {
    if (is_bad(st)) ++live_.failed, seen_bad_ = true;
    else if (st == TestStatus::kPassed) ++live_.passed, seen_passed_ = true;
    else if (st == TestStatus::kXPassed) ++live_.passed, seen_xpassed_ = true;
    else ++live_.skipped;
  }
  // pytest's _determine_main_color during the run.
  const char* progress_color() const {
    if (seen_bad_ || !collect_errors_.empty()) return kRed;
    if (seen_xpassed_) return kYellow;
    return seen_passed_ || done_ < total_ ? kGreen : kYellow;
  }
  // The live bar sits one line below the cursor; erasing to the end of the screen takes it.
  void clear_live() {
    if (!live_drawn_) return;
    std::fputs("\x1b[J", o_.out);
    live_drawn_ = false;
  }
  // Redraws the bar (from the event loop's ticks, at most every 80 ms unless `now`), then puts
  // the cursor back at the end of the progress line, where the next letter goes. Output in
  // between reaches the terminal with the next draw.
  void refresh_live(bool now) {
    if (!o_.live || !collected_) return;  // tests may start before the header is out
    auto t = Clock::now();
    if (!now && t - last_draw_ < std::chrono::milliseconds(80)) return;
    last_draw_ = t;
    live_.done = done_;
    live_.total = total_;
    live_.seconds = std::chrono::duration<double>(t - start_).count();
    live_.running = running_.snapshot(t);
    clear_live();
    std::string bar = "\n" + live_status_line(live_, o_.width, o_.color, o_.utf8) + "\x1b[1A\r";
    if (col_ > 0) bar += "\x1b[" + std::to_string(col_) + "C";
    std::fputs(bar.c_str(), o_.out);
    std::fflush(o_.out);
    live_drawn_ = true;
  }
  void line(const std::string& s) {
    clear_live();
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
    clear_live();
    std::string pct = percent();
    int pad = o_.width - 1 - col_ - static_cast<int>(pct.size());  // pytest: one short of the width
    std::fputs(paint(progress_color(), std::string(static_cast<size_t>(std::max(pad, 1)), ' ') + pct).c_str(), o_.out);
    std::fputc('\n', o_.out);
    col_ = 0;
    current_file_.clear();
  }
  void section(const Bad& b, const std::string& title) {
    // --tb=line: no title; the worker's last line is the crash line, printed after the
    // captured output (failures) or not at all (errors), as pytest does.
    bool line_style = o_.tbstyle == "line" && (b.status == TestStatus::kFailed || b.status == TestStatus::kError);
    std::string text = b.traceback.empty() ? b.message : b.traceback;
    std::string crash;
    if (line_style && !b.traceback.empty()) {
      size_t nl = text.rfind('\n');
      crash = nl == std::string::npos ? text : text.substr(nl + 1);
      text = nl == std::string::npos ? "" : text.substr(0, nl);
      if (b.status == TestStatus::kError) crash.clear();
    }
    if (!line_style || b.status == TestStatus::kError) line(paint(kRed, paint(kBold, sep('_', title, o_.width))));
    // A long traceback (source lines first) opens with an empty line in pytest's terminal
    // output; the worker's text is the stripped one (as in JUnit XML).
    if (!line_style && !b.traceback.empty() && (b.traceback.rfind("    ", 0) == 0 || b.traceback[0] == '>')) line("");
    if (!line_style || !text.empty()) line(text);
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
    if (!crash.empty()) line(crash);
  }

  ConsoleOptions o_;
  uint64_t total_ = 0, done_ = 0;
  bool printed_progress_ = false;
  bool seen_bad_ = false, seen_passed_ = false, seen_xpassed_ = false;
  LiveStatus live_;
  RunningTests running_;
  bool live_drawn_ = false, collected_ = false;
  Clock::time_point start_ = Clock::now(), last_draw_{};
  std::unordered_set<std::string> expanded_;  // node ids of expanded tests already counted
  std::unordered_set<std::string> skipped_modules_;  // paths of modules skipped at import, shown
  int col_ = 0;
  std::string current_file_;
  std::vector<Bad> bad_;
  std::vector<CollectionError> collect_errors_;
};

}  // namespace

std::string summary_words(const Summary& s) {
  std::string out;
  for (const auto& p : summary_parts(s)) out += (out.empty() ? "" : ", ") + p.text;
  return out + duration_text(s.seconds);
}

std::unique_ptr<ReportSink> make_console_reporter(ConsoleOptions opts) { return std::make_unique<Console>(opts); }

}  // namespace dxpy::report
