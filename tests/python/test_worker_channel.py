"""The real worker (`python -m dx_py_test_runner.worker`) driven over the shared-memory
channel, as the orchestrator drives it: fd 1 and 2 are memfds, fd 3, 4, 5 the channel."""
import fcntl
import os
import platform
import signal
import struct
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dx_py_test_runner import _core

S = _core.TestStatus
RECEIVE_MS = 20_000  # generous: a loaded CI machine may be slow to start Python


class Worker:
    """A worker process and the orchestrator's end of its channel."""

    def __init__(self, cwd, env=None, ring_bytes=_core.DEFAULT_RING_BYTES):
        self.channel, fds = _core.OrchestratorChannel.create(ring_bytes=ring_bytes)
        # Out of the way of 3, 4, 5 first, so the dup2()s in the child cannot clobber them.
        high = [fcntl.fcntl(int(fd), fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds.split(",")]
        _core.close_channel_fds(fds)
        self.out = os.memfd_create("worker-stdout", os.MFD_CLOEXEC)
        self.err = os.memfd_create("worker-stderr", os.MFD_CLOEXEC)

        def place_channel():  # between fork and exec
            for target, fd in enumerate(high, start=3):
                os.dup2(fd, target)

        full_env = dict(os.environ, DXPY_CHANNEL_FDS="3,4,5", DXPY_WORKER_ID="7", DXPY_ROOTDIR=str(cwd))
        full_env.pop("DXPY_PRELOAD", None)
        full_env.update(env or {})
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dx_py_test_runner.worker"], cwd=cwd, env=full_env,
                stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err,
                pass_fds=(3, 4, 5), preexec_fn=place_channel)
        finally:
            for fd in high:
                os.close(fd)
        self.pidfd = os.pidfd_open(self.process.pid)
        self.channel.watch(self.pidfd)  # a grandchild holding the sockets cannot hide its death
        self.hello = self.channel.receive(RECEIVE_MS)
        self.sequence = 100

    def send(self, case, **kw):
        self.sequence += 1
        self.channel.send_test(self.sequence, case, worker_id=7, **kw)
        return self.sequence

    def receive(self):
        m = self.channel.receive(RECEIVE_MS)
        assert m is not None, "no message within the time limit"
        return m

    def run(self, *cases):
        """Sends all of them as one batch; their result messages, in order."""
        sequences = [self.send(c) for c in cases]
        messages = [self.receive() for _ in cases]
        assert [m.sequence for m in messages] == sequences
        return messages

    def stderr_text(self):
        return os.pread(self.err, os.fstat(self.err).st_size, 0).decode("utf-8", "replace")

    def drain(self):
        """Every message until the worker is gone."""
        got = []
        while True:
            try:
                m = self.channel.receive(RECEIVE_MS)
            except _core.ChannelClosed:
                return got
            assert m is not None, "the worker neither answered nor went away"
            got.append(m)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.channel.close()
        for fd in (self.pidfd, self.out, self.err):
            os.close(fd)


def case(path, name, classes=(), markers=()):
    c = _core.TestCase()
    tid = _core.TestId()
    tid.path, tid.classes, tid.name = path.name, list(classes), name
    c.id = tid
    c.file = str(path)
    c.markers = list(markers)
    return c


def marker(name, *args, **kwargs):
    m = _core.Marker()
    m.name, m.args, m.kwargs = name, list(args), [(k, repr(v)) for k, v in kwargs.items()]
    return m


def write(folder, name, source):
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def spawn(tmp_path):
    workers = []

    def make(**kw):
        w = Worker(tmp_path, **kw)
        workers.append(w)
        return w

    yield make
    for w in workers:
        w.close()


# --- the binding, both ends in this process ----------------------------------------------

