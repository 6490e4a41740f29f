#include "dxpy/session/hook_order.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_set>

#include "dxpy/core/codec.h"
#include "dxpy/session/selection.h"
#include "dxpy/util/fs.h"

extern char** environ;

namespace dxpy::session {

namespace {

constexpr std::string_view kHook = "pytest_collection_modifyitems";

// pytest's `path not in confcutdir.parents`: folders strictly above the confcutdir are out.
bool in_confcutdir(std::string_view folder, std::string_view cut) {
  if (cut.empty() || folder == cut) return true;
  std::string prefix(folder);
  if (prefix.empty() || prefix.back() != '/') prefix += '/';
  return cut.substr(0, prefix.size()) != prefix;
}

Unexpected<Error> error(std::string message) { return make_error(Errc::kIo, std::move(message)); }

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // EPIPE: the child answered without reading everything
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

namespace {

// Just enough of Python's tokens for hook_surely_keeps_order: names, operators, the indent of
// each logical line and the innermost open bracket of each token; strings, numbers and
// comments are skipped. False when the source cannot be read that way.
struct Tok {
  enum Kind : uint8_t { kName, kOp } kind;
  std::string_view text;
  bool line_start;  // the first token of a logical line
  size_t indent;    // that line's column
  int opener;       // index of the innermost open bracket, or -1
};

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }

bool tokenize(std::string_view s, std::vector<Tok>& out) {
  std::vector<int> open;
  bool line_start = true;
  size_t col = 0, line_begin = 0;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\n') {
      if (open.empty()) line_start = true;
      line_begin = ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      ++i;
      continue;
    }
    if (c == '\\') {  // a line continued
      i += 2;
      continue;
    }
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (line_start) col = i - line_begin;
    if (c == '"' || c == '\'') {
      const bool triple = s.substr(i, 3) == std::string(3, c);
      const size_t q = triple ? 3 : 1;
      size_t j = i + q;
      for (;; ++j) {
        if (j >= s.size()) return false;
        if (s[j] == '\\') {
          ++j;
          continue;
        }
        if (!triple && s[j] == '\n') return false;
        if (s.substr(j, q) == s.substr(i, q)) break;
      }
      i = j + q;
      line_start = false;
      continue;
    }
    if (name_char(c)) {
      size_t j = i;
      while (j < s.size() && name_char(s[j])) ++j;
      // A string's prefix (r"", b"") is part of the string. An f-string's fields may hold
      // quotes and code (PEP 701), which this does not follow: not read.
      if (j < s.size() && (s[j] == '"' || s[j] == '\'') && j - i <= 2) {
        if (s.substr(i, j - i).find_first_of("fF") != std::string_view::npos) return false;
        i = j;
        continue;
      }
      if (!std::isdigit(static_cast<unsigned char>(c)))
        out.push_back({Tok::kName, s.substr(i, j - i), line_start, col, open.empty() ? -1 : open.back()});
      i = j;
      line_start = false;
      continue;
    }
    // Operators: the longest of these that matches, else one character.
    static constexpr std::string_view kOps[] = {"**=", "//=", ">>=", "<<=", "==", "!=", "<=", ">=", "+=", "-=",
                                                "*=",  "/=",  "%=",  "&=",  "|=", "^=", "@=", ":=", "->", "**", "//"};
    size_t len = 1;
    for (std::string_view op : kOps)
      if (s.substr(i, op.size()) == op) {
        len = op.size();
        break;
      }
    std::string_view op = s.substr(i, len);
    if (op == ")" || op == "]" || op == "}") {
      if (open.empty()) return false;
      open.pop_back();
    }
    out.push_back({Tok::kOp, op, line_start, col, open.empty() ? -1 : open.back()});
    if (op == "(" || op == "[" || op == "{") open.push_back(static_cast<int>(out.size() - 1));
    i += len;
    line_start = false;
  }
  return open.empty();
}

bool ordering_name(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view w : {"sort", "shuffl", "order", "random", "revers", "priorit", "permut"})
    if (lower.find(w) != std::string::npos) return true;
  return false;
}

}  // namespace

