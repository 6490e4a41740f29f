#pragma once
/// A template process that forks workers (watch mode's warm workers, session/spares.h).
///
/// Starting a worker costs Python's start, dx-py's runtime and the conftests' third-party
/// imports: tens to hundreds of milliseconds. The template is one Python process, started
/// like a worker (`python -m dx_py_test_runner.worker` with DXPY_TEMPLATE=1), that imports
/// the runtime and `preload` (modules the caller knows did not change: third-party and
/// standard library, never a project module), then forks a fresh worker on request in a
/// few milliseconds (python/dx_py_test_runner/worker/template.py).
///
/// The control socket (SOCK_SEQPACKET, the template's fd 6) carries:
///   template -> here   "f" + path: a file under the rootdir that the template imported
///                      (it then holds code that may change); "n" + name: a top-level
///                      module it holds; then "ready", or "error " + why (not forkable)
///   here -> template   "fork ID" with five descriptors (SCM_RIGHTS) for the child's fds
///                      1 to 5; answered "pid N" or "error " + why
///                      "reap N": the template waits for its child N (already killed or
///                      ended) and answers "status S" (a waitpid status)
/// A forked worker is the template's child: the template reaps it only when asked, so its
/// pid (and process group id) stays reserved until Worker::reap, as for a spawned worker;
/// its death is seen through a pidfd as well. It sets PR_SET_PDEATHSIG on the template,
/// which has it on the orchestrator: nothing outlives the run. A template that started any
/// Python thread while preloading refuses to fork (fork copies only the calling thread).
///
/// Not thread-safe: one thread asks (the orchestrator's event loop is single-threaded).

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "dxpy/pool/worker.h"
#include "dxpy/util/expected.h"

namespace dxpy::pool {

class Template : public std::enable_shared_from_this<Template> {
 public:
  /// Starts the template process with `opts` (its interpreter, environment, cwd; `args` and
  /// the worker id are set here) and DXPY_TEMPLATE_PRELOAD = `preload`. Does not wait.
  static Expected<std::shared_ptr<Template>> start(SpawnOptions opts, const std::vector<std::string>& preload);
  ~Template();
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

  /// Reads the template's start report, waiting up to `timeout_ms` (0: only what is there).
  /// True once it said "ready"; false while it has not, or when it failed (then for good).
  bool wait_ready(int timeout_ms);
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }
  /// Absolute paths of the files under the rootdir the template imported (after ready).
  const std::vector<std::string>& held_files() const { return held_files_; }
  /// Top-level names of every module it holds ("os", "pytest", ...; after ready).
  const std::vector<std::string>& held_names() const { return held_names_; }
  pid_t pid() const;

  /// A fresh worker forked from the template (which must be ready): the same Worker a
  /// spawn gives, with `opts`' worker id, output mode and channel options.
  Expected<std::unique_ptr<Worker>> fork_worker(const SpawnOptions& opts);

  /// The waitpid status of the template's child `pid`, which has ended or been killed.
  Expected<int> reap_child(pid_t pid);

 private:
  Template() = default;
  Expected<std::string> request(const std::string& text, const int* fds, size_t nfds);
  void fail(std::string why);

  std::unique_ptr<Worker> process_;  // the template itself, started as a worker
  int control_ = -1;
  bool ready_ = false;
  bool failed_ = false;
  std::string failure_;
  std::vector<std::string> held_files_, held_names_;
};

}  // namespace dxpy::pool
