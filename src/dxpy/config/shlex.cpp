#include "dxpy/config/shlex.h"

namespace dxpy::config {

namespace {
bool is_shlex_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

// A transcription of shlex.read_token's state machine with whitespace_split=True and
// posix=True: states ' ' (between words), 'a' (in a word), '\'' and '"' (in quotes).
Expected<std::vector<std::string>> shlex_split(std::string_view s) {
  std::vector<std::string> out;
  std::string token;
  bool quoted = false;
  bool in_word = false;
  size_t i = 0;
  auto finish = [&] {
    if (in_word && (!token.empty() || quoted)) out.push_back(token);
    token.clear();
    quoted = false;
    in_word = false;
  };
  while (i < s.size()) {
    char c = s[i++];
    if (is_shlex_space(c)) {
      finish();
    } else if (c == '\'' || c == '"') {
      in_word = true;
      quoted = true;
      const char q = c;
      for (;;) {
        if (i >= s.size()) return make_error(Errc::kParse, "No closing quotation");
        char d = s[i++];
        if (d == q) break;
        if (q == '"' && d == '\\') {
          if (i >= s.size()) return make_error(Errc::kParse, "No escaped character");
          char e = s[i++];
          if (e != '"' && e != '\\') token.push_back('\\');
          token.push_back(e);
        } else {
          token.push_back(d);
        }
      }
    } else if (c == '\\') {
      if (i >= s.size()) return make_error(Errc::kParse, "No escaped character");
      in_word = true;
      token.push_back(s[i++]);
    } else {
      in_word = true;
      token.push_back(c);
    }
  }
  finish();
  return out;
}

}  // namespace dxpy::config
