#pragma once
/// Watch mode's keys, as a pure state machine over the bytes read from the terminal, and the
/// terminal's mode while watching.
///
/// Keys: a (all tests), f (the last failures only), p (a file pattern, typed and ended by
/// Enter), t (a test name pattern, -k), u (update snapshots), Enter (run the last round
/// again), q or Ctrl-D (quit), h or ? (list the keys). While a pattern is typed, Backspace
/// erases, Esc cancels; an empty pattern clears it.

#include <termios.h>

#include <optional>
#include <string>

namespace dxpy::watch {

struct Command {
  enum Kind { kAll, kFailed, kFilePattern, kTestPattern, kUpdateSnapshots, kRerun, kQuit, kHelp, kCancel };
  Kind kind;
  std::string text;  // the pattern, for kFilePattern and kTestPattern
};

class KeyReader {
 public:
  /// One byte from the terminal: a command once one is complete.
  std::optional<Command> feed(char c);
  /// A pattern is being typed (the caller echoes what is typed).
  bool entering() const { return entering_.has_value(); }
  const std::string& typed() const { return typed_; }

 private:
  std::optional<Command::Kind> entering_;
  std::string typed_;
};

/// The terminal on fd 0 in a mode for single keys (no line buffering, no echo; signals and
/// output processing kept, so Ctrl-C is still SIGINT); the old mode back on restore() or
/// destruction. Nothing happens when fd 0 is not a terminal.
class RawTerminal {
 public:
  RawTerminal();
  ~RawTerminal() { restore(); }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return active_; }
  void restore();

 private:
  bool active_ = false;
  termios saved_{};
};

}  // namespace dxpy::watch
