#pragma once
/// One Python worker process and its two pipes (fd 3: frames in, fd 4: frames out).
/// A frame is {u32 length, bytes}. This is the interim transport: the shared-memory rings
/// of the protocol component replace it, behind the same send/receive calls.

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::pool {

struct SpawnOptions {
  std::string python;                   // interpreter to run
  std::vector<std::string> args;        // after the interpreter: {"-m", "dx_py_test_runner.worker"}
  std::vector<std::string> extra_env;   // "NAME=value" added to the environment
  std::string cwd;                      // empty: inherit
};

class WorkerProcess {
 public:
  static Expected<std::unique_ptr<WorkerProcess>> spawn(const SpawnOptions& opts);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  Expected<void> send(std::string_view payload);
  /// The next frame; an error once the worker closed its end or died.
  Expected<std::string> receive();
  /// Reaps the process (killing it first if `kill`) and says how it ended:
  /// "exit code 3", "signal 11 (SIGSEGV)".
  std::string reap(bool kill);
  pid_t pid() const { return pid_; }

 private:
  WorkerProcess() = default;
  pid_t pid_ = -1;
  int to_worker_ = -1;
  int from_worker_ = -1;
  bool reaped_ = false;
  std::string ended_;
};

/// "signal 11 (SIGSEGV)" or "exit code 3" for a waitpid status.
std::string describe_wait_status(int status);

}  // namespace dxpy::pool