def test_both_ends_in_one_process_carry_every_field():
    orch, fds = _core.OrchestratorChannel.create(ring_bytes=64 << 10)
    worker = _core.WorkerChannel.attach(fds)  # takes the descriptors over
    assert worker.receive(0) is None and orch.receive(0) is None
    c = _core.TestCase()
    c.id = _core.TestId.parse("tests/test_a.py::TestC::test_x[1]")
    c.file, c.line, c.markers = "/abs/tests/test_a.py", 12, [marker("slow")]
    c.kind = _core.TestKind.method
    orch.send_test(2**64 - 2, c, timeout_ms=1500, worker_id=3, last_of_module=True, attempt=2)
    orch.send_shutdown(grace_ms=250, interrupted=True)
    t = worker.receive()
    assert isinstance(t, _core.TestMessage)
    assert (t.sequence, t.timeout_ms, t.worker_id, t.attempt, t.last_of_module) == (2**64 - 2, 1500, 3, 2, True)
    assert (t.test.id.node_id, t.test.file, t.test.line, t.test.kind) == (c.id.node_id, c.file, 12, c.kind)
    assert [m.name for m in t.test.markers] == ["slow"]
    sd = worker.receive()
    assert isinstance(sd, _core.ShutdownMessage) and (sd.grace_ms, sd.interrupted) == (250, True)

    worker.send_hello(1234, 3, "3.11.7")
    r = _core.TestResult()
    r.id, r.status, r.duration_ns, r.stdout = c.id, S.failed, 99, "é" * 20000  # larger than a ring record (half the ring)
    worker.send_result(2**64 - 2, 3, r, True)
    h = orch.receive(1000)
    assert (h.pid, h.worker_id, h.python_version) == (1234, 3, "3.11.7")
    m = orch.receive(1000)
    assert (m.sequence, m.worker_id, m.output_truncated) == (2**64 - 2, 3, True)
    assert (m.result.id.node_id, m.result.status, m.result.duration_ns, m.result.stdout) == (
        c.id.node_id, S.failed, 99, "é" * 20000)

    orch.send_raw(b"DXPM" + bytes([_core.PROTOCOL_VERSION]) + b"\x02garbage")
    with pytest.raises(_core.ProtocolError, match="."):
        worker.receive(1000)
    orch.close()
    assert orch.closed
    with pytest.raises(_core.ChannelClosed):
        worker.receive(1000)
    with pytest.raises(_core.ChannelClosed):
        orch.send_shutdown()
    assert issubclass(_core.ChannelClosed, ConnectionError) and issubclass(_core.ProtocolError, ValueError)


def test_bad_descriptor_strings_are_protocol_errors():
    for text in ("", "3,4", "3,4,5,6", "a,b,c", "-1,4,5"):
        with pytest.raises(_core.ProtocolError, match="bad channel descriptors"):
            _core.WorkerChannel.attach(text)


# --- start, results, stop ----------------------------------------------------------------

def test_hello_names_the_process_and_the_interpreter(spawn):
    w = spawn()
    assert isinstance(w.hello, _core.HelloMessage)
    assert (w.hello.pid, w.hello.worker_id) == (w.process.pid, 7)
    assert w.hello.python_version == platform.python_version()


def test_a_batch_gives_one_result_per_test_in_order_with_the_sequence_echoed(spawn, tmp_path):
    mod = write(tmp_path, "test_outcomes.py", """
        import unittest
        def test_pass(): pass
        def test_fail():
            x = 1
            assert x == 2
        def test_error(): raise KeyError("k")
        def test_skip_raised(): raise unittest.SkipTest("not today")
        def test_skip_marked(): raise AssertionError("never runs")
        def test_xfail(): assert False
        class TestC:
            def test_method(self): pass
    """)
    w = spawn()
    msgs = w.run(case(mod, "test_pass"), case(mod, "test_fail"), case(mod, "test_error"),
                 case(mod, "test_skip_raised"), case(mod, "test_skip_marked", markers=[marker("skip", reason="r")]),
                 case(mod, "test_xfail", markers=[marker("xfail")]), case(mod, "test_method", classes=["TestC"]))
    got = [(m.result.id.name, m.result.status, m.result.message, m.result.assertions.failed) for m in msgs]
    assert got == [
        ("test_pass", S.passed, "", 0),
        ("test_fail", S.failed, "assert 1 == 2", 1),  # rewritten: the values, as pytest shows them
        ("test_error", S.failed, "KeyError: 'k'", 0),
        ("test_skip_raised", S.skipped, "not today", 0),
        ("test_skip_marked", S.skipped, "r", 0),
        ("test_xfail", S.xfailed, "", 1),
        ("test_method", S.passed, "", 0),
    ]
    assert all(m.worker_id == 7 and not m.output_truncated for m in msgs)
    assert "KeyError" in msgs[2].result.traceback
    assert msgs[0].result.duration_ns > 0
    assert msgs[6].result.id.classes == ["TestC"]


