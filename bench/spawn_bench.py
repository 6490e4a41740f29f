#!/usr/bin/env python3
"""Worker start-up: plain spawning against a fork server, side by side (issue 4 asks to
consider a fork server and to measure it against plain spawning).

A worker is ready when its Hello arrives over the shared-memory channel. Measured, per
worker, from the moment the orchestrator side asks for it to that Hello:

  spawn        what dx-py does: fork/exec `python -m dx_py_test_runner.worker` (the venv's
               interpreter), which starts Python, imports the worker and the preloads, reads
               the config and attaches to the channel
  fork server  a prototype: a template process started once has imported the worker and the
               preloads; asked for a worker, it receives the channel's fds (and the two
               output memfds) over a Unix socket (SCM_RIGHTS), forks, and the child puts them
               at fds 1-5 and runs the worker's main() (config, Runner, Hello) as a spawned
               worker would. The template's own start is given apart: it is paid once per run.

Both are measured with no preload and with --preload (default: numpy, a heavy import many
suites' conftests make), REPEAT workers each, one at a time on a quiet machine; the table
gives the median and the ratio. A worker replaced after a crash or a timeout pays this
latency on the critical path; a run's first workers pay it once, in parallel.

    bench/spawn_bench.py [--repeat 20] [--preload numpy]
"""
import argparse
import array
import fcntl
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from dx_py_test_runner import _core

TEMPLATE = r"""
import array, os, signal, socket, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked workers are reaped by the kernel
sock = socket.socket(fileno=int(sys.argv[1]))
from dx_py_test_runner.worker import main as worker_main  # the worker's modules, imported once
from dx_py_test_runner.worker import runner, fixtures, builtin_fixtures, rewrite  # noqa: F401
worker_main._preload(os.environ.get("DXPY_PRELOAD", ""))
sock.send(b"ready")
while True:
    msg, fds, _, _ = socket.recv_fds(sock, 16, 8)
    if not msg:
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the template reaps nothing; tests wait
        sock.close()
        for target, fd in zip((1, 2, 3, 4, 5), fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 5:
                os.close(fd)
        os.environ["DXPY_CHANNEL_FDS"] = "3,4,5"
        os.environ["DXPY_PRELOAD"] = ""  # already imported in the template
        try:
            code = worker_main.main()
        except SystemExit as e:
            code = e.code
        os._exit(code or 0)
    for fd in fds:
        os.close(fd)
    sock.send(str(pid).encode())
"""


def channel_fds():
    channel, fds = _core.OrchestratorChannel.create()
    high = [fcntl.fcntl(int(fd), fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds.split(",")]
    _core.close_channel_fds(fds)
    return channel, high


def wait_hello(channel, pidfd):
    channel.watch(pidfd)
    hello = channel.receive(60_000)
    assert isinstance(hello, _core.HelloMessage), hello


def stop(channel, pid, pidfd):
    try:
        channel.send_shutdown()
    except Exception:  # noqa: BLE001 - gone already
        pass
    select.select([pidfd], [], [], 30)  # readable once the process has exited
    os.close(pidfd)


def spawn_one(folder, env):
    t0 = time.perf_counter()
    channel, high = channel_fds()
    out = os.memfd_create("out", os.MFD_CLOEXEC)
    err = os.memfd_create("err", os.MFD_CLOEXEC)

    def place():
        for target, fd in enumerate(high, start=3):
            os.dup2(fd, target)

    proc = subprocess.Popen([sys.executable, "-m", "dx_py_test_runner.worker"], cwd=folder, env=env,
                            stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=(3, 4, 5), preexec_fn=place)
    for fd in high:
        os.close(fd)
    pidfd = os.pidfd_open(proc.pid)
    try:
        wait_hello(channel, pidfd)
    except _core.ChannelClosed:
        sys.exit("the worker ended before its Hello:\n" + os.pread(err, 1 << 16, 0).decode(errors="replace"))
    took = time.perf_counter() - t0
    stop(channel, proc.pid, pidfd)
    proc.wait()
    os.close(out)
    os.close(err)
    return took


class Template:
    def __init__(self, folder, env):
        t0 = time.perf_counter()
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen([sys.executable, "-c", TEMPLATE, str(child.fileno())], cwd=folder, env=env,
                                     stdin=subprocess.DEVNULL, pass_fds=(child.fileno(),))
        child.close()
        assert self.sock.recv(16) == b"ready"
        self.start = time.perf_counter() - t0

    def fork_one(self):
        t0 = time.perf_counter()
        channel, high = channel_fds()
        out = os.memfd_create("out", os.MFD_CLOEXEC)
        err = os.memfd_create("err", os.MFD_CLOEXEC)
        socket.send_fds(self.sock, [b"go"], [out, err, *high])
        pid = int(self.sock.recv(32))
        for fd in high:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        wait_hello(channel, pidfd)
        took = time.perf_counter() - t0
        stop(channel, pid, pidfd)
        os.close(out)
        os.close(err)
        return took

    def close(self):
        self.sock.send(b"")
        self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--preload", default="numpy")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for preload in ("", args.preload):
            env = dict(os.environ, DXPY_CHANNEL_FDS="3,4,5", DXPY_WORKER_ID="1", DXPY_ROOTDIR=folder,
                       DXPY_PRELOAD=preload)
            env.pop("DXPY_CONFIG", None)
            spawned = [spawn_one(folder, env) for _ in range(args.repeat)]
            template = Template(folder, env)
            try:
                forked = [template.fork_one() for _ in range(args.repeat)]
            finally:
                template.close()
            rows.append((preload or "(none)", statistics.median(spawned), statistics.median(forked), template.start))
    print(f"worker start-up to Hello, median of {args.repeat} (Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus)")
    print(f"| preload | spawn | fork server | spawn / fork server | template start (once per run) |")
    print(f"|---|---:|---:|---:|---:|")
    for preload, s, f, t in rows:
        print(f"| {preload} | {s * 1000:.1f} ms | {f * 1000:.1f} ms | {s / f:.1f}x | {t * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
