"""Fault tolerance end to end: a test that segfaults, exits, hangs, floods its output, changes
the process's state or forks is reported for what it did, and every other test's result is
intact (issue 4). Each run uses -v so every test's own result line can be checked."""
import time

import pytest

from faults_helpers import closing_counts, describe, lines_with, results_once

OTHERS = {"test_other.py": """
    def test_one():
        assert 1 + 1 == 2

    def test_two():
        pass

    def test_three():
        pass

    def test_four():
        pass
"""}
OTHER_IDS = ["test_other.py::test_one", "test_other.py::test_two", "test_other.py::test_three",
             "test_other.py::test_four"]


def expect(run, code, results, counts):
    """Exit code, one result line per test with exactly these words, and the closing counts."""
    assert run.code == code, describe(run)
    assert results_once(run.out) == results, describe(run)
    assert closing_counts(run.out) == counts, describe(run)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_segfault_is_crashed_and_the_rest_pass(project, workers):
    project.write(dict(OTHERS, **{"test_crash.py": """
        import ctypes

        def test_before():
            pass

        def test_segfault():
            ctypes.string_at(0)

        def test_after():
            pass
    """}))
    r = project.run("-v", "-n", workers)
    expect(r, 1, {"test_crash.py::test_before": "PASSED", "test_crash.py::test_segfault": "CRASHED",
                  "test_crash.py::test_after": "PASSED", **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 6, "crashed": 1})
    said = [line for line in lines_with(r.out, "test_crash.py::test_segfault")
            if "SIGSEGV" in line or "signal 11" in line]
    assert said, "no line names the test and its signal\n" + describe(r)


def test_os_exit_is_crashed_with_its_exit_code(project):
    project.write(dict(OTHERS, **{"test_exit.py": """
        import os

        def test_exit():
            os._exit(3)

        def test_next():
            pass
    """}))
    r = project.run("-v", "-n", "2")
    expect(r, 1, {"test_exit.py::test_exit": "CRASHED", "test_exit.py::test_next": "PASSED",
                  **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 5, "crashed": 1})
    assert lines_with(r.out, "test_exit.py::test_exit", "exit code 3"), describe(r)


def test_endless_loop_under_timeout_flag(project):
    """-n 1: the tests after the hung one need the replacement worker."""
    project.write(dict(OTHERS, **{"test_hang.py": """
        def test_first():
            pass

        def test_forever():
            while True:
                pass

        def test_last():
            pass
    """}))
    t0 = time.monotonic()
    r = project.run("-v", "-n", "1", "--timeout", "1", timeout=60)
    took = time.monotonic() - t0
    expect(r, 1, {"test_hang.py::test_first": "PASSED", "test_hang.py::test_forever": "TIMEOUT",
                  "test_hang.py::test_last": "PASSED", **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 6, "timeout": 1})
    assert took < 20, f"a 1 s timeout took {took:.1f} s\n" + describe(r)


def test_timeout_mark_without_the_flag(project):
    project.write(dict(OTHERS, **{"test_mark.py": """
        import time
        import pytest

        @pytest.mark.timeout(1)
        def test_sleeps_too_long():
            time.sleep(3600)

        @pytest.mark.timeout(30)
        def test_within_its_timeout():
            time.sleep(0.1)

        def test_no_mark():
            pass
    """}))
    t0 = time.monotonic()
    r = project.run("-v", "-n", "2", timeout=60)
    took = time.monotonic() - t0
    expect(r, 1, {"test_mark.py::test_sleeps_too_long": "TIMEOUT", "test_mark.py::test_within_its_timeout": "PASSED",
                  "test_mark.py::test_no_mark": "PASSED", **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 6, "timeout": 1})
    assert took < 20, f"a 1 s timeout took {took:.1f} s\n" + describe(r)


def test_timeout_of_a_test_that_blocks_every_signal(project):
    """Only killing the worker ends this test: no in-process alarm or exception can."""
    project.write(dict(OTHERS, **{"test_deaf.py": """
        import signal
        import time

        def test_deaf():
            signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})
            time.sleep(3600)

        def test_next():
            pass
    """}))
    t0 = time.monotonic()
    r = project.run("-v", "-n", "1", "--timeout", "1", timeout=60)
    took = time.monotonic() - t0
    expect(r, 1, {"test_deaf.py::test_deaf": "TIMEOUT", "test_deaf.py::test_next": "PASSED",
                  **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 5, "timeout": 1})
    assert took < 20, f"a 1 s timeout took {took:.1f} s\n" + describe(r)


def test_50_mb_of_output_passes_and_is_not_shown(project):
    """A passing test's captured output is dropped, as in pytest: the run's output stays small."""
    project.write(dict(OTHERS, **{"test_loud.py": """
        import os
        import sys

        LINE = "x" * 1023 + "\\n"

        def test_print_50_mb():
            for _ in range(50 * 1024):
                sys.stdout.write(LINE)

        def test_write_fd_50_mb():
            block = LINE.encode() * 1024
            for _ in range(50):
                os.write(1, block)

        def test_quiet():
            pass
    """}))
    r = project.run("-v", "-n", "2", timeout=120)
    expect(r, 0, {"test_loud.py::test_print_50_mb": "PASSED", "test_loud.py::test_write_fd_50_mb": "PASSED",
                  "test_loud.py::test_quiet": "PASSED", **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 7})
    assert len(r.out) + len(r.err) < 1_000_000, f"{len(r.out)} characters of output"


