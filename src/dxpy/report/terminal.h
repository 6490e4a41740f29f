#pragma once
/// What the terminal allows: colour and width as pytest decides them, and whether a live
/// progress bar may be drawn.

#include <functional>
#include <string>

namespace dxpy::report {

enum class ColorMode { kAuto, kYes, kNo };

/// The environment variables and facts the decisions read, injectable for tests.
struct TerminalFacts {
  bool isatty = false;                                  // stdout is a terminal
  std::function<const char*(const char*)> getenv = {};  // default: std::getenv
};

/// pytest's should_do_markup, with `--color` first: yes/no decide; under auto, PY_COLORS=1
/// or 0 decides, then a non-empty NO_COLOR turns colour off, a non-empty FORCE_COLOR on, and
/// otherwise colour means a terminal whose TERM is not "dumb". `--ci` never colours.
bool use_color(ColorMode mode, bool ci, const TerminalFacts& facts);

/// The live progress bar redraws lines in place: only on a terminal (not "dumb"), never
/// with `--ci` or when $CI is set (a CI log keeps every byte it is sent).
bool use_live_progress(bool ci, const TerminalFacts& facts);

/// pytest's width: $COLUMNS, else the terminal's, else 80; under 40 means 80.
int terminal_width(const TerminalFacts& facts, int fd = 1);

/// Whether the terminal takes UTF-8: the first of LC_ALL, LC_CTYPE, LANG that is set names
/// a UTF-8 encoding, or none is set (and TERM is not "linux", the text console).
bool utf8_terminal(const TerminalFacts& facts);

/// The facts of this process's stdout.
TerminalFacts stdout_facts();

}  // namespace dxpy::report
