#include "dxpy/watch/screen.h"

namespace dxpy::watch {

namespace {
constexpr const char* kCyan = "\x1b[36m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";
}  // namespace

void Screen::line(std::string_view text, const char* color) {
  std::string s = "dx-py watch: ";
  s += text;
  if (color_) s = std::string(color) + s + kReset;
  std::fprintf(out_, "%s\n", s.c_str());
  std::fflush(out_);
}

void Screen::round(std::string_view why) {
  std::fputc('\n', out_);
  line(why, kCyan);
}

void Screen::waiting(std::string_view filters) {
  std::string s = "waiting for changes";
  if (!filters.empty()) s += " (" + std::string(filters) + ")";
  if (interactive_) s += "; press h for keys, q to quit";
  line(s, kDim);
}

void Screen::keys() {
  line("keys: a all tests, f failed tests only, p file pattern, t test name pattern (-k), u update snapshots, "
       "Enter run again, q quit",
       kDim);
}

void Screen::prompt(std::string_view label, std::string_view typed) {
  std::fprintf(out_, "\r\x1b[K%.*s: %.*s", static_cast<int>(label.size()), label.data(), static_cast<int>(typed.size()),
               typed.data());
  std::fflush(out_);
}

void Screen::message(std::string_view text) { line(text, kDim); }

}  // namespace dxpy::watch