def test_keyboard_interrupt_and_system_exit_are_failures_not_the_end(spawn, tmp_path):
    mod = write(tmp_path, "test_exits.py", """
        import sys
        def test_interrupt(): raise KeyboardInterrupt
        def test_exit(): sys.exit(3)
        def test_after(): pass
    """)
    w = spawn()
    msgs = w.run(case(mod, "test_interrupt"), case(mod, "test_exit"), case(mod, "test_after"))
    assert [(m.result.status, m.result.message) for m in msgs] == [
        (S.failed, "KeyboardInterrupt"), (S.failed, "SystemExit: 3"), (S.passed, "")]


def test_shutdown_ends_the_worker_with_exit_code_0(spawn, tmp_path):
    mod = write(tmp_path, "test_one.py", "def test_ok(): pass\n")
    w = spawn()
    [msg] = w.run(case(mod, "test_ok"))
    w.channel.send_shutdown(grace_ms=1000)
    assert w.process.wait(RECEIVE_MS) == 0
    assert w.drain() == []
    assert w.stderr_text() == ""


def test_the_worker_exits_quietly_when_the_orchestrator_closes_its_end(spawn):
    w = spawn()
    w.channel.close()
    assert w.process.wait(RECEIVE_MS) == 0
    assert w.stderr_text() == ""


def test_an_unexpected_message_type_is_a_warning_and_ignored(spawn, tmp_path):
    mod = write(tmp_path, "test_one.py", "def test_ok(): pass\n")
    w = spawn()
    text = b"hi"
    payload = bytes([len(text)]) + text  # a LEB128-prefixed string
    header = struct.pack("<BBHI BBHQ", _core.PROTOCOL_VERSION, 5, 0, len(payload), 2, 0, 0, 2**64 - 1)
    log = b"DXPM" + header + payload
    w.channel.send_raw(log)
    [msg] = w.run(case(mod, "test_ok"))
    assert msg.result.status == S.passed
    # The worker's warnings travel with the next result, apart from the test's own output.
    assert "ignoring an unexpected message: 'log'" in msg.result.worker_warnings
    assert "ignoring an unexpected message" not in msg.result.stderr


def test_a_malformed_message_ends_the_worker_and_says_why(spawn):
    w = spawn()
    w.channel.send_raw(b"DXPM" + bytes([_core.PROTOCOL_VERSION]) + b"\x02garbage")
    assert w.process.wait(RECEIVE_MS) == 3
    assert "protocol error (malformed message or corrupt channel)" in w.stderr_text()


def test_preloads_are_imported_and_a_failing_one_is_a_warning(spawn, tmp_path):
    write(tmp_path, "preloaded.py", "import os\nos.environ['PRELOADED'] = '1'\n")
    mod = write(tmp_path, "test_pre.py", """
        import os, sys
        def test_sees_preload():
            assert "preloaded" in sys.modules and os.environ["PRELOADED"] == "1"
    """)
    w = spawn(env={"DXPY_PRELOAD": "preloaded,no_such_module_dxpy"})
    assert isinstance(w.hello, _core.HelloMessage)
    [msg] = w.run(case(mod, "test_sees_preload"))
    assert msg.result.status == S.passed, msg.result.message
    warnings = list(msg.result.worker_warnings)
    assert any("cannot preload 'no_such_module_dxpy'" in v for v in warnings), warnings
    assert "cannot preload" not in msg.result.stderr


def test_a_segfault_leaves_its_traceback_in_the_stderr_file(spawn, tmp_path):
    mod = write(tmp_path, "test_crash.py", """
        import ctypes
        def test_segv(): ctypes.string_at(0)
    """)
    w = spawn()
    w.send(case(mod, "test_segv"))
    assert w.drain() == []
    assert w.process.wait(RECEIVE_MS) == -signal.SIGSEGV
    err = w.stderr_text()
    assert "Segmentation fault" in err and "test_crash.py" in err


# --- capture -----------------------------------------------------------------------------

