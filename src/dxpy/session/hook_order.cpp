#include "dxpy/session/hook_order.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

bool follow_hook_order(Selection& selected, const std::string& python, const std::string& worker_config,
                       int verbosity) {
  if (selected.tests.empty()) return false;
  const config::Config& c = selected.config;
  std::vector<std::string> conftests = modifyitems_conftests(selected.tests, c.rootdir, c.confcutdir);
  if (conftests.empty()) return false;
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
