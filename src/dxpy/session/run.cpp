#include "dxpy/session/run.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <map>

#include "dxpy/core/codec.h"
#include "dxpy/discovery/collector.h"
#include "dxpy/session/selection.h"
#include "dxpy/pool/worker_process.h"
#include "dxpy/report/collect_only.h"
#include "dxpy/report/console.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {

namespace {

TestResult crashed(const TestCase& tc, const std::string& how) {
  TestResult r;
  r.id = tc.id;
  r.status = TestStatus::kCrashed;
  r.message = "worker crashed while running this test: " + how;
  r.traceback = tc.id.node_id() + ": the worker process running this test ended with " + how + ".";
  return r;
}

class Worker {
 public:
  Worker(std::string python, std::string rootdir) : python_(std::move(python)), rootdir_(std::move(rootdir)) {}

  // Starts a worker if none runs; its first frame is its Python version.
  Expected<std::string> ensure() {
    if (proc_) return version_;
    DXPY_TRY(auto proc, pool::WorkerProcess::spawn({python_, {"-m", "dx_py_test_runner.worker"},
                                                    {"DXPY_ROOTDIR=" + rootdir_}, ""}));
    auto hello = proc->receive();
    if (!hello) {
      std::string how = proc->reap(true);
      return make_error(Errc::kInternal, "the worker (" + python_ + " -m dx_py_test_runner.worker) did not start: " +
                                             how + ". Is dx-py installed in that environment? Use --python to pick one.");
    }
    version_ = *hello;
    proc_ = std::move(proc);
    return version_;
  }

  // Runs one test; a dead worker gives a crashed result and is replaced on the next call.
  TestResult run(const TestCase& tc) {
    auto started = ensure();
    if (!started) return crashed(tc, started.error().message);
    auto sent = proc_->send(encode(tc));
    auto reply = sent ? proc_->receive() : Expected<std::string>(Unexpected<Error>{sent.error()});
    if (!reply) {
      std::string how = proc_->reap(false);
      proc_.reset();
      return crashed(tc, how);
    }
    auto result = decode<TestResult>(*reply);
    if (!result) {
      proc_->reap(true);
      proc_.reset();
      return crashed(tc, "a malformed result (" + result.error().message + ")");
    }
    return std::move(*result);
  }

  void stop() {
    if (!proc_) return;
    (void)proc_->send("");  // an empty frame asks the worker to exit
    proc_->reap(false);
    proc_.reset();
  }

 private:
  std::string python_, rootdir_, version_;
  std::unique_ptr<pool::WorkerProcess> proc_;
};

}  // namespace

