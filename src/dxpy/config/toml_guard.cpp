#include "dxpy/config/toml_guard.h"

namespace dxpy::config {

namespace {

enum class State { kCode, kComment, kBasic, kMultiBasic, kLiteral, kMultiLiteral };

bool starts(std::string_view text, size_t i, std::string_view what) { return text.substr(i, what.size()) == what; }

}  // namespace

std::optional<TomlGuardError> check_toml_for_toml_plus_plus(std::string_view text) {
  State state = State::kCode;
  size_t line = 1, line_start = 0;
  // The last character in code other than a space or tab ('\n' at a line's start): a quote
  // opens a string only where TOML puts a key or a value. Elsewhere toml++ reads on through
  // what looks like a string, asking about whitespace at every character.
  char last = '\n';
  auto fail = [&](size_t i, const char* why) {
    return TomlGuardError{line, i - line_start + 1, why};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    // TOML allows no control character but tab anywhere, strings and comments included
    // (newlines end lines; CR only before LF, left to toml++). Refusing them first also keeps
    // this scan and toml++'s from parting ways on garbage (a config fuzzer finding).
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      return fail(i, "a control character (TOML allows none but tab, even in strings and comments)");
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      if (state == State::kComment || state == State::kBasic || state == State::kLiteral) state = State::kCode;
      if (state == State::kCode) last = '\n';
      continue;
    }
    switch (state) {
      case State::kCode: {
        if (c >= 0x80) return fail(i, "a non-ASCII character outside a string or comment (TOML allows none there)");
        bool opens = last == '\n' || last == '=' || last == '[' || last == ',' || last == '{' || last == '.';
        // '[' and '{' open a value only where a value may start ("x = 2[" is one bare token
        // to toml++, read on as such): elsewhere they count as ordinary characters.
        if (c != ' ' && c != '\t' && c != '\r') last = (c == '[' || c == '{') && !opens ? 'x' : static_cast<char>(c);
        if ((c == '"' || c == '\'') && !opens) break;
        if (c == '#') {
          state = State::kComment;
        } else if (starts(text, i, "\"\"\"")) {
          state = State::kMultiBasic;
          i += 2;
        } else if (starts(text, i, "'''")) {
          state = State::kMultiLiteral;
          i += 2;
        } else if (c == '"') {
          state = State::kBasic;
        } else if (c == '\'') {
          state = State::kLiteral;
        }
        break;
      }
      case State::kComment:
        break;
      case State::kLiteral:
        if (c == '\'') state = State::kCode, last = '\'';
        break;
      case State::kMultiLiteral:
        if (starts(text, i, "'''")) {
          state = State::kCode;
          last = '\'';
          i += 2;
        }
        break;
      case State::kBasic:
      case State::kMultiBasic: {
        bool multi = state == State::kMultiBasic;
        if (c == '\\') {
          if (i + 1 >= text.size()) break;
          unsigned char next = static_cast<unsigned char>(text[i + 1]);
          if (next >= 0x80) return fail(i + 1, "a non-ASCII character after a backslash (not a TOML escape)");
          if (multi) {
            // A line-ending backslash: spaces and tabs, a newline, then every whitespace
            // character and newline is trimmed up to the next character.
            size_t j = i + 1;
            while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
            if (j < text.size() && (text[j] == '\n' || (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n'))) {
              while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) {
                if (text[j] == '\n') {
                  ++line;
                  line_start = j + 1;
                }
                ++j;
              }
              if (j < text.size() && static_cast<unsigned char>(text[j]) >= 0x80)
                return fail(j, "a non-ASCII character first after a line-ending backslash (valid TOML, but the "
                               "toml++ 3.3.0 that dx-py is built with cannot read it safely)");
              i = j - 1;
              break;
            }
          }
          ++i;  // the escaped character
          break;
        }
        if (multi ? starts(text, i, "\"\"\"") : c == '"') {
          if (multi) {
            // Up to two more quotes may close it ("""a"""""): they belong to the string.
            size_t j = i + 3;
            while (j < text.size() && text[j] == '"' && j < i + 5) ++j;
            i = j - 1;
          }
          state = State::kCode;
          last = '"';
        }
        break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace dxpy::config
