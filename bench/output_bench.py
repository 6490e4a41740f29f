#!/usr/bin/env python3
"""Output benchmark: what pytest's layout, the colours and the live progress bar cost.

The 10k workload of run_bench.py (200 files x 50 trivial tests, $TMPDIR/dxpy-bench/exec10k,
made by run_bench.py) run with a warm index, REPEAT times in rounds, in four ways:

  pipe          `dx-py test tests` with stdout a pipe: plain lines (what CI sees)
  pipe, colour  the same with --color=yes
  pty, live     stdout a pseudo-terminal: colours and the live bar redrawn in place
  pty, --ci     the same terminal with --ci: plain lines

and, with --baseline PATH, another dx-py executable on the pipe (an older build). Prints
the median wall time of each, its ratio to `pipe`, and the bytes written.

    bench/output_bench.py [--repeat 7] [--baseline /path/to/dx-py]
"""
import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DX_PY = os.path.join(os.path.dirname(sys.executable), "dx-py")
TREE = os.path.join(os.environ.get("TMPDIR", tempfile.gettempdir()), "dxpy-bench", "exec10k")


def env():
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PY_COLORS", "CI", "COLUMNS")}
    e.update(TERM="xterm-256color", LANG="C.UTF-8")
    return e


def on_pipe(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=TREE, capture_output=True, env=env())
    return time.perf_counter() - t, p.returncode, len(p.stdout)


def on_pty(cmd):
    leader, follower = pty.openpty()
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=TREE, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env())
    os.close(follower)
    n = 0
    while True:  # read as a terminal would, as fast as it comes
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(leader, 1 << 16)
        except OSError:
            break
        if not data:
            break
        n += len(data)
    code = p.wait()
    elapsed = time.perf_counter() - t
    os.close(leader)
    return elapsed, code, n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--baseline", help="another dx-py executable to run on the pipe")
    args = ap.parse_args()
    if not os.path.isdir(TREE):
        sys.exit(f"{TREE} is missing: run bench/run_bench.py --only 10k --repeat 1 once to make it")
    base = [DX_PY, "test", "tests"]
    ways = {
        "pipe": (on_pipe, base),
        "pipe, colour": (on_pipe, base + ["--color=yes"]),
        "pty, live": (on_pty, base),
        "pty, --ci": (on_pty, base + ["--ci"]),
    }
    if args.baseline:
        ways["pipe, baseline"] = (on_pipe, [args.baseline, "test", "tests"])
    on_pipe(base)  # the index, warm
    times = {w: [] for w in ways}
    sizes = {}
    for _ in range(args.repeat):
        for w, (run, cmd) in ways.items():
            secs, code, size = run(cmd)
            if code != 0:
                sys.exit(f"{w}: exit code {code}")
            times[w].append(secs)
            sizes[w] = size
    ref = statistics.median(times["pipe"])
    print(f"10,000 trivial tests, warm index, median of {args.repeat} (rounds); machine: {os.cpu_count()} cores")
    print(f"{'way':<16} {'median s':>9} {'vs pipe':>8} {'bytes out':>10}")
    for w in ways:
        m = statistics.median(times[w])
        print(f"{w:<16} {m:>9.3f} {m / ref:>7.2f}x {sizes[w]:>10}")


if __name__ == "__main__":
    main()