std::string default_python() {
  if (const char* venv = std::getenv("VIRTUAL_ENV"); venv && *venv) {
    std::string p = join_path(venv, "bin/python");
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    std::string p = join_path(dirname(self), "python");
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "python3";
}

int run_tests(const RunOptions& opts) {
  ::signal(SIGPIPE, SIG_IGN);
  auto t0 = std::chrono::steady_clock::now();
  // Listing node ids (-q, -qq) needs no more than the index's test table.
  bool ids_only = opts.collect_only && opts.verbosity < 0;
  auto selection =
      select_tests({opts.paths, opts.inifile, opts.rootdir, opts.keyword, opts.markexpr, true, ids_only});
  if (!selection) {
    std::fprintf(stderr, "ERROR: %s\n", selection.error().message.c_str());
    return selection.error().code == Errc::kUsage || selection.error().code == Errc::kParse ? kUsageError
                                                                                          : kInternalError;
  }
  Selection& selected = *selection;
  const std::string& rootdir = selected.config.rootdir;
  if (opts.verbosity > 0)
    for (const auto& n : selected.notes) std::fprintf(stderr, "dx-py: %s\n", n.c_str());
  report::SessionInfo info{rootdir, "", DXPY_VERSION, {}};
  if (!selected.config.inifile.empty()) info.configfile.push_back(relative_to(selected.config.inifile, rootdir));

  if (opts.collect_only) {
    // pytest prints the header and "collected N items" above the tree; -q prints neither.
    std::unique_ptr<report::ReportSink> console;
    if (opts.verbosity >= 0) {
      console = report::make_console_reporter({opts.verbosity, opts.color, 80, stdout});
      console->on_session_start(info);
      console->on_collected(selected.tests.size() + selected.deselected, selected.errors, selected.deselected);
    }
    if (selected.listing)
      report::print_node_ids(stdout, selected.listed, opts.verbosity);
    else
      report::print_collection(stdout, rootdir, selected.tests, opts.verbosity, [&](const std::string& dir) {
        return ::access(join_path(join_path(rootdir, dir), "__init__.py").c_str(), F_OK) == 0;
      });
    for (const auto& e : selected.errors) std::printf("ERROR %s - %s\n", e.path.c_str(), e.message.c_str());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char line[128];
    size_t n = selected.listing ? selected.listed.size() : selected.tests.size();
    if (selected.deselected)
      std::snprintf(line, sizeof line, "%zu/%zu tests collected (%zu deselected) in %.2fs", n,
                    n + static_cast<size_t>(selected.deselected), static_cast<size_t>(selected.deselected), secs);
    else
      std::snprintf(line, sizeof line, "%zu test%s collected in %.2fs", n, n == 1 ? "" : "s", secs);
    if (opts.verbosity >= 0) {
      std::string l(line);
      int fill = std::max((80 - static_cast<int>(l.size()) - 2) / 2, 1);
      std::string eq(static_cast<size_t>(fill), '=');
      std::string full = eq + " " + l + " " + eq;
      if (full.size() < 80) full += "=";
      std::printf("\n%s\n", full.c_str());
    } else if (opts.verbosity == -1) {
      std::printf("\n%s\n", line);
    }
    size_t runtime = static_cast<size_t>(std::count_if(selected.tests.begin(), selected.tests.end(),
                                                       [](const TestCase& t) { return t.expand_at_runtime; }));
    if (runtime && !ids_only)  // on stderr; with ids only (-q) the flag is not read
      std::fprintf(stderr,
                   "dx-py: %zu parametrized test%s could not be expanded statically (arguments that are not "
                   "literals); they are listed by their function id, without [param]\n",
                   runtime, runtime == 1 ? "" : "s");
    if (!selected.errors.empty()) return kInterrupted;
    return n == 0 ? kNoTestsCollected : kOk;
  }

  Worker worker(opts.python.empty() ? default_python() : opts.python, rootdir);
  auto version = worker.ensure();
  if (!version) {
    std::fprintf(stderr, "dx-py: error: %s\n", version.error().message.c_str());
    return kInternalError;
  }
  auto console = report::make_console_reporter({opts.verbosity, opts.color, 80, stdout});
  info.python_version = *version;
  console->on_session_start(info);
  console->on_collected(selected.tests.size() + selected.deselected, selected.errors, selected.deselected);

  report::Summary summary;
  summary.collection_errors = selected.errors.size();
  summary.deselected = selected.deselected;
  for (auto& tc : selected.tests) {
    if (tc.file.empty()) tc.file = join_path(rootdir, tc.id.path);  // what the worker imports
    TestResult r = worker.run(tc);
    ++summary.counts[static_cast<int>(r.status)];
    console->on_result(tc, r);
  }
  worker.stop();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  console->on_session_end(summary);

  if (selected.tests.empty() && selected.errors.empty()) return kNoTestsCollected;
  auto bad = summary.counts[static_cast<int>(TestStatus::kFailed)] + summary.counts[static_cast<int>(TestStatus::kError)] +
             summary.counts[static_cast<int>(TestStatus::kCrashed)] +
             summary.counts[static_cast<int>(TestStatus::kTimeout)] + summary.collection_errors;
  return bad ? kTestsFailed : kOk;
}

}  // namespace dxpy::session
