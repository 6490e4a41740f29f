"""A KeyboardInterrupt raised by a test (in setup, call or teardown) stops the whole run, as
in pytest (runner.py's call_and_report re-raises it; main.py turns it into exit code 2 and
"!!! KeyboardInterrupt !!!"). The worker asks the orchestrator to stop as Ctrl-C would: a
SIGINT to it, which reports the tests that were running as interrupted, ends every worker
and exits 2. The test that raised gets no result of its own, as in pytest.

Only a worker started by dx-py does this: the orchestrator passes its pid
(DXPY_ORCHESTRATOR_PID), and it must still be this process's parent (or the watch-mode
template this worker was forked from, DXPY_TEMPLATE_PID, which dies with it). Elsewhere (a worker
driven by the Python API) the test is reported failed, as before."""
import os
import signal
import time


def raised_keyboard_interrupt(*excs):
    for e in excs:
        if isinstance(e, KeyboardInterrupt):
            return True
        if isinstance(e, list) and any(isinstance(x, KeyboardInterrupt) for x in e):
            return True
    return False


def _int(text):
    try:
        return int(text or "")
    except ValueError:
        return -1


def stop_the_session():
    """SIGINT to the orchestrator, then wait for it to end this process. Returns (the test
    is then reported as failed) when there is no orchestrator to ask."""
    try:
        pid = int(os.environ.get("DXPY_ORCHESTRATOR_PID", ""))
    except ValueError:
        return
    # A worker forked from watch mode's template (template.py) has the template as parent.
    if pid <= 1 or os.getppid() not in (pid, _int(os.environ.get("DXPY_TEMPLATE_PID"))):
        return
    try:
        os.kill(pid, signal.SIGINT)
    except OSError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            time.sleep(0.1)
        except KeyboardInterrupt:  # a second one from a terminal's Ctrl-C: keep waiting
            pass
