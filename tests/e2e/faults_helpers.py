"""Helpers for the fault-tolerance and interrupt end-to-end tests: reading dx-py's output
(pytest's layout) and looking at the processes a run leaves behind."""
import os
import re
import time

# pytest's words in -v mode, and dx-py's two more.
_VERBOSE = re.compile(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR|CRASHED|TIMEOUT)\b")
_COUNT_WORDS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "deselected": "deselected",
                "xfailed": "xfailed", "xpassed": "xpassed", "error": "error", "errors": "error",
                "crashed": "crashed", "timeout": "timeout", "timeouts": "timeout", "interrupted": "interrupted",
                "warning": "warnings", "warnings": "warnings"}


def verbose_results(out):
    """[(node id, WORD)] of the result lines of a -v run, in output order (duplicates kept)."""
    found = []
    for line in out.splitlines():
        m = _VERBOSE.match(line)
        if m:
            found.append((m.group(1), m.group(2)))
    return found


def results_once(out):
    """{node id: WORD} of a -v run; fails if a test has more than one result line."""
    found = verbose_results(out)
    ids = [node for node, _ in found]
    dup = sorted({n for n in ids if ids.count(n) > 1})
    assert not dup, f"tests reported more than once: {dup}\n{out}"
    return dict(found)


def closing_line(out):
    """pytest's last line, "===== 2 passed, 1 crashed in 0.12s =====", without the '=' rule."""
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, "no output"
    return lines[-1].strip().strip("=").strip()


def closing_counts(out):
    """{word: n} of the closing line ("2 passed, 1 crashed in 0.12s" -> passed 2, crashed 1)."""
    line = closing_line(out)
    assert re.search(r" in [0-9.]+s\b", line), f"not a closing line: {line!r}\n{out}"
    counts = {}
    for n, word in re.findall(r"(\d+) ([a-z]+)", line.split(" in ")[0] if " in " in line else line):
        counts[_COUNT_WORDS.get(word, word)] = counts.get(_COUNT_WORDS.get(word, word), 0) + int(n)
    return counts


def lines_with(out, *parts):
    """The output lines that contain every one of parts."""
    return [line for line in out.splitlines() if all(p in line for p in parts)]


def describe(run):
    return f"exit {run.code}\n--- stdout ---\n{run.out}\n--- stderr ---\n{run.err}"


# --- processes -----------------------------------------------------------------------------

def _stat(pid):
    """(state, session id, start time) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0], int(fields[3]), int(fields[19])


def processes_in_session(sid):
    """{pid: start time} of the live (not zombie) processes whose session id is sid."""
    found = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            st = _stat(int(p))
            if st and st[1] == sid and st[0] != "Z":
                found[int(p)] = st[2]
    return found


def processes_in_dir(path):
    """{pid: start time} of the live processes, other than this one, whose cwd is path."""
    want = os.path.realpath(path)
    found = {}
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{p}/cwd")
        except OSError:
            continue
        st = _stat(int(p))
        if cwd == want and st and st[0] != "Z":
            found[int(p)] = st[2]
    return found


def still_alive(procs):
    """The pids of {pid: start time} that are still the same live process."""
    alive = []
    for pid, start in procs.items():
        st = _stat(pid)
        if st and st[0] != "Z" and st[2] == start:
            alive.append(pid)
    return alive


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def wait_until_gone(procs, seconds):
    """Waits up to seconds for every process of {pid: start time} to end; returns those left."""
    deadline = time.monotonic() + seconds
    while True:
        left = still_alive(procs)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def kill_all(procs):
    """SIGKILL, one by one, the processes of {pid: start time} still alive (test clean-up)."""
    import signal
    for pid in still_alive(procs):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def shm_entries():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()
