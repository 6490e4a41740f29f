#include "dxpy/pool/template.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace dxpy::pool {

namespace {

constexpr size_t kMaxPacket = 64 * 1024;
constexpr int kRequestTimeoutMs = 10000;  // a fork or a reap takes milliseconds

Unexpected<Error> os_error(const std::string& what) {
  return make_error(Errc::kIo, what + ": " + std::strerror(errno));
}

/// One packet, waiting up to `timeout_ms` (-1: no limit); empty optional on timeout.
Expected<std::optional<std::string>> receive(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  while ((rc = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (rc < 0) return os_error("template control socket");
  if (rc == 0) return std::optional<std::string>();
  std::string buf(kMaxPacket, '\0');
  ssize_t n;
  while ((n = ::recv(fd, buf.data(), buf.size(), MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n < 0) return os_error("template control socket");
  if (n == 0) return make_error(Errc::kIo, "the template process ended");
  buf.resize(static_cast<size_t>(n));
  return std::optional<std::string>(std::move(buf));
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

Expected<std::shared_ptr<Template>> Template::start(SpawnOptions opts, const std::vector<std::string>& preload) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return os_error("socketpair");
  std::shared_ptr<Template> t(new Template());
  t->control_ = pair[0];
  std::string names;
  for (const auto& m : preload) names += (names.empty() ? "" : ",") + m;
  opts.args = {"-m", "dx_py_test_runner.worker"};
  opts.extra_env.push_back("DXPY_TEMPLATE=6");
  opts.extra_env.push_back("DXPY_TEMPLATE_PRELOAD=" + names);
  opts.inherit_output = false;  // its own output stays in its memfds (read after a failure)
  opts.pass_fds = {pair[1]};
  auto spawned = Worker::spawn(opts);
  ::close(pair[1]);
  if (!spawned) return Unexpected<Error>{spawned.error()};
  t->process_ = std::move(*spawned);
  return t;
}

Template::~Template() {
  if (control_ >= 0) ::close(control_);  // the template ends on EOF (its children first)
  control_ = -1;
  if (process_ && !process_->wait_exit(2000)) process_->reap(true);
  process_.reset();
}

pid_t Template::pid() const { return process_ ? process_->pid() : -1; }

void Template::fail(std::string why) {
  if (failed_) return;
  failed_ = true;
  ready_ = false;
  std::string err = process_ ? process_->stderr_tail(2000) : std::string();
  failure_ = std::move(why) + (err.empty() ? "" : ": " + err);
}

bool Template::wait_ready(int timeout_ms) {
  if (ready_ || failed_) return ready_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int left = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
    auto got = receive(control_, left);
    if (!got) {
      fail(got.error().message);
      return false;
    }
    if (!*got) return false;  // not yet
    const std::string& m = **got;
    if (m == "ready") return ready_ = true;
    if (starts_with(m, "f")) {
      held_files_.push_back(m.substr(1));
    } else if (starts_with(m, "n")) {
      held_names_.push_back(m.substr(1));
    } else {
      fail(starts_with(m, "error ") ? m.substr(6) : "unexpected message from the template: " + m);
      return false;
    }
  }
}

Expected<std::string> Template::request(const std::string& text, const int* fds, size_t nfds) {
  if (failed_) return make_error(Errc::kIo, "the template failed: " + failure_);
  if (!ready_) return make_error(Errc::kIo, "the template is not ready");
  msghdr msg{};
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
  if (nfds > 0) {
    DXPY_CHECK(nfds <= 8);
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  while ((n = ::sendmsg(control_, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (n < 0) {
    auto e = os_error("template control socket");
    fail(e.error.message);
    return e;
  }
  auto got = receive(control_, kRequestTimeoutMs);
  if (!got) {
    fail(got.error().message);
    return Unexpected<Error>{got.error()};
  }
  if (!*got) {
    fail("the template did not answer " + text.substr(0, text.find(' ')));
    return make_error(Errc::kIo, failure_);
  }
  return std::move(**got);
}

Expected<std::unique_ptr<Worker>> Template::fork_worker(const SpawnOptions& opts) {
  DXPY_TRY(auto ends, protocol::Channel::create(opts.channel));
  std::unique_ptr<Worker> w(new Worker());
  w->id_ = opts.worker_id;
  w->channel_ = std::move(ends.orchestrator);
  w->out_fd_ = ::memfd_create("dxpy-worker-stdout", MFD_CLOEXEC);
  w->err_fd_ = ::memfd_create("dxpy-worker-stderr", MFD_CLOEXEC);
  if (w->out_fd_ < 0 || w->err_fd_ < 0) {
    auto e = os_error("worker output files");
    protocol::close_fds(ends.worker);
    return e;
  }
  int fds[5] = {opts.inherit_output ? 1 : w->out_fd_, opts.inherit_output ? 2 : w->err_fd_, ends.worker.memory,
                ends.worker.inbound, ends.worker.outbound};
  auto answer = request("fork " + std::to_string(opts.worker_id), fds, 5);
  protocol::close_fds(ends.worker);
  if (!answer) return Unexpected<Error>{answer.error()};
  if (!starts_with(*answer, "pid ")) return make_error(Errc::kIo, "the template cannot fork: " + *answer);
  pid_t pid = static_cast<pid_t>(std::atoi(answer->c_str() + 4));
  if (pid <= 1) return make_error(Errc::kIo, "the template answered " + *answer);
  w->template_ = shared_from_this();
  // The child is not reaped before reap_child, so the pid is still this worker's.
  DXPY_TRY_VOID(w->attach(pid));
  return w;
}

Expected<int> Template::reap_child(pid_t pid) {
  DXPY_TRY(auto answer, request("reap " + std::to_string(pid), nullptr, 0));
  if (!starts_with(answer, "status ")) return make_error(Errc::kIo, "the template answered " + answer);
  return std::atoi(answer.c_str() + 7);
}

}  // namespace dxpy::pool