# Every test checks the state it starts with, then changes it: whichever runs second on the
# worker (-n 1, so they share it) sees a leak from the first, in any order.
STATE_CHECK = """
    import os
    import sys
    import tempfile

    ROOT = {root!r}

    def check_then_change():
        assert os.path.realpath(os.getcwd()) == os.path.realpath(ROOT)
        assert os.environ.get("DXPY_E2E_MARKER") == "kept"
        assert "DXPY_E2E_LEAK" not in os.environ
        assert os.environ.get("NO_COLOR") == "1"
        assert "/dxpy-e2e-leak" not in sys.path
        os.chdir(tempfile.gettempdir())
        os.environ["DXPY_E2E_LEAK"] = "1"
        del os.environ["DXPY_E2E_MARKER"]
        os.environ["NO_COLOR"] = "changed"
        sys.path.insert(0, "/dxpy-e2e-leak")
"""


def test_cwd_environ_and_sys_path_are_restored_between_tests(project, monkeypatch):
    monkeypatch.setenv("DXPY_E2E_MARKER", "kept")
    check = STATE_CHECK.format(root=str(project.root))
    project.write({
        "test_state_a.py": check + """
    def test_a1():
        check_then_change()

    def test_a2():
        check_then_change()
""",
        "test_state_b.py": check + """
    def test_b1():
        check_then_change()
""",
    })
    r = project.run("-v", "-n", "1")
    expect(r, 0, {"test_state_a.py::test_a1": "PASSED", "test_state_a.py::test_a2": "PASSED",
                  "test_state_b.py::test_b1": "PASSED"},
           {"passed": 3})


def test_fork_child_that_exits_gives_one_result(project):
    project.write(dict(OTHERS, **{"test_fork.py": """
        import os

        def test_before():
            pass

        def test_fork_child_os_exit():
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0

        def test_after():
            pass
    """}))
    r = project.run("-v", "-n", "1")
    expect(r, 0, {"test_fork.py::test_before": "PASSED", "test_fork.py::test_fork_child_os_exit": "PASSED",
                  "test_fork.py::test_after": "PASSED", **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 7})


FORK_RETURNS = """
    import os
    import sys
    import time

    def wait_a_while(pid):
        # The parent does not judge how its child ended: only that the worker gives one
        # result per test. Bounded, so a child that never ends cannot hang the run.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
            time.sleep(0.01)

    def test_before():
        pass

    def test_fork_child_returns():
        pid = os.fork()
        if pid == 0:
            return  # the child leaves the test function normally, back into the worker
        wait_a_while(pid)

    def test_fork_child_raises_system_exit():
        pid = os.fork()
        if pid == 0:
            sys.exit(0)
        wait_a_while(pid)

    def test_fork_child_fails():
        pid = os.fork()
        if pid == 0:
            assert False, "in the child"
        wait_a_while(pid)

    def test_after():
        pass
"""


def test_fork_child_that_returns_from_the_test_gives_one_result(project):
    """Only the process that received a test reports it: a forked child that goes back into the
    worker loop must not report a second result, nor take other tests."""
    project.write(dict(OTHERS, **{"test_fork.py": FORK_RETURNS}))
    r = project.run("-v", "-n", "1", timeout=120)
    expect(r, 0, {"test_fork.py::test_before": "PASSED", "test_fork.py::test_fork_child_returns": "PASSED",
                  "test_fork.py::test_fork_child_raises_system_exit": "PASSED",
                  "test_fork.py::test_fork_child_fails": "PASSED", "test_fork.py::test_after": "PASSED",
                  **{i: "PASSED" for i in OTHER_IDS}},
           {"passed": 9})


@pytest.mark.parametrize("workers", ["1", "2"])
def test_segfault_at_import_fails_that_module_only(project, workers):
    project.write(dict(OTHERS, **{"test_boom.py": """
        import ctypes

        ctypes.string_at(0)

        def test_x():
            pass

        def test_y():
            pass
    """}))
    r = project.run("-v", "-n", workers)
    assert r.code == 1, describe(r)
    results = results_once(r.out)
    assert {i: results.get(i) for i in OTHER_IDS} == {i: "PASSED" for i in OTHER_IDS}, describe(r)
    for node in ("test_boom.py::test_x", "test_boom.py::test_y"):
        assert results.get(node) in (None, "CRASHED", "ERROR"), describe(r)
    counts = closing_counts(r.out)
    assert counts.get("passed") == 4, describe(r)
    assert not counts.get("failed"), describe(r)
    assert counts.get("crashed", 0) + counts.get("error", 0) >= 1, describe(r)
    assert set(counts) <= {"passed", "crashed", "error"}, describe(r)
    said = [line for line in lines_with(r.out, "test_boom.py") if "SIGSEGV" in line or "signal 11" in line]
    assert said, "no line names the module and its signal\n" + describe(r)
