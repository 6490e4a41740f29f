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
#include "dxpy/session/collect.h"
#include "dxpy/pool/worker_process.h"
#include "dxpy/report/collect_only.h"
#include "dxpy/report/console.h"
#include "dxpy/util/fs.h"

namespace dxpy::session {

namespace {

struct Selected {
  std::vector<TestCase> tests;
  std::vector<report::CollectionError> errors;
};

// The cache folder, created private to the user; empty when it cannot be made.
std::string cache_dir(const std::string& rootdir, std::vector<std::string>& notes) {
  std::string dir = join_path(rootdir, ".dx-py");
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    notes.push_back("no cache: cannot create " + dir + ": " + std::strerror(errno));
    return "";
  }
  if (auto st = stat_path(dir); !st || !st->is_dir) {
    notes.push_back("no cache: " + dir + " is not a folder");
    return "";
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    notes.push_back("no cache: " + dir + " is not writable");
    return "";
  }
  return dir;
}

// A positional argument is a path, or a node id "path::name..." selecting within it.
Selected collect(const std::vector<std::string>& args, const std::string& rootdir, int verbosity) {
  std::vector<std::string> paths;
  std::map<std::string, std::vector<std::string>> node_filters;  // abs file -> node-id suffixes
  for (const auto& a : args) {
    auto sep = a.find("::");
    std::string path = absolute_path(a.substr(0, sep));
    paths.push_back(path);
    if (sep != std::string::npos) node_filters[path].push_back(a.substr(sep));
  }
  if (paths.empty()) paths.push_back(rootdir);

  CollectOptions copts;
  copts.rootdir = rootdir;
  std::map<std::string, bool> seen;
  for (auto& file : discovery::find_test_files(paths))
    if (!seen[file]) {
      seen[file] = true;
      copts.files.push_back(file);
    }
  std::vector<std::string> notes;
  std::string cache = cache_dir(rootdir, notes);
  if (!cache.empty()) copts.index_path = join_path(cache, "index.dxti");
  Collected collected = collect_files(copts);
  notes.insert(notes.end(), collected.notes.begin(), collected.notes.end());
  if (verbosity > 0) {
    for (const auto& n : notes) std::fprintf(stderr, "dx-py: %s\n", n.c_str());
    std::fprintf(stderr, "dx-py: collection: %zu files from the index, %zu re-hashed, %zu parsed%s\n",
                 collected.stats.reused, collected.stats.rehashed, collected.stats.parsed,
                 collected.stats.index_written ? "; index written" : "");
  }

  Selected out;
  for (size_t i = 0; i < collected.records.size(); ++i) {
    auto& rec = collected.records[i];
    const std::string& file = copts.files[i];
    if (!rec.error.empty()) {
      std::string longrepr = rec.path + (rec.error_line ? ":" + std::to_string(rec.error_line) : "") + ": " + rec.error;
      out.errors.push_back({rec.path, rec.error, longrepr});
    }
    auto filters = node_filters.find(file);
    for (auto& t : rec.tests) {
      if (filters != node_filters.end()) {
        std::string node = t.id.node_id();
        std::string tail = node.substr(rec.path.size());
        bool keep = false;
        // "::TestC" selects the class, "::TestC::test_x" the method, "::test_x[1]" one param.
        for (const auto& f : filters->second)
          keep |= tail == f || tail.rfind(f + "::", 0) == 0 || tail.rfind(f + "[", 0) == 0;
        if (!keep) continue;
      }
      t.file = file;  // the index may have been written from another checkout path
      out.tests.push_back(std::move(t));
    }
  }
  return out;
}

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
  std::string rootdir = absolute_path(opts.rootdir.empty() ? "." : opts.rootdir);
  auto selected = collect(opts.paths, rootdir, opts.verbosity);

  if (opts.collect_only) {
    // pytest prints the header and "collected N items" above the tree; -q prints neither.
    std::unique_ptr<report::ReportSink> console;
    if (opts.verbosity >= 0) {
      console = report::make_console_reporter({opts.verbosity, opts.color, 80, stdout});
      console->on_session_start({rootdir, "", DXPY_VERSION, {}});
      console->on_collected(selected.tests.size(), selected.errors);
    }
    report::print_collection(stdout, rootdir, selected.tests, opts.verbosity, [&](const std::string& dir) {
      return ::access(join_path(join_path(rootdir, dir), "__init__.py").c_str(), F_OK) == 0;
    });
    for (const auto& e : selected.errors) std::printf("ERROR %s - %s\n", e.path.c_str(), e.message.c_str());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char line[128];
    std::snprintf(line, sizeof line, "%zu test%s collected in %.2fs", selected.tests.size(),
                  selected.tests.size() == 1 ? "" : "s", secs);
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
    if (!selected.errors.empty()) return kInterrupted;
    return selected.tests.empty() ? kNoTestsCollected : kOk;
  }

  Worker worker(opts.python.empty() ? default_python() : opts.python, rootdir);
  auto version = worker.ensure();
  if (!version) {
    std::fprintf(stderr, "dx-py: error: %s\n", version.error().message.c_str());
    return kInternalError;
  }
  auto console = report::make_console_reporter({opts.verbosity, opts.color, 80, stdout});
  console->on_session_start({rootdir, *version, DXPY_VERSION, {}});
  console->on_collected(selected.tests.size(), selected.errors);

  report::Summary summary;
  summary.collection_errors = selected.errors.size();
  for (const auto& tc : selected.tests) {
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