bool hook_surely_keeps_order(std::string_view src) {
  std::vector<Tok> t;
  if (!tokenize(src, t)) return false;
  auto is = [&](size_t i, std::string_view text) { return i < t.size() && t[i].text == text; };
  // The hook: one top-level def; the functions of the module by name.
  std::set<std::string_view> defs;
  size_t hook = t.size(), named = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].kind != Tok::kName) continue;
    if (t[i].text == "specname") return false;
    if (t[i].text == kHook) ++named;
    if (t[i].text == "def" && i + 1 < t.size() && t[i].indent == 0 && t[i].opener < 0 &&
        (t[i].line_start || (i > 0 && t[i - 1].text == "async" && t[i - 1].line_start))) {
      defs.insert(t[i + 1].text);
      if (t[i + 1].text == kHook) hook = i + 1;
    }
  }
  if (named == 0) return true;
  if (named != 1 || hook == t.size()) return false;
  // The body: after the ':' that ends the signature, up to the next line at column 0.
  size_t i = hook + 1;
  while (i < t.size() && !(t[i].text == ":" && t[i].opener < 0)) ++i;
  if (i == t.size()) return false;
  static const std::set<std::string_view> kMutators = {"sort",  "reverse", "insert", "append",      "extend",
                                                       "pop",   "remove",  "clear",  "__setitem__", "__delitem__",
                                                       "__iadd__"};
  static const std::set<std::string_view> kReads = {"in", "not", "if", "elif", "while", "return", "and", "or",
                                                    "is", "assert", "yield", "==", "!=", "<", ">", "<=", ">="};
  for (++i; i < t.size() && !(t[i].line_start && t[i].indent == 0); ++i) {
    if (t[i].kind != Tok::kName || t[i].text != "items") continue;
    const bool after_open = is(i - 1, "(") || is(i - 1, ",");
    if (after_open && is(i + 1, "=") && t[i].opener >= 0) continue;  // f(items=...): a keyword's name
    if (is(i + 1, "[") || (is(i + 1, ":") && t[i].line_start)) return false;  // subscript, `items: T = ...`
    if (i + 1 < t.size() && t[i + 1].kind == Tok::kOp && t[i + 1].text.back() == '=' && t[i + 1].text != "==" &&
        t[i + 1].text != "!=" && t[i + 1].text != "<=" && t[i + 1].text != ">=")
      return false;  // assigned or augmented
    if (is(i + 1, ".") && (i + 2 >= t.size() || kMutators.count(t[i + 2].text))) return false;
    const Tok& prev = t[i - 1];
    if (kReads.count(prev.text)) continue;
    // An argument of a call, positional or by keyword.
    bool keyword = is(i - 1, "=") && i >= 3 && t[i - 2].kind == Tok::kName && (is(i - 3, "(") || is(i - 3, ","));
    if (!after_open && !keyword) return false;
    const int op = t[i].opener;
    if (op < 1 || t[static_cast<size_t>(op)].text != "(") return false;
    const Tok& callee = t[static_cast<size_t>(op) - 1];
    if (callee.kind == Tok::kOp) {
      if (callee.text != ")" && callee.text != "]") return false;  // a tuple or a parenthesised expression
      continue;                                                    // a call of what a call returned
    }
    if (kReads.count(callee.text) || callee.text == "lambda") return false;  // `if (...)`: not a call
    if (op >= 2 && t[static_cast<size_t>(op) - 2].text == "def") return false;  // a nested def's parameter
    const bool attribute = op >= 2 && t[static_cast<size_t>(op) - 2].text == ".";
    if (!attribute && defs.count(callee.text)) return false;
    if (ordering_name(callee.text) && (attribute || (callee.text != "sorted" && callee.text != "reversed")))
      return false;
  }
  return true;
}

