#include "dxpy/session/watch.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "dxpy/config/config.h"
#include "dxpy/graph/graph.h"
#include "dxpy/graph/project.h"
#include "dxpy/session/selection.h"
#include "dxpy/session/spares.h"
#include "dxpy/util/fs.h"
#include "dxpy/watch/debounce.h"
#include "dxpy/watch/inotify.h"
#include "dxpy/watch/keys.h"
#include "dxpy/watch/screen.h"

namespace dxpy::session {

namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

bool is_config_file(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  return name == "pytest.ini" || name == ".pytest.ini" || name == "pyproject.toml" || name == "tox.ini" ||
         name == "setup.cfg";
}

/// Python files, config files and folders (a folder added or removed) start a round; other
/// files (data, reports the tests write) do not: a round that writes one would start the next.
bool starts_round(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.substr(name.size() - s.size()) == s; };
  return ends(".py") || ends(".pyi") || is_config_file(name) || name.find('.') == std::string_view::npos;
}

/// What a round runs.
struct Round {
  enum Kind { kAll, kChanged, kFailed } kind = kAll;
  std::vector<std::string> changed;  // kChanged: absolute paths
};

/// Whether RunOptions has a way to ask for snapshot updates (the snapshot work adds one).
template <class O>
bool ask_update_snapshots(O& o) {
  if constexpr (requires { o.update_snapshots = true; }) {
    o.update_snapshots = true;
    return true;
  } else {
    return false;
  }
}

std::string describe_changes(const std::vector<std::string>& changed, const std::string& rootdir) {
  std::string s = std::to_string(changed.size()) + (changed.size() == 1 ? " file changed: " : " files changed: ");
  for (size_t i = 0; i < changed.size() && i < 5; ++i) s += (i ? ", " : "") + relative_to(changed[i], rootdir);
  if (changed.size() > 5) s += ", ...";
  return s;
}

/// A file pattern from the `p` key: an existing path as it is, else a glob over node ids
/// (selection's positional patterns), `*text*` when it holds no glob character.
std::string file_pattern_arg(const std::string& text) {
  if (stat_path(text) || text.find_first_of("*?[") != std::string::npos) return text;
  return "*" + text + "*";
}

/// Python's own bytecode cache checks a source's mtime in whole seconds (and its size): a
/// module saved twice within a second at the same size would be imported stale from its
/// __pycache__/*.pyc. The changed module's cache files go, whatever their tag.
void drop_bytecode(const std::string& path) {
  if (path.size() < 3 || path.compare(path.size() - 3, 3, ".py") != 0) return;
  std::string dir(dirname(path));
  std::string_view base = basename(path);
  std::string stem = std::string(base.substr(0, base.size() - 3)) + ".";
  std::string cache = join_path(dir, "__pycache__");
  for (const auto& name : list_dir(cache))
    if (name.size() > stem.size() + 4 && name.compare(0, stem.size(), stem) == 0 &&
        name.compare(name.size() - 4, 4, ".pyc") == 0)
      ::unlink(join_path(cache, name).c_str());
}

class WatchLoop {
 public:
  explicit WatchLoop(RunOptions opts) : base_(std::move(opts)) {}

  int run() {
    std::string cwd = absolute_path(".");
    if (!base_.config) {
      auto cfg = config::load_config(base_.paths, cwd, base_.inifile, base_.rootdir);
      if (!cfg) {
        std::fprintf(stderr, "ERROR: %s\n", cfg.error().message.c_str());
        return kUsageError;
      }
      base_.config = std::move(*cfg);
    }
    rootdir_ = base_.config->rootdir;
    auto watcher = watch::Watcher::open(rootdir_);
    if (!watcher) {
      std::fprintf(stderr, "dx-py: error: --watch: %s\n", watcher.error().message.c_str());
      return kInternalError;
    }
    watcher_ = std::move(*watcher);
    load_graph();
    timing_ = std::getenv("DXPY_WATCH_TIMING") != nullptr;

    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &stop, &old);
    int sigfd = ::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    watch::RawTerminal terminal;
    interactive_ = terminal.active();
    screen_.emplace(stdout, base_.color, interactive_);
    auto add = [&](int fd, uint64_t key) {
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.u64 = key;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    };
    add(sigfd, kSignal);
    add(watcher_->fd(), kInotify);
    if (interactive_) add(0, kStdin);

