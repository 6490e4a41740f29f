#pragma once
/// One Python worker process, joined to the orchestrator by a protocol Channel.
///
/// The child gets, at fixed descriptors: 0 /dev/null; 1 and 2 two memfds that hold its
/// captured output (the worker reads and empties them after each test, so after a crash
/// what is left is the tail of the crashing test's output, faulthandler's traceback
/// included); 3, 4, 5 the channel's memory and wake-up sockets (DXPY_CHANNEL_FDS). It runs
/// in its own process group, so Ctrl-C at the terminal reaches only the orchestrator and
/// killing the group takes the test's own children with it; PR_SET_PDEATHSIG kills it if
/// the orchestrator dies without cleaning up. Its death is seen through a pidfd.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dxpy/protocol/channel.h"
#include "dxpy/util/expected.h"

namespace dxpy::pool {

struct SpawnOptions {
  std::string python;                  // interpreter to run
  std::vector<std::string> args;       // after the interpreter: {"-m", "dx_py_test_runner.worker"}
  std::vector<std::string> extra_env;  // "NAME=value" added to (or replacing in) the environment
  std::string cwd;                     // empty: inherit
  uint16_t worker_id = 0;              // DXPY_WORKER_ID
  bool inherit_output = false;         // fds 1 and 2 are the caller's, not memfds (-s)
  protocol::ChannelOptions channel;
  std::vector<int> pass_fds;           // given to the child as fds 6, 7, ... (the caller keeps them)
};

class Template;  // template.h

class Worker {
 public:
  static Expected<std::unique_ptr<Worker>> spawn(const SpawnOptions& opts);
  /// Kills the process group if still running, reaps it, closes everything.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  protocol::Channel& channel() { return *channel_; }
  pid_t pid() const { return pid_; }
  /// Readable once the process has ended (for an event loop).
  int pidfd() const { return pidfd_; }
  uint16_t id() const { return id_; }

  /// Sends `sig` to the worker's process group (the worker and what its tests started).
  void signal_group(int sig) const;
  /// Waits up to `timeout_ms` for the process to end; true if it has.
  bool wait_exit(int timeout_ms) const;
  /// Reaps the process, killing its group first if `kill` (or if it has not ended), and says
  /// how it ended: "exit code 3", "signal 11 (SIGSEGV)". Idempotent.
  std::string reap(bool kill);
  /// The last `max_bytes` of what the worker wrote to fd 1 / fd 2 and did not yet collect.
  std::string stdout_tail(size_t max_bytes) const;
  std::string stderr_tail(size_t max_bytes) const;

 private:
  friend class Template;
  /// The started child `pid` becomes this worker's: a pidfd for its death, watched by the
  /// channel. On failure the child is killed and reaped.
  Expected<void> attach(pid_t pid);
  Worker() = default;
  std::shared_ptr<Template> template_;  // set when forked from a template: it is the parent
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  uint16_t id_ = 0;
  bool reaped_ = false;
  std::string ended_;
  std::unique_ptr<protocol::Channel> channel_;
};

/// "signal 11 (SIGSEGV)" or "exit code 3" for a waitpid status.
std::string describe_wait_status(int status);

}  // namespace dxpy::pool
