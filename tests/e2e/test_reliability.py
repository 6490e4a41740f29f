"""Fault injection end to end (issue 9): a worker or dx-py itself killed, a full disk, a
read-only project, the cache folder deleted mid-run, two runs at once, and tests that close
fds 0-2, run out of memory, leave a forked child behind, call sys.exit(), raise
KeyboardInterrupt or SystemExit, or hold the GIL in C code past their timeout.

After each fault: every other test's result is intact, the exit code is pytest's, and
nothing is left running (dx-py is started in a new session, so every process it or its
workers made is found by session id, or by its working directory) and nothing new is in
/dev/shm (the channels are memfds: they go with the last process that holds them).

docs/reliability.md lists every fault of the issue with the test that covers it (some are
in test_faults.py, test_interrupt.py, test_index.py and test_pool.py)."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import DX_PY
from faults_helpers import (closing_counts, cmdline, describe, kill_all, processes_in_dir, processes_in_session,
                            results_once, shm_entries, wait_until_gone)
from test_interrupt import Started

OTHERS = {"test_other.py": """
    def test_one():
        pass

    def test_two():
        pass

    def test_three():
        pass
"""}
OTHER_IDS = ["test_other.py::test_one", "test_other.py::test_two", "test_other.py::test_three"]
PASSED_OTHERS = {i: "PASSED" for i in OTHER_IDS}


class Watched:
    """A dx-py run in its own session; on finish, checks nothing of it is left behind."""

    def __init__(self, root, *args):
        self.root = root
        self.shm_before = shm_entries()
        self.run = Started(root, list(args))
        self.sid = self.run.p.pid
        self.seen = {}

    def look(self):
        """Records the processes of the run so far (to check later that they are gone)."""
        self.seen.update(processes_in_session(self.sid))
        self.seen.update(processes_in_dir(self.root))

    def finish(self, timeout=60):
        try:
            code = self.run.finish(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.cleanup()
            pytest.fail(f"dx-py did not end within {timeout} s\n" + self.run.describe())
        out, err = self.run.text()
        return code, out, err

    def assert_nothing_left(self):
        left = wait_until_gone(self.seen, 5)
        left += [p for p in processes_in_session(self.sid) if p not in left]
        left += [p for p in processes_in_dir(self.root) if p not in left]
        assert not left, "processes left running: " + repr({p: cmdline(p) for p in left}) + "\n" + self.run.describe()
        assert shm_entries() - self.shm_before == set(), "new files in /dev/shm"

    def cleanup(self):
        if self.run.p.poll() is None:
            self.run.p.kill()
            self.run.p.wait()
        kill_all(self.seen)
        kill_all(processes_in_session(self.sid))
        kill_all(processes_in_dir(self.root))


@pytest.fixture
def watched(project):
    runs = []

    def start(*args):
        w = Watched(project.root, *args)
        runs.append(w)
        return w

    yield start
    for w in runs:
        w.cleanup()


def wait_for(path, seconds=20):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"{path} did not appear within {seconds} s"
        time.sleep(0.02)
    time.sleep(0.05)  # written, then closed
    with open(path) as f:
        return f.read()


def pytest_run(root, *args):
    """The installed pytest on the same project: the reference for exit codes and outcomes."""
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=root,
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout


def expect(code, out, err, want_code, results, counts):
    text = f"exit {code}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
    assert code == want_code, text
    assert results_once(out) == results, text
    assert closing_counts(out) == counts, text


# --- processes killed from outside ------------------------------------------------------------

def test_worker_killed_with_sigkill_mid_test(project, watched):
    pidfile = project.root / "worker.pid"
    project.write(dict(OTHERS, **{"test_victim.py": f"""
        import os
        import time

        def test_killed():
            with open({str(pidfile)!r} + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename({str(pidfile)!r} + ".tmp", {str(pidfile)!r})
            time.sleep(60)

        def test_after():
            pass
    """}))
    w = watched("-v", "-n", "1")
    pid = int(wait_for(pidfile))
    w.look()
    os.kill(pid, signal.SIGKILL)
    code, out, err = w.finish()
    expect(code, out, err, 1, {"test_victim.py::test_killed": "CRASHED", "test_victim.py::test_after": "PASSED",
                               **PASSED_OTHERS}, {"passed": 4, "crashed": 1})
    assert "SIGKILL" in out or "signal 9" in out, out
    w.assert_nothing_left()


def test_orchestrator_killed_with_sigkill_takes_its_workers_and_the_next_run_works(project, watched):
    marks = project.root / "marks"
    marks.mkdir()
    project.write({f"test_slow_{k}.py": "import os, time\n" + "".join(
        f"def test_s{i}():\n    open(os.path.join({str(marks)!r}, 'x%d' % os.getpid()), 'w').close()\n"
        f"    time.sleep(0.5)\n\n" for i in range(10)) for k in range(2)})
    w = watched("-n", "2")
    deadline = time.monotonic() + 20
    while len(os.listdir(marks)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    w.look()
    workers = {int(name[1:]) for name in os.listdir(marks)}
    assert workers and workers <= set(w.seen), (workers, w.seen)
    os.kill(w.run.p.pid, signal.SIGKILL)
    w.run.finish(timeout=10)
    w.assert_nothing_left()  # PDEATHSIG: the workers went with dx-py

    # A run killed while it wrote a cache file leaves its temp file; the next run removes
    # such leftovers once they are old enough not to belong to a live run.
    cache = project.root / ".dx-py"
    stale = cache / "index.dxti.tmp.AbC123"
    stale.write_bytes(b"half an index")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = cache / "durations.tmp.XyZ789"
    fresh.write_bytes(b"a live run's temp file")
    r = project.run("-q", "-n", "2", "-k", "s1 or s2")
    assert r.code == 0, describe(r)
    assert closing_counts(r.out) == {"passed": 4, "deselected": 16}, describe(r)
    assert not stale.exists(), sorted(os.listdir(cache))
    assert fresh.exists(), "a temp file a live run may still rename was removed"


# --- the file system --------------------------------------------------------------------------

@pytest.fixture
def small_fs(tmp_path):
    """A 2 MiB tmpfs (root can mount one here); skips where mounting is not allowed."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.strip())
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(fs):
    """Fills the file system: writes until ENOSPC (unbuffered: a buffered file's close would
    flush what the failed write left and raise ENOSPC again)."""
    with open(fs / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    try:  # the last bytes of a page
        with open(fs / "filler2", "wb", buffering=0) as f:
            while True:
                f.write(b"\0")
    except OSError:
        pass


def run_in(root, *args):
    p = subprocess.run([DX_PY, "test", *args], cwd=root, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, NO_COLOR="1"))
    return p.returncode, p.stdout, p.stderr


def test_disk_full_while_the_index_and_graph_are_written_keeps_the_old_files(small_fs):
    proj = small_fs / "proj"
    proj.mkdir()
    (proj / "test_a.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    assert 0\n")
    code, out, err = run_in(proj, "-q", "--affected-by", "test_a.py")  # writes the index and the graph
    assert code == 1, (out, err)
    index = proj / ".dx-py" / "index.dxti"
    graph = proj / ".dx-py" / "graph.dxig"
    assert index.exists() and graph.exists(), sorted(os.listdir(proj / ".dx-py"))
    old_index, old_graph = index.read_bytes(), graph.read_bytes()

    (proj / "test_c.py").write_text("def test_c():\n    pass\n")  # the index and graph must change
    fill(small_fs)
    code, out, err = run_in(proj, "-v", "--affected-by", "test_a.py", "--affected-by", "test_c.py")
    assert code == 1, (out, err)
    assert results_once(out) == {"test_a.py::test_a": "PASSED", "test_a.py::test_b": "FAILED",
                                 "test_c.py::test_c": "PASSED"}, (out, err)
    assert "No space left on device" in err, err
    assert index.read_bytes() == old_index and graph.read_bytes() == old_graph
    assert not [n for n in os.listdir(proj / ".dx-py") if ".tmp." in n], os.listdir(proj / ".dx-py")

    os.remove(small_fs / "filler")
    os.remove(small_fs / "filler2")
    code, out, err = run_in(proj, "--collect-only", "-q")
    assert code == 0 and "3 tests collected" in out, (out, err)
    assert "ignored" not in err, err  # the old index was valid: no "corrupt index ... ignored"


def free(fs):
    os.remove(fs / "filler")
    os.remove(fs / "filler2")


def tmp_files(folder):
    """Temp files of an atomic write left behind anywhere under `folder`."""
    return [os.path.join(d, n) for d, _, names in os.walk(folder) for n in names if ".tmp." in n]


SNAP_TESTS = """
import dx_py_test_runner as dx

VALUE = {value!r}

def test_snap():
    dx.snapshot(VALUE)

def test_ok():
    pass

def test_bad():
    assert 0
"""


def test_disk_full_while_a_snapshot_is_written_keeps_the_old_snap_file_and_index(small_fs):
    proj = small_fs / "proj"
    proj.mkdir()
    (proj / "test_s.py").write_text(SNAP_TESTS.format(value="old value"))
    code, out, err = run_in(proj, "-q")  # writes tests' .snap file and .dx-py/snapshots.idx
    assert code == 1, (out, err)
    snap = proj / "__snapshots__" / "test_s.snap"
    idx = proj / ".dx-py" / "snapshots.idx"
    assert snap.exists() and idx.exists(), (out, err)
    old_snap, old_idx = snap.read_bytes(), idx.read_bytes()

    (proj / "test_s.py").write_text(SNAP_TESTS.format(value="new value " * 2000))  # -u must rewrite both
    fill(small_fs)
    code, out, err = run_in(proj, "-v", "-u")
    assert code == 1, (out, err)
    assert results_once(out) == {"test_s.py::test_snap": "FAILED", "test_s.py::test_ok": "PASSED",
                                 "test_s.py::test_bad": "FAILED"}, (out, err)
    assert "No space left on device" in out, out  # the snapshot test's failure says why
    assert snap.read_bytes() == old_snap and idx.read_bytes() == old_idx
    assert not tmp_files(proj), tmp_files(proj)

    free(small_fs)
    code, out, err = run_in(proj, "-v")  # the old file is still the valid reference
    assert code == 1, (out, err)
    assert results_once(out)["test_s.py::test_snap"] == "FAILED", out
    assert "does not match" in out and "old value" in out, out
    code, out, err = run_in(proj, "-v", "-u")  # and with space, -u now writes it
    assert results_once(out)["test_s.py::test_snap"] == "PASSED", (out, err)
    assert b"new value" in snap.read_bytes() and idx.read_bytes() != old_idx


FIXTURE_TESTS = """
import os
import dx_py_test_runner as dx

@dx.fixture(scope="session", cache=True)
def data():
    with open({log!r}, "a") as f:
        f.write("computed\\n")
    return {{"blob": b"{fill}" * 50_000}}

def test_uses(data):
    assert len(data["blob"]) == 50_000

def test_ok():
    pass

def test_bad():
    assert 0
"""


def test_disk_full_while_the_fixture_cache_writes_an_entry_keeps_the_old_entry(small_fs, tmp_path):
    proj = small_fs / "proj"
    proj.mkdir()
    log = tmp_path / "computed"  # outside the full file system
    (proj / "test_f.py").write_text(FIXTURE_TESTS.format(log=str(log), fill="x"))
    code, out, err = run_in(proj, "-q")
    assert code == 1, (out, err)
    folder = proj / ".dx-py" / "fixtures"
    [entry] = folder.glob("*.dxfc")
    old_entry = entry.read_bytes()

    # Another source: another key, so the run writes a new entry, into a full disk.
    (proj / "test_f.py").write_text(FIXTURE_TESTS.format(log=str(log), fill="y"))
    ini = "[pytest]\nfilterwarnings =\n    error::dx_py_test_runner.FixtureCacheWarning\n"
    (proj / "warnings.ini.off").write_text(ini)  # renamed into place on the full disk, below
    fill(small_fs)
    code, out, err = run_in(proj, "-v")
    assert code == 1, (out, err)
    assert results_once(out) == {"test_f.py::test_uses": "PASSED", "test_f.py::test_ok": "PASSED",
                                 "test_f.py::test_bad": "FAILED"}, (out, err)
    assert sorted(folder.glob("*.dxfc")) == [entry] and entry.read_bytes() == old_entry
    assert not tmp_files(proj), tmp_files(proj)
    assert log.read_text().count("computed") == 2
    # The FixtureCacheWarning that reports it (dx-py prints no warnings summary): made an
    # error, it fails the fixture's setup and names the entry and the cause.
    os.rename(proj / "warnings.ini.off", proj / "pytest.ini")
    code, out, err = run_in(proj, "-v")
    assert code == 1 and results_once(out)["test_f.py::test_uses"] == "ERROR", (out, err)
    assert "fixture cache: cannot write" in out and "No space left on device" in out, out
    assert sorted(folder.glob("*.dxfc")) == [entry] and entry.read_bytes() == old_entry
    assert not tmp_files(proj), tmp_files(proj)

    os.remove(proj / "pytest.ini")
    free(small_fs)  # the old source again: its entry is loaded, not computed
    (proj / "test_f.py").write_text(FIXTURE_TESTS.format(log=str(log), fill="x"))
    code, out, err = run_in(proj, "-v")
    assert code == 1 and results_once(out)["test_f.py::test_uses"] == "PASSED", (out, err)
    assert log.read_text().count("computed") == 3, out


def test_read_only_project_runs_without_caches_with_a_warning(small_fs):
    proj = small_fs / "proj"
    proj.mkdir()
    (proj / "test_a.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    assert 0\n")
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    code, out, err = run_in(proj, "-v")
    assert code == 1, (out, err)
    assert results_once(out) == {"test_a.py::test_a": "PASSED", "test_a.py::test_b": "FAILED"}, (out, err)
    assert "no cache" in err and "Read-only file system" in err, err
    assert not (proj / ".dx-py").exists()
    # pytest agrees on the outcome (its cache plugin only warns too).
    pcode, pout = pytest_run(proj, "-q")
    assert pcode == 1 and "1 failed, 1 passed" in pout, pout


def test_read_only_cache_folder_of_an_earlier_run_means_no_cache(small_fs):
    proj = small_fs / "proj"
    proj.mkdir()
    (proj / "test_a.py").write_text("def test_a():\n    pass\n")
    code, out, err = run_in(proj, "-q")
    assert code == 0, (out, err)
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    code, out, err = run_in(proj, "-v")
    assert code == 0, (out, err)
    assert results_once(out) == {"test_a.py::test_a": "PASSED"}
    assert "no cache" in err, err


def test_cache_folder_deleted_mid_run(project, watched):
    go = project.root / "go"
    project.write(dict(OTHERS, **{"test_rm.py": f"""
        import os
        import shutil
        import time

        def test_delete_cache():
            shutil.rmtree(os.path.join({str(project.root)!r}, ".dx-py"))
            open({str(go)!r}, "w").close()

        def test_fails():
            assert 0
    """}))
    first = project.run("-q")  # index, durations and last failures exist
    assert first.code == 1, describe(first)
    w = watched("-v", "-n", "2")
    code, out, err = w.finish()
    expect(code, out, err, 1, {"test_rm.py::test_delete_cache": "PASSED", "test_rm.py::test_fails": "FAILED",
                               **PASSED_OTHERS}, {"passed": 4, "failed": 1})
    w.assert_nothing_left()
    again = project.run("--lf", "-v")  # the next run works, from whatever the cache holds now
    assert again.code == 1, describe(again)
    assert "test_rm.py::test_fails FAILED" in again.out, describe(again)


def test_two_test_runs_at_once_both_complete_and_the_caches_stay_valid(project):
    files = {f"tests/test_m{i}.py": f"import time\ndef test_{i}():\n    time.sleep(0.01)\n"
             f"def test_fail_{i}():\n    assert {i} % 7\n" for i in range(40)}
    project.write(files)
    fails = {f"tests/test_m{i}.py::test_fail_{i}" for i in range(0, 40, 7)}
    env = dict(os.environ, NO_COLOR="1")
    for _ in range(2):
        procs = [subprocess.Popen([DX_PY, "test", "-v", "-n", "1"], cwd=project.root, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 1, err
            got = results_once(out)
            assert len(got) == 80 and {k for k, v in got.items() if v == "FAILED"} == fails, out
    assert not [n for n in os.listdir(project.root / ".dx-py") if ".tmp." in n]
    listing = project.run("--collect-only", "-v")
    assert listing.code == 0 and "80 tests collected" in listing.out, describe(listing)
    assert "40 files from the index" in listing.err + listing.out, describe(listing)
    lf = project.run("--lf", "-q")
    assert lf.code == 1 and closing_counts(lf.out).get("failed") == len(fails), describe(lf)
    assert "passed" not in closing_counts(lf.out), describe(lf)


# --- what a test does to its worker ------------------------------------------------------------

def test_a_test_that_closes_fds_0_to_2(project, watched):
    project.write(dict(OTHERS, **{"test_fds.py": """
        import os

        def test_close_std_fds():
            os.close(0)
            os.close(1)
            os.close(2)

        def test_prints_after():
            print("still here")
    """}))
    w = watched("-v", "-n", "1")
    code, out, err = w.finish()
    # As in pytest: the test passes and so do the ones after it on the same worker.
    expect(code, out, err, 0, {"test_fds.py::test_close_std_fds": "PASSED", "test_fds.py::test_prints_after": "PASSED",
                               **PASSED_OTHERS}, {"passed": 5})
    w.assert_nothing_left()
    pcode, pout = pytest_run(project.root, "-q")
    assert pcode == 0 and "5 passed" in pout, pout


def test_a_test_that_runs_out_of_memory_under_rlimit_as(project, watched):
    project.write(dict(OTHERS, **{"test_mem.py": """
        import resource

        def test_fills_memory():
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.RLIM_INFINITY))
            hog = []
            while True:
                hog.append(bytearray(64 << 20))

        def test_after():
            x = bytearray(1 << 20)
    """}))
    w = watched("-v", "-n", "1")
    code, out, err = w.finish(timeout=120)
    expect(code, out, err, 1, {"test_mem.py::test_fills_memory": "FAILED", "test_mem.py::test_after": "PASSED",
                               **PASSED_OTHERS}, {"passed": 4, "failed": 1})
    assert "MemoryError" in out, out
    w.assert_nothing_left()
    pcode, pout = pytest_run(project.root, "-q", "test_mem.py")
    assert pcode == 1 and "1 failed, 1 passed" in pout, pout


def test_a_forked_child_that_keeps_running_is_not_left_behind(project, watched):
    childfile = project.root / "child.pid"
    project.write(dict(OTHERS, **{"test_fork.py": f"""
        import os
        import time

        def test_forks_a_sleeper():
            pid = os.fork()
            if pid == 0:
                time.sleep(3600)
                os._exit(0)
            with open({str(childfile)!r}, "w") as f:
                f.write(str(pid))

        def test_after():
            pass
    """}))
    w = watched("-v", "-n", "1")
    code, out, err = w.finish(timeout=30)
    expect(code, out, err, 0, {"test_fork.py::test_forks_a_sleeper": "PASSED", "test_fork.py::test_after": "PASSED",
                               **PASSED_OTHERS}, {"passed": 5})
    child = int(open(childfile).read())
    w.assert_nothing_left()

    def child_alive():
        try:
            with open(f"/proc/{child}/stat") as f:
                return f.read().rsplit(") ", 1)[1][0] != "Z"
        except OSError:
            return False
    deadline = time.monotonic() + 5  # SIGKILLed with the worker's group; it may take a moment to go
    while child_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not child_alive(), f"the test's child {child} outlived the run: {cmdline(child)}"


def test_sys_exit_and_system_exit_fail_the_test_as_in_pytest(project, watched):
    project.write(dict(OTHERS, **{"test_exit.py": """
        import sys

        def test_sys_exit():
            sys.exit(3)

        def test_system_exit_0():
            raise SystemExit(0)

        def test_after():
            pass
    """}))
    w = watched("-v", "-n", "1")
    code, out, err = w.finish()
    expect(code, out, err, 1, {"test_exit.py::test_sys_exit": "FAILED", "test_exit.py::test_system_exit_0": "FAILED",
                               "test_exit.py::test_after": "PASSED", **PASSED_OTHERS}, {"passed": 4, "failed": 2})
    w.assert_nothing_left()
    pcode, pout = pytest_run(project.root, "-q", "-p", "no:randomly")
    assert pcode == 1 and "2 failed, 4 passed" in pout, pout


def test_keyboard_interrupt_raised_by_a_test_stops_the_run_as_in_pytest(project, watched):
    """pytest (runner.py reraises KeyboardInterrupt from the call; main.py turns it into
    exit 2): the run stops, "!!! KeyboardInterrupt !!!", the tests before it keep their
    results, the test itself and those after it get none."""
    project.write({"test_kbd.py": """
        def test_before():
            pass

        def test_raises_kbd():
            raise KeyboardInterrupt

        def test_after():
            pass
    """})
    w = watched("-v", "-n", "1")
    code, out, err = w.finish()
    assert code == 2, w.run.describe()
    assert results_once(out) == {"test_kbd.py::test_before": "PASSED"}, w.run.describe()
    assert "!!! KeyboardInterrupt !!!" in out, w.run.describe()
    assert "INTERRUPTED test_kbd.py::test_raises_kbd" in out, w.run.describe()
    assert closing_counts(out) == {"passed": 1, "interrupted": 1}, w.run.describe()
    w.assert_nothing_left()
    pcode, pout = pytest_run(project.root, "-v")
    assert pcode == 2 and "KeyboardInterrupt" in pout and "test_before PASSED" in pout, pout
    assert "test_after" not in pout


def test_a_test_holding_the_gil_in_c_past_its_timeout(project, watched):
    project.write(dict(OTHERS, **{"test_gil.py": """
        import ctypes

        def test_holds_the_gil():
            ctypes.PyDLL(None).sleep(30)  # PyDLL keeps the GIL during the call

        def test_after():
            pass
    """}))
    t0 = time.monotonic()
    w = watched("-v", "-n", "1", "--timeout", "1")
    code, out, err = w.finish(timeout=60)
    took = time.monotonic() - t0
    expect(code, out, err, 1, {"test_gil.py::test_holds_the_gil": "TIMEOUT", "test_gil.py::test_after": "PASSED",
                               **PASSED_OTHERS}, {"passed": 4, "timeout": 1})
    assert took < 20, f"a 1 s timeout took {took:.1f} s"
    w.assert_nothing_left()