def test_output_is_captured_per_test_and_does_not_leak_into_the_next(spawn, tmp_path):
    mod = write(tmp_path, "test_out.py", """
        import os, subprocess, sys
        def test_noisy():
            print("py out")
            print("py err", file=sys.stderr)
            sys.stdout.write("unflushed")
            os.write(1, b"fd out\\n")
            subprocess.run(["sh", "-c", "echo child out; echo child err >&2"], check=True)
        def test_quiet(): pass
    """)
    w = spawn()
    noisy, quiet = w.run(case(mod, "test_noisy"), case(mod, "test_quiet"))
    out = noisy.result.stdout
    for piece in ("py out\n", "unflushed", "fd out\n", "child out\n"):
        assert piece in out
    assert noisy.result.stderr == "py err\nchild err\n"
    assert (quiet.result.stdout, quiet.result.stderr) == ("", "")
    assert os.fstat(w.out).st_size == 0 and os.fstat(w.err).st_size == 0


def test_20_mb_of_output_is_cut_to_the_limit_and_flagged(spawn, tmp_path):
    mod = write(tmp_path, "test_big.py", """
        import sys
        def test_big():
            sys.stdout.write("".join(f"{i:09d}\\n" for i in range(2_000_000)))
        def test_next(): print("small")
    """)
    w = spawn()
    big, nxt = w.run(case(mod, "test_big"), case(mod, "test_next"))
    data = "".join(f"{i:09d}\n" for i in range(2_000_000))
    limit = 4 << 20
    assert big.output_truncated
    assert big.result.stdout == (data[:limit // 2] + f"\n[... {len(data) - limit} bytes of output not kept ...]\n"
                                 + data[-(limit // 2):])
    assert (nxt.result.stdout, nxt.output_truncated) == ("small\n", False)


def test_the_limit_comes_from_dxpy_max_output(spawn, tmp_path):
    mod = write(tmp_path, "test_lim.py", "def test_p(): print('a' * 99, end='')\n")
    w = spawn(env={"DXPY_MAX_OUTPUT": "10"})
    [msg] = w.run(case(mod, "test_p"))
    assert msg.output_truncated
    assert msg.result.stdout == "aaaaa\n[... 89 bytes of output not kept ...]\naaaaa"


def test_a_closed_or_replaced_stdout_or_stderr_is_put_back(spawn, tmp_path):
    mod = write(tmp_path, "test_fds.py", """
        import os, sys
        def test_close_stdout():
            print("said before closing", flush=True)
            os.close(1)
        def test_replace_stderr():
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        def test_after():
            print("out")
            os.write(2, b"err")
    """)
    w = spawn()
    closed, replaced, after = w.run(case(mod, "test_close_stdout"), case(mod, "test_replace_stderr"),
                                    case(mod, "test_after"))
    assert (closed.result.status, closed.result.stdout) == (S.passed, "said before closing\n")
    assert replaced.result.status == S.passed
    assert (after.result.stdout, after.result.stderr) == ("out\n", "err")


@pytest.fixture(scope="module")
def echo_worker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("echo")
    mod = write(folder, "test_echo.py", """
        import os, sys
        DATA = os.path.join(os.path.dirname(__file__), "data.txt")
        def _data():
            with open(DATA, encoding="utf-8", newline="") as f:
                return f.read()
        def test_stdout(): sys.stdout.write(_data())
        def test_stderr(): sys.stderr.write(_data())
        def test_fd1(): os.write(1, _data().encode())
    """)
    w = Worker(folder, env={"DXPY_MAX_OUTPUT": str(4 << 10)})
    yield w, mod, 4 << 10
    w.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=300),
       size=st.integers(0, 3 * (4 << 10)), how=st.sampled_from(["test_stdout", "test_stderr", "test_fd1"]))
def test_output_round_trips_exactly_under_the_limit_and_is_cut_above_it(echo_worker, text, size, how):
    w, mod, limit = echo_worker
    data = (text * (size // len(text) + 1))[:size]  # `size` characters: 1 to 4 bytes each
    (mod.parent / "data.txt").write_text(data, encoding="utf-8", newline="")
    [msg] = w.run(case(mod, how))
    got, other = (msg.result.stderr, msg.result.stdout) if how == "test_stderr" else (msg.result.stdout,
                                                                                     msg.result.stderr)
    assert msg.result.status == S.passed and other == ""
    raw = data.encode()
    event("cut" if len(raw) > limit else "whole")
    if len(raw) <= limit:
        assert (got, msg.output_truncated) == (data, False)
    else:
        half = limit // 2
        marker_line = f"\n[... {len(raw) - limit} bytes of output not kept ...]\n"
        assert msg.output_truncated
        assert got == raw[:half].decode("utf-8", "replace") + marker_line + raw[-half:].decode("utf-8", "replace")


# --- what a test leaves behind -----------------------------------------------------------

def test_state_a_test_changes_is_restored_before_the_next(spawn, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    mod = write(tmp_path, "test_state.py", """
        import io, os, signal, sys
        os.environ["SET_AT_IMPORT"] = "kept"
        sys.path.insert(0, "/inserted/at/import")
        SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGCHLD, signal.SIGHUP,
                   signal.SIGUSR1, signal.SIGUSR2, signal.SIGPIPE]
        START = (os.getcwd(), dict(os.environ), list(sys.path), sys.stdout, sys.stderr,
                 [signal.getsignal(s) for s in SIGNALS])

        def test_mess_up():
            os.chdir("elsewhere")
            os.environ["ADDED_BY_TEST"] = "1"
            del os.environ["DXPY_TEST_REMOVE_ME"]
            os.environ["DXPY_TEST_CHANGE_ME"] = "changed"
            sys.path.insert(0, "/added/by/test")
            sys.path.remove("/inserted/at/import")
            sys.stdout = io.StringIO()
            sys.stderr = io.StringIO()
            for s in SIGNALS:
                signal.signal(s, lambda *a: None)
            signal.setitimer(signal.ITIMER_REAL, 0.2)

        def test_all_back():
            now = (os.getcwd(), dict(os.environ), list(sys.path), sys.stdout, sys.stderr,
                   [signal.getsignal(s) for s in SIGNALS])
            for name, a, b in zip(["cwd", "environ", "sys.path", "stdout", "stderr", "signals"], now, START):
                assert a == b, name
            assert os.getenv("DXPY_TEST_REMOVE_ME") == "here"  # the C-level environment too
            assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
            assert os.environ["SET_AT_IMPORT"] == "kept" and sys.path[0] == "/inserted/at/import"
    """)
    w = spawn(env={"DXPY_TEST_REMOVE_ME": "here", "DXPY_TEST_CHANGE_ME": "original"})
    mess, back = w.run(case(mod, "test_mess_up"), case(mod, "test_all_back"))
    assert mess.result.status == S.passed, mess.result.traceback
    assert back.result.status == S.passed, back.result.message
    # The child process sees the restored environment as well.
    child = write(tmp_path, "test_child_env.py", """
        import subprocess
        def test_env_of_child():
            out = subprocess.run(["sh", "-c", "echo $DXPY_TEST_REMOVE_ME $ADDED_BY_TEST"],
                                 capture_output=True, text=True).stdout
            assert out == "here\\n", out
    """)
    [msg] = w.run(case(child, "test_env_of_child"))
    assert msg.result.status == S.passed, msg.result.message


@pytest.mark.parametrize("child_does", ["return", "raise SystemExit(5)", "raise ValueError('in child')"])
def test_a_test_that_forks_gives_exactly_one_result(spawn, tmp_path, child_does):
    mod = write(tmp_path, "test_fork.py", f"""
        import os
        def test_fork():
            print("before fork")
            pid = os.fork()
            if pid == 0:
                print("in child")
                {child_does}
            _, status = os.waitpid(pid, 0)
            assert status == 0, status
            print("parent done")
        def test_after(): print("after")
    """)
    w = spawn()
    fork, after = w.run(case(mod, "test_fork"), case(mod, "test_after"))
    assert fork.result.status == S.passed, fork.result.message
    # Once each: the child's copy of the stdout buffer went with it (under PYTHONUNBUFFERED
    # its print went straight to the file, which is the test's output too).
    assert fork.result.stdout.replace("in child\n", "") == "before fork\nparent done\n"
    assert after.result.stdout == "after\n"
    w.channel.send_shutdown()
    assert w.drain() == []  # nothing more: the child sent nothing
    assert w.process.wait(RECEIVE_MS) == 0
