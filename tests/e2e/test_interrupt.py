"""Stopping a run: SIGINT (Ctrl-C) or SIGTERM sent to dx-py while its workers run tests.

The run reports the tests that were running as interrupted, exits with pytest's code 2, and
leaves nothing behind: no worker process (they have their own process group, so they are
tracked by the session the test starts dx-py in, and by their working directory) and no
shared-memory file (the channel is a memfd; nothing may appear in /dev/shm)."""
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import DX_PY
from faults_helpers import (closing_counts, cmdline, kill_all, processes_in_dir, processes_in_session, shm_entries,
                            verbose_results, wait_until_gone)


def sleepy_suite(marks):
    """40 tests x 0.5 s in 4 files; each test first leaves a file "<test>.<pid>" in marks, so the
    test knows what runs where without reading dx-py's output (block-buffered in a pipe)."""
    head = f"import os\nimport time\n\nMARKS = {str(marks)!r}\n\n"
    body = ("def test_s{i}():\n"
            "    open(os.path.join(MARKS, 'test_s{i}-{k}.%d' % os.getpid()), 'w').close()\n"
            "    time.sleep(0.5)\n\n")
    return {f"test_sleep_{k}.py": head + "".join(body.format(i=i, k=k) for i in range(10)) for k in range(4)}


def started(marks):
    """{test: worker pid} of the tests that have begun."""
    return dict(name.rsplit(".", 1) for name in os.listdir(marks))


class Started:
    """dx-py in a new session, its stdout and stderr read by threads."""

    def __init__(self, root, args):
        self.p = subprocess.Popen([DX_PY, "test", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, start_new_session=True, env=dict(os.environ, NO_COLOR="1"))
        self.out, self.err = [], []
        self.threads = [threading.Thread(target=self._read, args=(self.p.stdout, self.out), daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stderr, self.err), daemon=True)]
        for t in self.threads:
            t.start()

    @staticmethod
    def _read(stream, into):
        for line in stream:
            into.append(line)

    def finish(self, timeout):
        code = self.p.wait(timeout=timeout)
        for t in self.threads:
            t.join(timeout=5)
        return code

    def text(self):
        return "".join(self.out), "".join(self.err)

    def describe(self):
        out, err = self.text()
        return f"exit {self.p.returncode}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGINT to the process group"])
def test_signal_stops_the_run_and_leaves_nothing_behind(project, how):
    marks = project.root / "marks"
    marks.mkdir()
    project.write(sleepy_suite(marks))
    shm_before = shm_entries()
    run = Started(project.root, ["-n", "2", "-v"])
    sid = run.p.pid  # start_new_session: dx-py leads its own session
    seen = {}
    try:
        # Running: a third test has begun, so with two workers at least one has finished.
        deadline = time.monotonic() + 20
        while len(os.listdir(marks)) < 3 and run.p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if run.p.poll() is not None:
            run.finish(timeout=5)
            pytest.fail("dx-py ended before it was signalled\n" + run.describe())
        assert len(os.listdir(marks)) >= 3, "fewer than 3 tests began within 20 s\n" + repr(started(marks))
        seen = processes_in_session(sid)
        seen.update(processes_in_dir(project.root))
        running = {int(pid) for pid in started(marks).values()} & set(processes_in_dir(project.root))
        assert running, "no process that ran a test is alive\n" + repr(started(marks))
        outside = running - set(processes_in_session(sid))
        assert not outside, "workers outside dx-py's session: " + repr({p: cmdline(p) for p in outside})

        sent = time.monotonic()
        if how == "SIGINT to the process group":  # what a terminal's Ctrl-C does
            os.killpg(run.p.pid, signal.SIGINT)
        else:
            os.kill(run.p.pid, getattr(signal, how))
        code = run.finish(timeout=30)
        took = time.monotonic() - sent
        out, err = run.text()

        assert code == 2, run.describe()
        assert took < 5, f"dx-py took {took:.1f} s to stop\n" + run.describe()
        assert "interrupted" in (out + err).lower(), run.describe()
        counts = closing_counts(out)
        passed_lines = [node for node, word in verbose_results(out) if word == "PASSED"]
        assert counts.get("passed", 0) == len(passed_lines) >= 1, run.describe()
        assert counts.get("interrupted", 0) >= 1, "the tests that were running are not reported\n" + run.describe()
        assert counts.get("passed", 0) + counts.get("interrupted", 0) < 40, run.describe()
        assert set(counts) <= {"passed", "interrupted"}, run.describe()

        left = wait_until_gone(seen, 5)
        left += [p for p in processes_in_session(sid) if p not in left]
        left += [p for p in processes_in_dir(project.root) if p not in left]
        assert not left, "processes left running: " + repr({p: cmdline(p) for p in left})
        assert shm_entries() - shm_before == set(), "new files in /dev/shm"
    finally:
        if run.p.poll() is None:
            run.p.kill()
            run.p.wait()
        kill_all(seen)
        kill_all(processes_in_session(sid))