std::vector<std::string> modifyitems_conftests(const std::vector<std::string_view>& module_paths,
                                               const std::string& rootdir, const std::string& confcutdir) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  std::string last, text;
  for (std::string_view path : module_paths) {
    std::string folder(dirname(path.empty() || path.front() != '/' ? join_path(rootdir, std::string(path))
                                                                    : std::string(path)));
    if (folder == last) continue;  // tests come a module at a time
    last = folder;
    // Up to the root; a folder seen before had its parents seen too.
    for (std::string dir = folder; seen.insert(dir).second;) {
      if (in_confcutdir(dir, confcutdir)) {
        std::string conftest = join_path(dir, "conftest.py");
        if (read_file_into(conftest, text) && text.find(kHook) != std::string::npos) out.push_back(conftest);
      }
      std::string parent(dirname(dir));
      if (parent.empty() || parent == dir) break;
      dir = std::move(parent);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> modifyitems_conftests(const std::vector<TestCase>& tests, const std::string& rootdir,
                                               const std::string& confcutdir) {
  std::vector<std::string_view> paths;
  paths.reserve(tests.size());
  for (const auto& tc : tests) paths.emplace_back(tc.file.empty() ? std::string_view(tc.id.path) : tc.file);
  return modifyitems_conftests(paths, rootdir, confcutdir);
}

Expected<std::optional<HookOrder>> parse_hook_order(std::string_view answer, size_t n) {
  std::vector<std::string_view> lines;
  while (!answer.empty()) {
    size_t end = answer.find('\n');
    lines.push_back(answer.substr(0, end));
    answer = end == std::string_view::npos ? std::string_view{} : answer.substr(end + 1);
  }
  if (lines.empty()) return error("no answer");
  if (lines[0].substr(0, 6) == "error ") return error(std::string(lines[0].substr(6)));
  if (lines[0] == "keep" && lines.size() == 1) return std::optional<HookOrder>{};
  if (lines[0] != "order") return error("an answer that is not understood: " + std::string(lines[0].substr(0, 200)));
  HookOrder order;
  enum : uint8_t { kNone, kWhole, kItems };
  std::vector<uint8_t> named(n, kNone);
  std::set<std::pair<uint32_t, std::string>> items;
  std::vector<HookOrder::Entry>* into = &order.kept;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l == "deselected" && into == &order.kept) {
      into = &order.deselected;
      continue;
    }
    size_t tab = l.find('\t');
    std::string_view index = l.substr(0, tab);
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(index.data(), index.data() + index.size(), v);
    if (ec != std::errc() || p != index.data() + index.size() || index.empty())
      return error("not a test's index: " + std::string(l));
    if (v >= n) return error("a test's index out of range: " + std::string(l));
    HookOrder::Entry e{v, std::nullopt};
    if (tab != std::string_view::npos) {
      std::string_view hex = l.substr(tab + 1);
      std::string param;
      for (size_t k = 0; k + 1 < hex.size(); k += 2) {
        unsigned byte = 0;
        auto [q, bec] = std::from_chars(hex.data() + k, hex.data() + k + 2, byte, 16);
        if (bec != std::errc() || q != hex.data() + k + 2) return error("not a hex id: " + std::string(l));
        param += static_cast<char>(byte);
      }
      if (hex.size() % 2) return error("not a hex id: " + std::string(l));
      if (named[v] == kWhole || !items.emplace(v, param).second) return error("a test named twice: " + std::string(l));
      named[v] = kItems;
      e.param = std::move(param);
    } else {
      if (named[v] != kNone) return error("a test named twice: " + std::string(l));
      named[v] = kWhole;
    }
    into->push_back(std::move(e));
  }
  return std::optional<HookOrder>{std::move(order)};
}

size_t apply_hook_order(std::vector<TestCase>& tests, size_t& failed_first, const HookOrder& order) {
  const size_t n = tests.size();
  std::vector<bool> placed(n, false);
  std::vector<HookOrder::Entry> sequence;
  sequence.reserve(n + order.kept.size());
  for (const auto& e : order.kept) placed[e.test] = true;
  for (const auto& e : order.deselected) placed[e.test] = true;
  for (uint32_t i = 0; i < n; ++i)
    if (!placed[i]) sequence.push_back({i, std::nullopt});  // no item: a collection error, reported first
  sequence.insert(sequence.end(), order.kept.begin(), order.kept.end());
  // --ff: last time's failures ahead of the rest, each group in the hooks' order.
  auto failed = [&](const HookOrder::Entry& e) { return e.test < failed_first; };
  std::stable_partition(sequence.begin(), sequence.end(), failed);
  size_t failures = static_cast<size_t>(std::count_if(sequence.begin(), sequence.end(), failed));
  std::vector<TestCase> out;
  out.reserve(sequence.size());
  for (const auto& e : sequence) {
    if (!e.param) {
      out.push_back(std::move(tests[e.test]));  // named whole: once
      continue;
    }
    TestCase& item = out.emplace_back(tests[e.test]);
    item.id.param = e.param;
    item.expand_at_runtime = false;
  }
  tests = std::move(out);
  failed_first = failures;
  return order.deselected.size();
}

