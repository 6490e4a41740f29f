#include "dxpy/report/terminal.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace dxpy::report {
namespace {

// Facts with a fixed environment.
struct Env {
  std::map<std::string, std::string> vars;
  TerminalFacts facts(bool tty) const {
    return {tty, [this](const char* name) -> const char* {
              auto it = vars.find(name);
              return it == vars.end() ? nullptr : it->second.c_str();
            }};
  }
};

TEST(Terminal, ColorOnATerminalOnly) {
  Env e;
  EXPECT_TRUE(use_color(ColorMode::kAuto, false, e.facts(true)));
  EXPECT_FALSE(use_color(ColorMode::kAuto, false, e.facts(false)));
  EXPECT_TRUE(use_color(ColorMode::kYes, false, e.facts(false)));
  EXPECT_FALSE(use_color(ColorMode::kNo, false, e.facts(true)));
  EXPECT_FALSE(use_color(ColorMode::kAuto, true, e.facts(true)));  // --ci
  EXPECT_FALSE(use_color(ColorMode::kYes, true, e.facts(true)));
}

TEST(Terminal, ColorFollowsPytestsEnvironmentVariables) {
  Env e{{{"NO_COLOR", "1"}}};
  EXPECT_FALSE(use_color(ColorMode::kAuto, false, e.facts(true)));
  EXPECT_TRUE(use_color(ColorMode::kYes, false, e.facts(true)));  // the flag is explicit
  e.vars["NO_COLOR"] = "";                                         // empty: not set
  EXPECT_TRUE(use_color(ColorMode::kAuto, false, e.facts(true)));
  e.vars = {{"FORCE_COLOR", "1"}};
  EXPECT_TRUE(use_color(ColorMode::kAuto, false, e.facts(false)));
  e.vars = {{"PY_COLORS", "1"}, {"NO_COLOR", "1"}};
  EXPECT_TRUE(use_color(ColorMode::kAuto, false, e.facts(false)));
  e.vars = {{"PY_COLORS", "0"}, {"FORCE_COLOR", "1"}};
  EXPECT_FALSE(use_color(ColorMode::kAuto, false, e.facts(true)));
  e.vars = {{"TERM", "dumb"}};
  EXPECT_FALSE(use_color(ColorMode::kAuto, false, e.facts(true)));
}

TEST(Terminal, LiveProgressOnlyOnAnInteractiveTerminal) {
  Env e;
  EXPECT_TRUE(use_live_progress(false, e.facts(true)));
  EXPECT_FALSE(use_live_progress(false, e.facts(false)));
  EXPECT_FALSE(use_live_progress(true, e.facts(true)));
  e.vars = {{"CI", "true"}};
  EXPECT_FALSE(use_live_progress(false, e.facts(true)));
  e.vars = {{"CI", "false"}};
  EXPECT_TRUE(use_live_progress(false, e.facts(true)));
  e.vars = {{"TERM", "dumb"}};
  EXPECT_FALSE(use_live_progress(false, e.facts(true)));
}

TEST(Terminal, WidthAsPytest) {
  Env e;
  EXPECT_EQ(terminal_width(e.facts(false)), 80);
  e.vars = {{"COLUMNS", "120"}};
  EXPECT_EQ(terminal_width(e.facts(false)), 120);
  e.vars = {{"COLUMNS", "20"}};
  EXPECT_EQ(terminal_width(e.facts(false)), 80);
  e.vars = {{"COLUMNS", "junk"}};
  EXPECT_EQ(terminal_width(e.facts(false), -1), 80);
}

TEST(Terminal, Utf8FromTheLocale) {
  Env e;
  EXPECT_TRUE(utf8_terminal(e.facts(true)));
  e.vars = {{"LANG", "en_US.UTF-8"}};
  EXPECT_TRUE(utf8_terminal(e.facts(true)));
  e.vars = {{"LC_ALL", "C"}, {"LANG", "en_US.UTF-8"}};
  EXPECT_FALSE(utf8_terminal(e.facts(true)));
  e.vars = {{"LC_CTYPE", "de_DE.utf8"}};
  EXPECT_TRUE(utf8_terminal(e.facts(true)));
  e.vars = {{"TERM", "linux"}};
  EXPECT_FALSE(utf8_terminal(e.facts(true)));
}

}  // namespace
}  // namespace dxpy::report