    int code = kOk;
    last_ = Round{};
    if (!run_round(last_, "all tests")) {
      code = kInterrupted;
    } else {
      code = loop(ep, sigfd);
    }
    terminal.restore();
    ::close(ep);
    ::close(sigfd);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return code;
  }

 private:
  static constexpr uint64_t kSignal = 1, kInotify = 2, kStdin = 3;

  void load_graph() {
    std::vector<std::string> notes;
    std::string cache = base_.config->cache_folder();
    if (::access(cache.c_str(), W_OK) != 0) cache.clear();
    graph_.emplace(load_synced_graph(*base_.config, cache, notes));
    set_template_preload();
    if (base_.verbosity > 0)
      for (const auto& n : notes) std::fprintf(stderr, "dx-py: %s\n", n.c_str());
  }

  /// The runs' own writes to a cache folder configured inside the project
  /// ([tool.dx-py] cache_dir) start no round.
  bool inside_cache_folder(const std::string& path) const {
    const std::string folder = base_.config->cache_folder();
    return path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0 && path[folder.size()] == '/';
  }

  std::string filters() const {
    std::string s;
    if (!file_pattern_.empty()) s += "files " + file_pattern_;
    if (!test_pattern_.empty()) s += std::string(s.empty() ? "" : ", ") + "-k " + test_pattern_;
    return s;
  }

  /// Runs one round; false when a signal interrupted it (the watch ends).
  bool run_round(const Round& r, const std::string& why) {
    RunOptions o = base_;
    o.graph = &*graph_;
    o.spares = &spares_;
    if (!file_pattern_.empty()) o.paths.push_back(file_pattern_arg(file_pattern_));  // within the paths given
    if (!test_pattern_.empty()) o.keyword = test_pattern_;
    if (r.kind == Round::kChanged) {
      o.affected_by = r.changed;
      o.changed_ref.reset();
    } else if (r.kind == Round::kFailed) {
      o.last_failed = {true, false, true};
      o.affected_by.reset();
      o.changed_ref.reset();
    } else if (&r != &last_ || rounds_ > 0) {
      o.affected_by.reset();  // the first round keeps --affected-by/--changed if given
      o.changed_ref.reset();
    }
    if (update_snapshots_ && !ask_update_snapshots(o)) screen_->message("snapshots are not available yet");
    update_snapshots_ = false;
    screen_->round(why);
    int signal = 0;
    o.interrupted_by = &signal;
    auto t0 = Clock::now();
    run_tests(o);
    ++rounds_;
    if (timing_)
      std::fprintf(stderr, "dx-py watch timing: round %u took %.1f ms\n", rounds_,
                   std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (signal) return false;
    screen_->waiting(filters());
    return true;
  }

  /// The conftests and what they import from the project, transitively (graph paths).
  std::unordered_set<std::string> conftest_closure() const {
    std::unordered_set<std::string> seen;
    std::vector<std::string> todo;
    for (auto& p : graph_->paths())
      if (basename(p) == "conftest.py") todo.push_back(std::move(p));
    while (!todo.empty()) {
      std::string p = std::move(todo.back());
      todo.pop_back();
      if (!seen.insert(p).second) continue;
      for (auto& d : graph_->dependencies(p)) todo.push_back(std::move(d.path));
    }
    return seen;
  }

  /// What the fork template preloads: the modules from outside the project that the
  /// conftests import themselves (pytest, the standard library, third-party packages); never
  /// a project module, and not what project modules import inside functions.
  void set_template_preload() {
    std::vector<std::string> names;
    for (const auto& p : graph_->paths())
      if (basename(p) == "conftest.py")
        for (const auto& u : graph_->unresolved(p))
          if (u.external) names.push_back(u.name);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    spares_.template_preload = std::move(names);
  }

  /// Whether a spare may have imported one of `changed` (before the graph takes the
  /// change): the conftests and what they import, transitively, and the config files.
  bool spares_touched(const std::vector<std::string>& changed) const {
    std::unordered_set<std::string> seen = conftest_closure();
    for (const auto& c : changed) {
      if (is_config_file(c) || basename(c) == "conftest.py") return true;
      auto gp = graph_->graph_path(c);
      if (!gp) continue;
      if (seen.count(*gp)) return true;
      for (const auto& s : seen)  // a folder added, moved or removed above one of them
        if (gp->empty() || (s.size() > gp->size() && s.compare(0, gp->size(), *gp) == 0 && s[gp->size()] == '/'))
          return true;
    }
    return false;
  }

  /// The changed paths of a batch: the graph brought up to date for each; a config file
  /// changed: the config read again and the graph rebuilt.
  void apply_changes(const std::vector<std::string>& changed) {
    for (const auto& p : changed) drop_bytecode(p);  // before any worker starts again
    bool touched = template_touched(spares_, changed);  // it is dropped, started again after the round
    if (!spares_.workers.empty() && (spares_touched(changed) || touched)) {
      auto r0 = Clock::now();
      restart_spares(spares_);
      if (timing_)
        std::fprintf(stderr, "dx-py watch timing: warm workers restarted in %.1f ms (%s)\n",
                     std::chrono::duration<double, std::milli>(Clock::now() - r0).count(),
                     spares_.tmpl && spares_.tmpl->wait_ready(0) ? "forked" : "spawned");
    }
    auto t0 = Clock::now();
    bool config_changed = false;
    for (const auto& p : changed) config_changed |= is_config_file(p);
    if (config_changed) {
      auto cfg = config::load_config(base_.paths, absolute_path("."), base_.inifile, base_.rootdir);
      if (cfg) base_.config = std::move(*cfg);
      load_graph();
    } else {
      for (const auto& p : changed) graph::update_graph(*graph_, p);
    }
    if (timing_)
      std::fprintf(stderr, "dx-py watch timing: graph update for %zu path(s) took %.3f ms\n", changed.size(),
                   std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    set_template_preload();
  }

  int loop(int ep, int sigfd) {
    watch::Debouncer debouncer;
    watch::KeyReader keys;
    epoll_event events[8];
    for (;;) {
      int timeout = -1;
      if (auto due = debouncer.deadline()) timeout = static_cast<int>(std::max<int64_t>(0, *due - now_ms()));
      int got = ::epoll_wait(ep, events, 8, timeout);
      std::optional<watch::Command> command;
      for (int i = 0; i < got; ++i) {
        switch (events[i].data.u64) {
          case kSignal: {
            signalfd_siginfo si{};
            if (::read(sigfd, &si, sizeof si) == sizeof si) return kInterrupted;
            break;
          }
          case kInotify:
            for (auto& path : watcher_->read_events())
              if (starts_round(path) && !watch::ignored(relative_to(path, rootdir_)) &&
                  !inside_cache_folder(path)) {
                if (timing_ && !debouncer.pending())
                  std::fprintf(stderr, "dx-py watch timing: event %s\n", path.c_str());
                debouncer.add(std::move(path), now_ms());
              }
            break;
          case kStdin: {
            char buf[64];
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {  // the terminal is gone
              ::epoll_ctl(ep, EPOLL_CTL_DEL, 0, nullptr);
              break;
            }
            for (ssize_t k = 0; k < n && !command; ++k) {
              command = keys.feed(buf[k]);
              if (!command && keys.entering())
                screen_->prompt(entering_label_.empty() ? label_for(buf[k]) : entering_label_, keys.typed());
            }
            break;
          }
        }
      }
      if (command) {
        entering_label_.clear();
        if (int code = on_command(*command); code >= 0) return code;
        continue;
      }
      if (auto batch = debouncer.poll(now_ms()); !batch.empty()) {
        apply_changes(batch);
        last_ = Round{Round::kChanged, batch};
        if (!run_round(last_, describe_changes(batch, rootdir_))) return kInterrupted;
      }
    }
  }

  std::string label_for(char c) {
    entering_label_ = c == 'p' ? "file pattern" : "test name pattern (-k)";
    return entering_label_;
  }

  /// Acts on a key; an exit code to end the watch, else -1.
  int on_command(const watch::Command& c) {
    switch (c.kind) {
      case watch::Command::kQuit: return kOk;
      case watch::Command::kHelp: screen_->keys(); return -1;
      case watch::Command::kCancel:
        std::fputc('\n', stdout);
        screen_->waiting(filters());
        return -1;
      case watch::Command::kAll:
        file_pattern_.clear();
        test_pattern_.clear();
        last_ = Round{};
        return run_round(last_, "all tests") ? -1 : kInterrupted;
      case watch::Command::kFailed:
        last_ = Round{Round::kFailed, {}};
        return run_round(last_, "the last failures") ? -1 : kInterrupted;
      case watch::Command::kFilePattern:
      case watch::Command::kTestPattern: {
        std::fputc('\n', stdout);
        (c.kind == watch::Command::kFilePattern ? file_pattern_ : test_pattern_) = c.text;
        last_ = Round{};
        std::string f = filters();
        return run_round(last_, f.empty() ? "all tests" : "all tests, " + f) ? -1 : kInterrupted;
      }
      case watch::Command::kUpdateSnapshots:
        update_snapshots_ = true;
        return run_round(last_, "again, updating snapshots") ? -1 : kInterrupted;
      case watch::Command::kRerun: return run_round(last_, "again") ? -1 : kInterrupted;
    }
    return -1;
  }

  RunOptions base_;
  std::string rootdir_;
  std::unique_ptr<watch::Watcher> watcher_;
  std::optional<graph::ImportGraph> graph_;
  SpareWorkers spares_;  // warm workers for the next round (spares.h)
  std::optional<watch::Screen> screen_;
  Round last_;
  unsigned rounds_ = 0;
  bool interactive_ = false;
  bool timing_ = false;
  bool update_snapshots_ = false;
  std::string file_pattern_, test_pattern_, entering_label_;
};

}  // namespace

int watch_tests(RunOptions opts) {
  WatchLoop loop(std::move(opts));
  return loop.run();
}

}  // namespace dxpy::session