Expected<std::optional<HookOrder>> ask_hook_order(const std::string& python, const std::string& rootdir,
                                                  const std::string& worker_config,
                                                  const std::vector<std::string>& conftests,
                                                  const std::vector<TestCase>& tests) {
  std::string input;
  for (const auto& tc : tests) {
    std::string bytes = encode(tc);
    uint32_t len = static_cast<uint32_t>(bytes.size());
    for (int b = 0; b < 4; ++b) input += static_cast<char>((len >> (8 * b)) & 0xff);
    input += bytes;
  }
  std::vector<std::string> args = {python, "-m", "dx_py_test_runner.worker.order"};
  args.insert(args.end(), conftests.begin(), conftests.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (v.substr(0, 12) != "DXPY_CONFIG=" && v.substr(0, 13) != "DXPY_ROOTDIR=") env.emplace_back(v);
  }
  env.push_back("DXPY_ROOTDIR=" + rootdir);
  env.push_back("DXPY_CONFIG=" + worker_config);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return error(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(in[0]), ::close(in[1]);
    return error(std::string("pipe: ") + std::strerror(e));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, python.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]), ::close(out[0]);
    return error("cannot start " + python + ": " + std::strerror(rc));
  }
  write_all(in[1], input);
  ::close(in[1]);
  std::string answer;
  char buf[65536];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (answer.empty()) {
    if (WIFSIGNALED(status)) return error("it ended with signal " + std::to_string(WTERMSIG(status)));
    return error("it ended with exit code " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                 " and no answer");
  }
  return parse_hook_order(answer, tests.size());
}

bool conftests_keep_order(const std::vector<std::string>& conftests) {
  std::string text;
  for (const auto& path : conftests)
    if (!read_file_into(path, text) || !hook_surely_keeps_order(text)) return false;
  return true;
}

bool follow_hook_order(Selection& selected, const std::string& python, const std::string& worker_config,
                       int verbosity) {
  if (selected.tests.empty()) return false;
  const config::Config& c = selected.config;
  std::vector<std::string> conftests = modifyitems_conftests(selected.tests, c.rootdir, c.confcutdir);
  if (conftests.empty()) return false;
  if (conftests_keep_order(conftests)) {
    if (verbosity > 0)
      std::fprintf(stderr, "dx-py: pytest_collection_modifyitems in %zu conftest%s does not reorder: "
                           "static collection order\n", conftests.size(), conftests.size() == 1 ? "" : "s");
    return false;
  }
  for (auto& tc : selected.tests)
    if (tc.file.empty()) tc.file = join_path(c.rootdir, tc.id.path);  // what the worker imports
  auto answer = ask_hook_order(python, c.rootdir, worker_config, conftests, selected.tests);
  if (!answer) {
    std::fprintf(stderr, "dx-py: warning: the order pytest_collection_modifyitems gives is not followed: %s\n",
                 answer.error().message.c_str());
    return false;
  }
  if (!*answer) {
    if (verbosity > 0)
      std::fprintf(stderr, "dx-py: pytest_collection_modifyitems in %zu conftest%s does not reorder: "
                           "static collection order\n", conftests.size(), conftests.size() == 1 ? "" : "s");
    return false;
  }
  selected.deselected += apply_hook_order(selected.tests, selected.failed_first, **answer);
  if (verbosity > 0)
    std::fprintf(stderr, "dx-py: the order of pytest_collection_modifyitems is followed (%zu tests)\n",
                 selected.tests.size());
  return true;
}

}  // namespace dxpy::session
