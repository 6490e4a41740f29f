#!/usr/bin/env python3
"""Watch mode latency (issue 6): from saving one source file to the first result of the
round it starts, in `dx-py test --watch` on networkx.

Workload: networkx's package (its tests live inside it) copied out of this venv into
$TMPDIR/dxpy-watch-bench/networkx/networkx, so edits never touch the venv. dx-py runs there
as `dx-py test --watch -v -n 2 PATHS` (default PATHS: networkx/algorithms/tests, so that
each round is a few seconds; every networkx module is imported by networkx/__init__.py, so
any edit affects every test file) in a pseudo-terminal, with DXPY_WATCH_TIMING=1.

Each of EDITS edits (default 20) appends a comment line to one networkx module (a different
one each time, cycling through a fixed list), timestamps the save, and reads the terminal
until the first result line (`path::test PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR`) and then
the end of the round (dx-py's "waiting for changes" line). Per edit:

  first       save -> first result line on the terminal
  own         what the first test's own run costs outside dx-py: a fresh interpreter
              importing that test's module and running nothing else (the import is part of
              any run of the test: every networkx module imports all of networkx)
  overhead    first - own: what watch mode adds (inotify, debounce, graph update, index,
              selection, worker start, protocol)
  round       save -> end of the round

and the medians; the target is overhead < 100 ms (median). dx-py's own timing lines
(DXPY_WATCH_TIMING) give the graph update per round.

Modes, side by side on the same edits (each from a fresh copy): `fork` (the default
watch mode: warm workers restarted as forks of the template process, pool/template.h) and
`spawn` (DXPY_WATCH_FORK=0: restarted warm workers are new interpreters, as before the
template). The load average is printed before and after each mode: the machine is shared.

    bench/watch_bench.py [--edits 20] [--modes fork spawn] [--paths networkx/algorithms/tests] [--json FILE]
"""
import argparse
import json
import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
WORK = os.path.join(os.environ.get("TMPDIR", "/tmp"), "dxpy-watch-bench")
ROOT = os.path.join(WORK, "networkx")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1",
           VIRTUAL_ENV=os.path.dirname(BIN), DXPY_WATCH_TIMING="1")
for _v in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS"):
    ENV.pop(_v, None)
EDITED = [  # networkx modules, edited in turn (a comment appended)
    "networkx/algorithms/cycles.py", "networkx/algorithms/dag.py", "networkx/algorithms/cluster.py",
    "networkx/algorithms/triads.py", "networkx/algorithms/core.py", "networkx/algorithms/euler.py",
    "networkx/algorithms/matching.py", "networkx/algorithms/cuts.py", "networkx/algorithms/dominance.py",
    "networkx/algorithms/hierarchy.py", "networkx/algorithms/isolate.py", "networkx/algorithms/richclub.py",
    "networkx/algorithms/smetric.py", "networkx/algorithms/tournament.py", "networkx/algorithms/wiener.py",
    "networkx/algorithms/boundary.py", "networkx/algorithms/bridges.py", "networkx/algorithms/chains.py",
    "networkx/algorithms/distance_regular.py", "networkx/algorithms/dominating.py",
]
RESULT = re.compile(r"^(\S+\.py::\S+) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)", re.M)
WAITING = "dx-py watch: waiting for changes"


def setup():
    import networkx
    src = os.path.dirname(networkx.__file__)
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    shutil.copytree(src, os.path.join(ROOT, "networkx"), ignore=shutil.ignore_patterns("__pycache__"))


class Term:
    def __init__(self, args, env=ENV):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, cwd=ROOT, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.buf = ""

    def read_until(self, pattern, timeout=600):
        """(match, arrival time of the chunk that completed it) after consuming up to it."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.consumed = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return m, self.last
            left = end - time.monotonic()
            if left <= 0:
                raise SystemExit(f"timeout waiting for {pattern!r}; output:\n{self.buf[-3000:]}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                data = os.read(self.master, 65536)
                self.last = time.monotonic()
                self.buf += data.decode(errors="replace").replace("\r\n", "\n")

    def quit(self):
        os.write(self.master, b"q")
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.master)


def own_import_ms(node_id, repeat=3):
    """A fresh interpreter importing the test's module (from the copy): median ms."""
    mod = node_id.split("::")[0][:-3].replace("/", ".")
    code = ("import sys, time; sys.path.insert(0, %r); t = time.perf_counter(); import %s; "
            "print((time.perf_counter() - t) * 1000)" % (ROOT, mod))
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_mode(mode, args):
    setup()
    env = dict(ENV, DXPY_WATCH_FORK="1" if mode == "fork" else "0")
    term = Term([os.path.join(BIN, "dx-py"), "test", "--watch", "-v", "-n", "2", *args.paths], env)
    term.read_until(re.escape(WAITING))  # the first round: everything
    time.sleep(2)  # the template (fork mode) starts after the first round: let it get ready
    rows = []
    for i in range(args.edits):
        rel = EDITED[i % len(EDITED)]
        path = os.path.join(ROOT, rel)
        with open(path, "a") as f:
            f.write(f"# watch_bench edit {i}\n")
            f.flush()
            saved = time.monotonic()
        m, first_at = term.read_until(RESULT.pattern)
        node = m.group(1)
        graph = re.findall(r"graph update for \d+ path\(s\) took ([0-9.]+) ms", term.consumed)
        _, end_at = term.read_until(re.escape(WAITING))
        own = own_import_ms(node)
        first = (first_at - saved) * 1000
        rows.append({"edit": rel, "first_ms": first, "own_ms": own, "overhead_ms": first - own,
                     "graph_ms": float(graph[0]) if graph else None,
                     "round_ms": (end_at - saved) * 1000, "first_test": node})
        print(f"[{mode}] {rel:45s} first {first:8.1f} ms  own {own:7.1f} ms  overhead {first - own:7.1f} ms  "
              f"round {rows[-1]['round_ms']:8.1f} ms  graph {rows[-1]['graph_ms']} ms  ({node})", flush=True)
    term.quit()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--modes", nargs="+", choices=["fork", "spawn"], default=["fork", "spawn"])
    ap.add_argument("--paths", nargs="*", default=["networkx/algorithms/tests"])
    ap.add_argument("--json")
    args = ap.parse_args()
    out = {}
    for mode in args.modes:
        before = load()
        rows = run_mode(mode, args)
        med = {k: statistics.median(r[k] for r in rows) for k in ("first_ms", "own_ms", "overhead_ms", "round_ms")}
        out[mode] = {"rows": rows, "median": med, "load_before": before, "load_after": load()}
    for mode, res in out.items():
        med = res["median"]
        print(f"{mode:5s}: median of {len(res['rows'])}: first result {med['first_ms']:.1f} ms, own "
              f"{med['own_ms']:.1f} ms, overhead {med['overhead_ms']:.1f} ms (target < 100 ms: "
              f"{'met' if med['overhead_ms'] < 100 else 'MISSED'}), round {med['round_ms']:.1f} ms; "
              f"load average {res['load_before']} before, {res['load_after']} after")
    if "fork" in out and "spawn" in out:
        f, sp = out["fork"]["median"], out["spawn"]["median"]
        print(f"spawn / fork: first result {sp['first_ms'] / f['first_ms']:.2f}x, overhead "
              f"{sp['overhead_ms']:.1f} ms vs {f['overhead_ms']:.1f} ms")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
