#include "dxpy/pool/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace dxpy::pool {

namespace {

Expected<void> write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::kIo, std::string("write to worker: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

Expected<void> read_all(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::kIo, std::string("read from worker: ") + std::strerror(errno));
    }
    if (r == 0) return make_error(Errc::kIo, "worker closed its pipe");
    p += r;
    n -= static_cast<size_t>(r);
  }
  return {};
}

constexpr uint32_t kMaxFrame = 1u << 30;

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

Expected<std::unique_ptr<WorkerProcess>> WorkerProcess::spawn(const SpawnOptions& opts) {
  int to[2], from[2];
  if (::pipe2(to, O_CLOEXEC) != 0) return make_error(Errc::kIo, std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(from, O_CLOEXEC) != 0) {
    ::close(to[0]);
    ::close(to[1]);
    return make_error(Errc::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, to[0], 3);
  posix_spawn_file_actions_adddup2(&fa, from[1], 4);
  if (!opts.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, opts.cwd.c_str());

  std::vector<std::string> argv_s = {opts.python};
  argv_s.insert(argv_s.end(), opts.args.begin(), opts.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), opts.extra_env.begin(), opts.extra_env.end());
  env_s.emplace_back("DXPY_WORKER_FDS=3,4");
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, opts.python.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(to[0]);
  ::close(from[1]);
  if (rc != 0) {
    ::close(to[1]);
    ::close(from[0]);
    return make_error(Errc::kNotFound, "cannot start " + opts.python + ": " + std::strerror(rc));
  }
  std::unique_ptr<WorkerProcess> w(new WorkerProcess());
  w->pid_ = pid;
  w->to_worker_ = to[1];
  w->from_worker_ = from[0];
  return w;
}

WorkerProcess::~WorkerProcess() { reap(true); }

Expected<void> WorkerProcess::send(std::string_view payload) {
  char hdr[4];
  auto n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) hdr[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  DXPY_TRY_VOID(write_all(to_worker_, hdr, 4));
  return write_all(to_worker_, payload.data(), payload.size());
}

Expected<std::string> WorkerProcess::receive() {
  unsigned char hdr[4];
  DXPY_TRY_VOID(read_all(from_worker_, reinterpret_cast<char*>(hdr), 4));
  uint32_t n = static_cast<uint32_t>(hdr[0]) | static_cast<uint32_t>(hdr[1]) << 8 |
               static_cast<uint32_t>(hdr[2]) << 16 | static_cast<uint32_t>(hdr[3]) << 24;
  if (n > kMaxFrame) return make_error(Errc::kLimit, "worker frame of " + std::to_string(n) + " bytes");
  std::string out(n, '\0');
  DXPY_TRY_VOID(read_all(from_worker_, out.data(), n));
  return out;
}

std::string WorkerProcess::reap(bool kill) {
  if (reaped_) return ended_;
  reaped_ = true;
  if (to_worker_ >= 0) ::close(to_worker_);
  if (from_worker_ >= 0) ::close(from_worker_);
  to_worker_ = from_worker_ = -1;
  if (pid_ <= 0) return ended_;
  if (kill) ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  ended_ = describe_wait_status(status);
  return ended_;
}

}  // namespace dxpy::pool
