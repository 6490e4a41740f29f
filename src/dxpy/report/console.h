#pragma once
/// The console reporter, in pytest's layout: header, progress lines with percentages,
/// failure sections, a short summary and the closing line.

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dxpy/report/sink.h"

namespace dxpy::report {

struct ConsoleOptions {
  int verbosity = 0;  // -q: -1, default 0, -v: 1
  bool color = false;
  int width = 80;
  std::FILE* out = stdout;
  /// Several workers: results come in any order, so progress is pytest-xdist's, a row of
  /// letters without file names.
  bool parallel = false;
  /// Lines under "collected N items" (pytest_report_collectionfinish: "run-last-failure: ...").
  std::vector<std::string> collection_lines;
  /// --tb: auto, long, short, native (the worker formats those), line or no.
  std::string tbstyle = "auto";
  /// The short summary's messages whole, not their first line: pytest does so on CI ($CI or
  /// $BUILD_NUMBER set) and with -vv.
  bool full_messages = false;
  /// Sections other plugins add before the short summary (pytest_terminal_summary), as
  /// {title, line...}: --durations.
  std::function<std::vector<std::string>()> terminal_summary;
  /// A terminal: a live progress bar (counts, running tests) is redrawn in place below the
  /// output, and "collected N items" is bold as pytest writes it on a terminal.
  bool live = false;
  /// Whether the terminal takes UTF-8 (the bar's block characters); else ASCII.
  bool utf8 = true;
};

std::unique_ptr<ReportSink> make_console_reporter(ConsoleOptions opts);

}  // namespace dxpy::report
