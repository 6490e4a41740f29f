"""`dx-py test --watch` driven in a pseudo-terminal: edits, keys, syntax errors, stale
modules, and what is left after q or a signal.

Every wait is for a line of output, with a timeout; nothing asserts on time."""
import os
import pty
import re
import signal
import subprocess
import textwrap
import threading
import time

import pytest

from conftest import DX_PY

WAITING = "dx-py watch: waiting for changes"
TIMEOUT = 30


class Watch:
    """dx-py test --watch in a pty: its output read by a thread, keys written to it."""

    def __init__(self, root, *args, env=None):
        self.root = root
        master, slave = pty.openpty()
        env = dict(os.environ, NO_COLOR="1", **(env or {}))
        env.pop("PYTEST_ADDOPTS", None)
        self.proc = subprocess.Popen([DX_PY, "test", "--watch", "-v", *args], cwd=root, stdin=slave, stdout=slave,
                                     stderr=slave, env=env, start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.text = ""
        self.mark = 0  # expect() looks after this point
        self.lock = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            with self.lock:
                if not data:
                    self.closed = True
                    self.lock.notify_all()
                    return
                self.text += data.decode(errors="replace").replace("\r\n", "\n")
                self.lock.notify_all()

    closed = False

    def expect(self, pattern, timeout=TIMEOUT):
        """Waits for `pattern` (a regex) after the mark; returns the output from the mark to
        the end of the match and moves the mark there."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                m = rx.search(self.text, self.mark)
                if m:
                    chunk = self.text[self.mark:m.end()]
                    self.mark = m.end()
                    return chunk
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(f"no {pattern!r} in the output after {timeout}s; "
                                         f"since the mark:\n{self.text[self.mark:]}")
                self.lock.wait(min(left, 0.5))

    def round(self):
        """The output of the next round, up to the waiting line that ends it."""
        return self.expect(re.escape(WAITING))

    def keys(self, s):
        os.write(self.master, s.encode())

    def write(self, rel, text):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))

    def wait_exit(self, timeout=TIMEOUT):
        code = self.proc.wait(timeout)
        self.reader.join(5)
        os.close(self.master)
        return code

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def processes_in(folder):
    """The pids of live processes whose working folder is `folder` (the run and its workers)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{pid}/cwd") == str(folder):
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        pids.append(int(pid))
        except OSError:
            pass
    return pids


def no_processes_left(folder, timeout=10):
    end = time.monotonic() + timeout
    while processes_in(folder) and time.monotonic() < end:
        time.sleep(0.05)
    return processes_in(folder) == []


HELPER = "def value():\n    return 1\n"
FILES = {
    "helper.py": HELPER,
    "test_helper.py": "from helper import value\n\n\ndef test_value():\n    assert value() == 1\n",
    "test_other.py": "def test_other():\n    pass\n\n\ndef test_named_alpha():\n    pass\n",
}


@pytest.fixture
def watch(tmp_path):
    for rel, text in FILES.items():
        (tmp_path / rel).write_text(text)
    started = []

    def start(*args, env=None):
        w = Watch(tmp_path, *args, env=env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()


def test_first_round_runs_everything_then_an_edit_runs_what_it_affects(watch):
    w = watch()
    first = w.round()
    assert "dx-py watch: all tests" in first
    assert "test_helper.py::test_value PASSED" in first
    assert "test_other.py::test_other PASSED" in first
    assert "3 passed" in first
    w.write("test_other.py", "def test_other():\n    pass\n\n\ndef test_new():\n    pass\n")
    r = w.round()
    assert "1 file changed: test_other.py" in r
    assert "test_other.py::test_new PASSED" in r
    assert "test_helper.py" not in r.split("1 file changed", 1)[1]
    assert "2 passed" in r and "1 deselected" in r
    w.keys("q")
    assert w.wait_exit() == 0


def test_a_changed_helper_module_never_runs_stale(watch, tmp_path):
    w = watch()
    w.round()
    # Same size, same second: only a fresh import sees the new value.
    w.write("helper.py", "def value():\n    return 2\n")
    r = w.round()
    assert "1 file changed: helper.py" in r
    assert "test_helper.py::test_value FAILED" in r
    assert "assert 2 == 1" in r
    assert "test_other.py" not in r.split("1 file changed", 1)[1]
    w.write("helper.py", HELPER)
    r = w.round()
    assert "test_helper.py::test_value PASSED" in r
    w.write("helper.py", "def value():\n    return 3\n")
    assert "assert 3 == 1" in w.round()
    w.keys("q")
    assert w.wait_exit() == 0


def test_keys_all_failed_patterns_rerun_and_quit(watch):
    w = watch()
    w.round()
    w.write("helper.py", "def value():\n    return 2\n")
    assert "1 failed" in w.round()
    # f: the last failures only.
    w.keys("f")
    r = w.round()
    assert "dx-py watch: the last failures" in r
    assert "test_helper.py::test_value FAILED" in r and "test_other.py::" not in r
    # t: a -k expression.
    w.keys("t")
    w.keys("alpha\r")
    r = w.round()
    assert "-k alpha" in r
    assert "test_other.py::test_named_alpha PASSED" in r
    assert "test_other.py::test_other " not in r and "test_helper.py::" not in r
    # Enter: the same round again.
    w.keys("\r")
    r = w.round()
    assert "dx-py watch: again" in r and "test_other.py::test_named_alpha PASSED" in r
    assert "test_helper.py::" not in r
    # p: a file pattern (the -k pattern stays until a clears it).
    w.keys("ptest_helper\r")
    r = w.round()
    assert "files test_helper" in r
    assert "no tests ran" in r or "deselected" in r  # -k alpha matches nothing in test_helper.py
    w.keys("t\r")  # an empty pattern clears -k
    r = w.round()
    assert "test_helper.py::test_value FAILED" in r and "test_other.py::" not in r
    # a: everything, filters cleared.
    w.keys("a")
    r = w.round()
    assert "dx-py watch: all tests" in r
    assert "test_other.py::test_other PASSED" in r and "test_helper.py::test_value FAILED" in r
    # u: the round again, writing new and changed snapshots (-u).
    w.keys("u")
    r = w.round()
    assert "dx-py watch: again, updating snapshots" in r and "test_helper.py::test_value FAILED" in r
    w.keys("h")
    assert "keys: a all tests" in w.expect("keys: .*q quit")
    w.keys("q")
    assert w.wait_exit() == 0


def test_a_syntax_error_is_a_collection_error_and_the_watch_goes_on(watch):
    w = watch()
    w.round()
    w.write("test_other.py", "def test_other(:\n    pass\n")
    r = w.round()
    assert "ERROR collecting test_other.py" in r
    assert "test_other.py:1: " in r  # where the syntax error is
    w.write("test_other.py", "def test_other():\n    pass\n")
    r = w.round()
    assert "test_other.py::test_other PASSED" in r
    assert "ERROR" not in r.split("1 file changed", 1)[1] and " error" not in r.split("1 file changed", 1)[1]
    w.keys("q")
    assert w.wait_exit() == 0


def test_new_folders_are_watched_and_caches_ignored(watch, tmp_path):
    w = watch()
    w.round()
    w.write("pkg/sub/test_deep.py", "def test_deep():\n    pass\n")
    r = w.round()
    assert "test_deep.py::test_deep PASSED" in r
    w.write("pkg/sub/test_deep.py", "def test_deep():\n    pass\n\n\ndef test_deeper():\n    pass\n")
    r = w.round()
    assert "1 file changed: pkg/sub/test_deep.py" in r
    assert "test_deep.py::test_deeper PASSED" in r
    # Caches, editor files and non-Python files start no round; the next edit's round shows
    # only that edit.
    (tmp_path / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "__pycache__" / "x.py").write_text("x = 1\n")
    (tmp_path / ".test_other.py.swp").write_text("swap")
    (tmp_path / "4913").write_text("")
    (tmp_path / "notes.txt").write_text("hello")
    w.write("test_other.py", "def test_other():\n    pass\n")
    r = w.round()
    assert "1 file changed: test_other.py" in r
    w.keys("q")
    assert w.wait_exit() == 0


def test_sigint_between_rounds_leaves_nothing(watch, tmp_path):
    w = watch()
    w.round()
    w.proc.send_signal(signal.SIGINT)
    assert w.wait_exit() == 2
    assert no_processes_left(tmp_path)


def test_sigint_during_a_round_stops_the_workers(watch, tmp_path):
    w = watch()
    w.round()
    w.write("test_slow.py", "import time\n\n\ndef test_slow():\n    time.sleep(60)\n")
    w.expect("1 file changed: test_slow.py")
    # The worker runs the test: its process has the project as working folder.
    end = time.monotonic() + TIMEOUT
    while len(processes_in(tmp_path)) < 2 and time.monotonic() < end:
        time.sleep(0.05)
    w.proc.send_signal(signal.SIGINT)
    assert w.wait_exit() == 2
    assert "KeyboardInterrupt" in w.text
    assert no_processes_left(tmp_path)


def test_ctrl_c_at_the_terminal_quits_and_restores_it(tmp_path):
    """Ctrl-C typed at the terminal (the pty's line discipline sends SIGINT to the
    foreground group), and the terminal's mode is back afterwards."""
    for rel, text in FILES.items():
        (tmp_path / rel).write_text(text)
    master, slave = pty.openpty()
    import termios
    before = termios.tcgetattr(slave)

    def child_setup():
        os.setsid()
        import fcntl
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen([DX_PY, "test", "--watch"], cwd=tmp_path, stdin=slave, stdout=slave, stderr=slave,
                            env=env, preexec_fn=child_setup)
    out = b""
    end = time.monotonic() + TIMEOUT
    while WAITING.encode() not in out and time.monotonic() < end:
        out += os.read(master, 65536)
    assert WAITING.encode() in out
    during = termios.tcgetattr(slave)
    assert not during[3] & termios.ICANON and not during[3] & termios.ECHO
    os.write(master, b"\x03")
    assert proc.wait(TIMEOUT) == 2
    after = termios.tcgetattr(slave)
    assert after[3] == before[3]
    os.close(master)
    os.close(slave)
    assert no_processes_left(tmp_path)


def test_watch_with_collect_only_is_a_usage_error(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    r = project.run("--watch", "--collect-only")
    assert r.code == 4
    assert "--watch" in r.err


def test_a_module_a_conftest_imports_is_not_run_stale(watch, tmp_path):
    """Warm workers have imported the conftests (and what they import): a change there
    must reach the next round too."""
    (tmp_path / "conftest.py").write_text(
        "import pytest\nfrom helper import value\n\n\n@pytest.fixture\ndef v():\n    return value()\n")
    (tmp_path / "test_fixture.py").write_text("def test_v(v):\n    assert v == 1\n")
    w = watch()
    assert "test_fixture.py::test_v PASSED" in w.round()
    w.write("helper.py", "def value():\n    return 5\n")
    r = w.round()
    assert "test_fixture.py::test_v FAILED" in r and "assert 5 == 1" in r
    w.write("conftest.py", "import pytest\n\n\n@pytest.fixture\ndef v():\n    return 1\n")
    r = w.round()
    assert "test_fixture.py::test_v PASSED" in r
    w.keys("q")
    assert w.wait_exit() == 0
    assert no_processes_left(tmp_path)


# Forked workers (pool/template.h): after the first round a template process holds the
# runtime and what the conftests import from outside the project; a change that reaches the
# conftests restarts the warm workers as forks of it.

WHERE = """
import os
import sys


def record():
    with open(os.environ["WHERE_LOG"], "a") as f:
        f.write(f"{os.getpid()} {os.getppid()} {os.environ['DXPY_ORCHESTRATOR_PID']}\\n")
"""


def parents(log):
    """(worker pid, its parent, orchestrator) per recorded test run."""
    return [tuple(int(x) for x in line.split()) for line in log.read_text().splitlines()]


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


def test_a_change_to_what_the_conftest_imports_runs_in_a_worker_forked_from_the_template(watch, tmp_path):
    log = tmp_path / "where.log"
    (tmp_path / "where.py").write_text(WHERE)
    (tmp_path / "conftest.py").write_text("import pytest\nfrom helper import value\n")
    (tmp_path / "test_where.py").write_text("from where import record\n\n\ndef test_where():\n    record()\n")
    w = watch("test_where.py", env={"WHERE_LOG": str(log)})
    assert "test_where.py::test_where PASSED" in w.round()
    (worker, parent, orchestrator), = parents(log)
    assert parent == orchestrator  # the first round's workers are spawned
    w.write("helper.py", "def value():\n    return 2\n")
    r = w.round()
    assert "test_where.py::test_where PASSED" in r
    worker2, parent2, orchestrator2 = parents(log)[-1]
    assert orchestrator2 == orchestrator and worker2 != worker
    # Forked: its parent is the template, a child of the orchestrator, alive between rounds.
    assert parent2 != orchestrator
    assert "dx_py_test_runner.worker" in cmdline(parent2)
    with open(f"/proc/{parent2}/stat") as f:
        assert int(f.read().rsplit(")", 1)[1].split()[1]) == orchestrator
    w.keys("q")
    assert w.wait_exit() == 0
    assert no_processes_left(tmp_path)


def test_a_crash_in_a_forked_worker_is_a_crash_result_with_its_signal(watch, tmp_path):
    log = tmp_path / "where.log"
    (tmp_path / "where.py").write_text(WHERE)
    (tmp_path / "conftest.py").write_text("import pytest\nfrom helper import value\n")
    (tmp_path / "test_crash.py").write_text(
        "import os\nimport signal\n\nfrom helper import value\nfrom where import record\n\n\n"
        "def test_crash():\n    record()\n    if value() == 2:\n        os.kill(os.getpid(), signal.SIGSEGV)\n\n\n"
        "def test_after():\n    pass\n")
    w = watch("test_crash.py", env={"WHERE_LOG": str(log)})
    assert "2 passed" in w.round()
    w.write("helper.py", "def value():\n    return 2\n")
    r = w.round()
    assert "test_crash.py::test_crash CRASHED" in r
    assert "CRASHED test_crash.py::test_crash - worker crashed while running this test: signal 11 (SIGSEGV)" in r
    assert "test_crash.py::test_after PASSED" in r
    _, parent, orchestrator = parents(log)[-1]
    assert parent != orchestrator  # it was a forked worker that crashed
    w.write("helper.py", HELPER)
    r = w.round()
    assert "test_crash.py::test_crash PASSED" in r
    w.keys("q")
    assert w.wait_exit() == 0
    assert no_processes_left(tmp_path)


def test_an_edit_to_a_module_the_template_preloaded_is_seen(watch, tmp_path):
    """vendor/ is on PYTHONPATH, not on the graph's search path: `vendlib` is external to
    the graph, so the template preloads it, and reports it as a file under the rootdir it
    holds; an edit to it must start a new template (and new warm workers)."""
    log = tmp_path / "where.log"
    (tmp_path / "where.py").write_text(WHERE)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "vendlib.py").write_text("VALUE = 1\n")
    (tmp_path / "conftest.py").write_text("import pytest\nimport vendlib\nfrom helper import value\n")
    (tmp_path / "test_vend.py").write_text(
        "import vendlib\nfrom where import record\n\n\ndef test_vend():\n    record()\n    assert vendlib.VALUE == 2\n")
    w = watch("test_vend.py", env={"WHERE_LOG": str(log), "PYTHONPATH": str(tmp_path / "vendor")})
    assert "test_vend.py::test_vend FAILED" in w.round()
    w.write("helper.py", "def value():\n    return 2\n")  # the next workers are forks
    r = w.round()
    assert "test_vend.py::test_vend FAILED" in r and "assert 1 == 2" in r
    _, parent, orchestrator = parents(log)[-1]
    assert parent != orchestrator
    w.write("vendor/vendlib.py", "VALUE = 2\n")
    r = w.round()
    assert "test_vend.py::test_vend PASSED" in r
    _, parent2, _ = parents(log)[-1]
    assert parent2 != orchestrator and parent2 != parent  # a new template
    w.keys("q")
    assert w.wait_exit() == 0
    assert no_processes_left(tmp_path)


def test_with_fork_turned_off_the_workers_are_spawned(watch, tmp_path):
    log = tmp_path / "where.log"
    (tmp_path / "where.py").write_text(WHERE)
    (tmp_path / "conftest.py").write_text("from helper import value\n")
    (tmp_path / "test_where.py").write_text("from where import record\n\n\ndef test_where():\n    record()\n")
    w = watch("test_where.py", env={"WHERE_LOG": str(log), "DXPY_WATCH_FORK": "0"})
    w.round()
    w.write("helper.py", "def value():\n    return 2\n")
    assert "test_where.py::test_where PASSED" in w.round()
    assert all(parent == orchestrator for _, parent, orchestrator in parents(log))
    w.keys("q")
    assert w.wait_exit() == 0
    assert no_processes_left(tmp_path)


def test_the_orchestrator_killed_takes_the_template_and_its_forked_workers(watch, tmp_path):
    log = tmp_path / "where.log"
    (tmp_path / "where.py").write_text(WHERE)
    (tmp_path / "conftest.py").write_text("import pytest\nfrom helper import value\n")
    (tmp_path / "test_where.py").write_text("from where import record\n\n\ndef test_where():\n    record()\n")
    w = watch("test_where.py", env={"WHERE_LOG": str(log)})
    w.round()
    w.write("helper.py", "def value():\n    return 2\n")
    assert "test_where.py::test_where PASSED" in w.round()
    _, template, orchestrator = parents(log)[-1]
    assert template != orchestrator
    # Between rounds: the template and the warm workers forked from it are alive.
    alive = processes_in(tmp_path)
    assert template in alive and len(alive) >= 3, alive
    os.kill(orchestrator, signal.SIGKILL)
    w.proc.wait(TIMEOUT)
    assert no_processes_left(tmp_path)  # PR_SET_PDEATHSIG: template on the run, workers on it


def test_a_template_whose_preload_starts_a_thread_does_not_fork_and_workers_are_spawned(watch, tmp_path):
    """fork() copies only the calling thread: a template that has a thread running refuses to
    fork, and the warm workers are started the usual way."""
    log = tmp_path / "where.log"
    ext = tmp_path.parent / f"{tmp_path.name}-ext"
    ext.mkdir()
    (ext / "threadlib.py").write_text(
        "import threading\nimport time\n\nthreading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n")
    (tmp_path / "where.py").write_text(WHERE)
    (tmp_path / "conftest.py").write_text("import threadlib\nfrom helper import value\n")
    (tmp_path / "test_where.py").write_text("from where import record\n\n\ndef test_where():\n    record()\n")
    w = watch("test_where.py", env={"WHERE_LOG": str(log), "PYTHONPATH": str(ext)})
    w.round()
    for n in (2, 3):
        w.write("helper.py", f"def value():\n    return {n}\n")
        assert "test_where.py::test_where PASSED" in w.round()
    assert all(parent == orchestrator for _, parent, orchestrator in parents(log))
    w.keys("q")
    assert w.wait_exit() == 0
    assert no_processes_left(tmp_path)
