"""worker/interrupt.py: a test's KeyboardInterrupt asks the orchestrator (the worker's
parent, named by DXPY_ORCHESTRATOR_PID) to stop the run with a SIGINT, and nobody else."""
import os
import subprocess
import sys
import textwrap
import time

from dx_py_test_runner.worker import interrupt


def test_raised_keyboard_interrupt_looks_at_every_phase():
    assert interrupt.raised_keyboard_interrupt(None, KeyboardInterrupt(), [])
    assert interrupt.raised_keyboard_interrupt(KeyboardInterrupt(), None, [])
    assert interrupt.raised_keyboard_interrupt(None, None, [ValueError(), KeyboardInterrupt()])
    assert not interrupt.raised_keyboard_interrupt(None, SystemExit(1), [ValueError()])
    assert not interrupt.raised_keyboard_interrupt(None, None, [])


def test_without_an_orchestrator_it_returns_at_once(monkeypatch):
    for value in (None, "", "nonsense", "1", str(os.getpid())):  # our parent is not us
        if value is None:
            monkeypatch.delenv("DXPY_ORCHESTRATOR_PID", raising=False)
        else:
            monkeypatch.setenv("DXPY_ORCHESTRATOR_PID", value)
        t0 = time.monotonic()
        interrupt.stop_the_session()
        assert time.monotonic() - t0 < 1


def test_the_parent_named_by_the_orchestrator_pid_gets_sigint(tmp_path):
    got = tmp_path / "got"
    parent = textwrap.dedent(f"""
        import os, signal, subprocess, sys
        child = None
        def on_int(sig, frame):
            open({str(got)!r}, "w").write("SIGINT")
            child.kill()
            sys.exit(0)
        signal.signal(signal.SIGINT, on_int)
        child = subprocess.Popen([sys.executable, "-c",
                                  "from dx_py_test_runner.worker import interrupt; interrupt.stop_the_session()"],
                                 env=dict(os.environ, DXPY_ORCHESTRATOR_PID=str(os.getpid())))
        child.wait(timeout=20)
        sys.exit(3)  # the child returned: no SIGINT came
    """)
    p = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert got.read_text() == "SIGINT"
