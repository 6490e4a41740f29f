"""The Python worker's cost per test: 20,000 trivial tests through one real worker over the
shared-memory channel, sent in batches the way the orchestrator sends them.

    .venv/bin/python bench/worker_overhead.py [--tests 20000] [--window 256] [--repeat 3]

Prints, per test:
  wall        end to end through the channel (orchestrator and worker on separate cores;
              the orchestrator side here is Python too, so this is an upper bound)
  worker cpu  the worker process's user + system time over the measured run: what the
              loop (receive, run, capture, restore, send) costs the worker
  in-process  Runner.run alone, in this process, with memfds standing in for fd 1 and 2
and, in-process, what its parts cost (capture, state restore, result building).
"""
import argparse
import fcntl
import os
import statistics
import subprocess
import sys
import tempfile
import time

from dx_py_test_runner import _core
from dx_py_test_runner.worker.capture import Capture
from dx_py_test_runner.worker.runner import Runner

FUNCTIONS = 500  # distinct trivial tests in the module, cycled


def write_module(folder):
    path = os.path.join(folder, "test_trivial.py")
    with open(path, "w") as f:
        for i in range(FUNCTIONS):
            f.write(f"def test_{i}():\n    pass\n")
    cases = []
    for i in range(FUNCTIONS):
        c = _core.TestCase()
        c.id = _core.TestId.parse(f"test_trivial.py::test_{i}")
        c.file = path
        cases.append(c)
    return cases


def spawn(folder):
    channel, fds = _core.OrchestratorChannel.create()
    high = [fcntl.fcntl(int(fd), fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds.split(",")]
    _core.close_channel_fds(fds)
    out = os.memfd_create("bench-stdout", os.MFD_CLOEXEC)
    err = os.memfd_create("bench-stderr", os.MFD_CLOEXEC)

    def place_channel():
        for target, fd in enumerate(high, start=3):
            os.dup2(fd, target)

    env = dict(os.environ, DXPY_CHANNEL_FDS="3,4,5", DXPY_WORKER_ID="1", DXPY_ROOTDIR=folder)
    proc = subprocess.Popen([sys.executable, "-m", "dx_py_test_runner.worker"], cwd=folder, env=env,
                            stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=(3, 4, 5),
                            preexec_fn=place_channel)
    for fd in high:
        os.close(fd)
    pidfd = os.pidfd_open(proc.pid)
    channel.watch(pidfd)
    hello = channel.receive(30_000)
    assert isinstance(hello, _core.HelloMessage), hello
    return channel, proc, (pidfd, out, err)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def through_channel(channel, proc, cases, n, window):
    """Wall seconds and worker CPU seconds for n tests, at most `window` in flight."""
    cpu0 = cpu_seconds(proc.pid)
    t0 = time.perf_counter()
    sent = received = 0
    ncases = len(cases)
    while received < n:
        while sent < n and sent - received < window:
            channel.send_test(sent, cases[sent % ncases])
            sent += 1
        m = channel.receive(30_000)
        assert m is not None and m.sequence == received and m.result.status == _core.TestStatus.passed, m
        received += 1
    wall = time.perf_counter() - t0
    return wall, cpu_seconds(proc.pid) - cpu0


def in_process(cases, n):
    out = os.memfd_create("inproc-stdout", os.MFD_CLOEXEC)
    err = os.memfd_create("inproc-stderr", os.MFD_CLOEXEC)
    runner = Runner(rootdir=os.getcwd(), capture=Capture(4 << 20, fds=(out, err)))
    ncases = len(cases)
    for c in cases:
        runner.run(c)  # imports the module
    timings = {}
    run = runner.run
    t0 = time.perf_counter()
    for i in range(n):
        run(cases[i % ncases])
    timings["Runner.run"] = (time.perf_counter() - t0) / n

    def per_call(fn, *args):
        t = time.perf_counter()
        for _ in range(n):
            fn(*args)
        return (time.perf_counter() - t) / n

    capture, state = runner.capture, runner.state
    timings["  capture.begin + end"] = per_call(lambda: (capture.begin(), capture.end()))
    timings["  state.restore"] = per_call(state.restore)
    module, _ = runner.modules.load(cases[0].file)
    timings["  _call (resolve + call)"] = per_call(runner._call, module, cases[0])

    def build(case=cases[0]):
        r = _core.TestResult()
        r.id = case.id
        r.status = _core.TestStatus.passed
        r.duration_ns = 1000
    timings["  TestResult built"] = per_call(build)
    os.close(out)
    os.close(err)
    return timings


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tests", type=int, default=20_000)
    ap.add_argument("--window", type=int, default=256, help="tests in flight (sent, not answered)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        cases = write_module(folder)
        channel, proc, fds = spawn(folder)
        try:
            through_channel(channel, proc, cases, 2_000, args.window)  # warm up: import, caches
            walls, cpus = [], []
            for _ in range(args.repeat):
                wall, cpu = through_channel(channel, proc, cases, args.tests, args.window)
                walls.append(wall)
                cpus.append(cpu)
            channel.send_shutdown()
            rc = proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            channel.close()
            for fd in fds:
                os.close(fd)
        sys.path.insert(0, folder)
        timings = in_process(cases, args.tests)

    n = args.tests
    print(f"{n} trivial tests through one worker, window {args.window}, median of {args.repeat} "
          f"(Python {sys.version.split()[0]}, {os.cpu_count()} cpus); worker exit code {rc}")
    print(f"  wall         {statistics.median(walls) / n * 1e6:7.2f} us/test"
          f"   ({n / statistics.median(walls):,.0f} tests/s)")
    print(f"  worker cpu   {statistics.median(cpus) / n * 1e6:7.2f} us/test")
    print("in-process:")
    for name, seconds in timings.items():
        print(f"  {name:26s} {seconds * 1e6:7.2f} us")


if __name__ == "__main__":
    main()
