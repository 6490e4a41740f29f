#include "dxpy/pool/worker.h"

#include "dxpy/pool/template.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace dxpy::pool {

namespace {

Unexpected<Error> os_error(const std::string& what) {
  return make_error(Errc::kIo, what + ": " + std::strerror(errno));
}

/// A close-on-exec copy of `fd` numbered 10 or above, so that the child's dup2 onto 0..5
/// never meets a source that already has the target's number.
int dup_high(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 10); }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// `name` as execve needs it: unchanged when it has a '/', else found on PATH.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

std::string key_of(const std::string& entry) { return entry.substr(0, entry.find('=')); }

std::string tail_of(int fd, size_t max_bytes) {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size <= 0) return {};
  auto size = static_cast<size_t>(st.st_size);
  size_t n = std::min(size, max_bytes);
  std::string out(n, '\0');
  ssize_t got = ::pread(fd, out.data(), n, static_cast<off_t>(size - n));
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return out;
}

}  // namespace

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "");
  }
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  return "unknown status " + std::to_string(status);
}

Expected<std::unique_ptr<Worker>> Worker::spawn(const SpawnOptions& opts) {
  DXPY_TRY(auto ends, protocol::Channel::create(opts.channel));
  std::unique_ptr<Worker> w(new Worker());
  w->id_ = opts.worker_id;
  w->channel_ = std::move(ends.orchestrator);

  // Everything the child needs is prepared here: between fork and exec it may only make
  // async-signal-safe calls.
  DXPY_CHECK(opts.pass_fds.size() <= 4);  // targets 6..9 stay below dup_high's copies
  std::vector<int> src(6 + opts.pass_fds.size(), -1);  // for child fds 0..5, then pass_fds
  auto close_src = [&] {
    for (int& fd : src) close_fd(fd);
    protocol::close_fds(ends.worker);
  };
  w->out_fd_ = ::memfd_create("dxpy-worker-stdout", MFD_CLOEXEC);
  w->err_fd_ = ::memfd_create("dxpy-worker-stderr", MFD_CLOEXEC);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (w->out_fd_ < 0 || w->err_fd_ < 0 || devnull < 0) {
    auto e = os_error("worker output files");
    if (devnull >= 0) ::close(devnull);
    close_src();
    return e;
  }
  src[0] = dup_high(devnull);
  ::close(devnull);
  src[1] = dup_high(opts.inherit_output ? 1 : w->out_fd_);
  src[2] = dup_high(opts.inherit_output ? 2 : w->err_fd_);
  src[3] = dup_high(ends.worker.memory);
  src[4] = dup_high(ends.worker.inbound);
  src[5] = dup_high(ends.worker.outbound);
  for (size_t i = 0; i < opts.pass_fds.size(); ++i) src[6 + i] = dup_high(opts.pass_fds[i]);
  for (int fd : src)
    if (fd < 0) {
      auto e = os_error("dup");
      close_src();
      return e;
    }

  std::string program = resolve_program(opts.python);
  std::vector<std::string> argv_s = {opts.python};
  argv_s.insert(argv_s.end(), opts.args.begin(), opts.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> added = opts.extra_env;
  added.push_back("DXPY_CHANNEL_FDS=3,4,5");
  added.push_back("DXPY_WORKER_ID=" + std::to_string(opts.worker_id));
  added.push_back("DXPY_ORCHESTRATOR_PID=" + std::to_string(::getpid()));  // worker/interrupt.py
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e), key = key_of(entry);
    bool replaced = false;
    for (const auto& a : added) replaced = replaced || key_of(a) == key;
    if (!replaced) env_s.push_back(std::move(entry));
  }
  env_s.insert(env_s.end(), added.begin(), added.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const char* cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    auto e = os_error("fork");
    close_src();
    return e;
  }
  if (pid == 0) {
    // The child: async-signal-safe calls only, then exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the orchestrator is already gone
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    for (size_t target = 0; target < src.size(); ++target)
      if (::dup2(src[target], static_cast<int>(target)) < 0) ::_exit(127);
    if (cwd && ::chdir(cwd) != 0) ::_exit(127);
    ::execve(program.c_str(), argv.data(), envp.data());
    static const char msg[] = "dx-py: cannot execute the worker's interpreter\n";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before anyone signals it
  close_src();
  DXPY_TRY_VOID(w->attach(pid));
  return w;
}

Expected<void> Worker::attach(pid_t pid) {
  pid_ = pid;
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd_ < 0) {
    auto e = os_error("pidfd_open");
    reap(true);
    return e;
  }
  channel_->watch(pidfd_);
  return {};
}

Worker::~Worker() {
  reap(true);
  channel_.reset();
  close_fd(pidfd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
}

void Worker::signal_group(int sig) const {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, sig);
}

bool Worker::wait_exit(int timeout_ms) const {
  if (reaped_) return true;
  pollfd p{pidfd_, POLLIN, 0};
  int rc;
  while ((rc = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return rc > 0;
}

std::string Worker::reap(bool kill) {
  if (reaped_ || pid_ <= 0) return ended_;
  // The group goes in any case: a test's leftover children must not outlive the run. The
  // leader is not reaped yet, so its pid (the group id) cannot have been reused.
  if (!kill && !wait_exit(0)) kill = true;
  ::kill(-pid_, SIGKILL);
  if (kill) ::kill(pid_, SIGKILL);
  int status = 0;
  if (template_) {  // its parent is the template, which reaps it on request
    auto st = template_->reap_child(pid_);
    reaped_ = true;
    ended_ = st ? describe_wait_status(*st) : "an unknown status (" + st.error().message + ")";
    template_.reset();
    return ended_;
  }
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  ended_ = describe_wait_status(status);
  return ended_;
}

std::string Worker::stdout_tail(size_t max_bytes) const { return tail_of(out_fd_, max_bytes); }
std::string Worker::stderr_tail(size_t max_bytes) const { return tail_of(err_fd_, max_bytes); }

}  // namespace dxpy::pool
