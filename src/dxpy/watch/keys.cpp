#include "dxpy/watch/keys.h"

#include <unistd.h>

namespace dxpy::watch {

std::optional<Command> KeyReader::feed(char c) {
  if (entering_) {
    if (c == '\r' || c == '\n') {
      Command cmd{*entering_, typed_};
      entering_.reset();
      typed_.clear();
      return cmd;
    }
    if (c == 0x1b || c == 0x03) {  // Esc (or a Ctrl-C byte): give up typing
      entering_.reset();
      typed_.clear();
      return Command{Command::kCancel, ""};
    }
    if (c == 0x7f || c == 0x08) {
      if (!typed_.empty()) typed_.pop_back();
      return std::nullopt;
    }
    if (static_cast<unsigned char>(c) >= 0x20) typed_ += c;
    return std::nullopt;
  }
  switch (c) {
    case 'a': return Command{Command::kAll, ""};
    case 'f': return Command{Command::kFailed, ""};
    case 'p':
      entering_ = Command::kFilePattern;
      return std::nullopt;
    case 't':
      entering_ = Command::kTestPattern;
      return std::nullopt;
    case 'u': return Command{Command::kUpdateSnapshots, ""};
    case '\r':
    case '\n': return Command{Command::kRerun, ""};
    case 'q':
    case 0x04: return Command{Command::kQuit, ""};
    case 'h':
    case '?': return Command{Command::kHelp, ""};
    default: return std::nullopt;
  }
}

RawTerminal::RawTerminal() {
  if (!::isatty(0) || ::tcgetattr(0, &saved_) != 0) return;
  termios raw = saved_;
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
}

void RawTerminal::restore() {
  if (!active_) return;
  ::tcsetattr(0, TCSANOW, &saved_);
  active_ = false;
}

}  // namespace dxpy::watch
