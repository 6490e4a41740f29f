#pragma once
/// Watch mode's own lines on the console, around each round's report: why a round runs,
/// the waiting line with the active filters, the key list, the pattern prompt. Every line
/// starts with "dx-py watch:" so that tools reading the output can find them.

#include <cstdio>
#include <string>
#include <string_view>

namespace dxpy::watch {

class Screen {
 public:
  Screen(std::FILE* out, bool color, bool interactive) : out_(out), color_(color), interactive_(interactive) {}
  /// Before a round: why it runs ("3 files changed: a.py, b.py, ...", "all tests").
  void round(std::string_view why);
  /// After a round: waiting, with the active filters ("" for none).
  void waiting(std::string_view filters);
  void keys();
  /// The pattern being typed, redrawn on its line.
  void prompt(std::string_view label, std::string_view typed);
  void message(std::string_view text);

 private:
  void line(std::string_view text, const char* color);
  std::FILE* out_;
  bool color_;
  bool interactive_;
};

}  // namespace dxpy::watch
