#pragma once
/// The console reporter, in pytest's layout: header, progress lines with percentages,
/// failure sections, a short summary and the closing line.

#include <cstdio>
#include <memory>

#include "dxpy/report/sink.h"

namespace dxpy::report {

struct ConsoleOptions {
  int verbosity = 0;  // -q: -1, default 0, -v: 1
  bool color = false;
  int width = 80;
  std::FILE* out = stdout;
};

std::unique_ptr<ReportSink> make_console_reporter(ConsoleOptions opts);

}  // namespace dxpy::report
