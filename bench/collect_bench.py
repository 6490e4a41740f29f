#!/usr/bin/env python3
"""Collection benchmark: dx-py against pytest, rtest and karva on the same trees, in one run.

Workloads: the test folders of the real suites (toolz, simplejson, mpmath, networkx) and two
generated trees: 1,000 files of 20 tests, and 100,000 tests (gen_suite.py --files 2000 --tests 50). For each, every tool
collects the tree REPEAT times, in rounds (every tool once per round); the table gives the
median wall time (each process started straight from the benchmark, nothing wrapped around
it), MB/s of test source, peak RSS (from one more run under GNU time), and the ratio of each
peer's time to dx-py's cold time.

  dx-py cold   `dx-py test --collect-only -q` with no .dx-py cache (parse everything)
  dx-py warm   the same with the index valid and nothing changed
  pytest       `pytest --collect-only -q`
  rtest        `rtest --collect-only`
  karva        `karva test` with a filter that selects nothing (karva has no collect-only mode:
               this measures its discovery plus start-up)
  floor        `/usr/bin/true`, measured the same way: starting any process costs this much, so
               its MB/s bounds what any collector can show on the tree

    bench/collect_bench.py [--repeat 5] [--quick]

Trees are kept in $TMPDIR/dxpy-bench between runs.
"""
import argparse
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
SHARED = os.path.join(HERE, "..", "..", "shared")
WORK = os.path.join(os.environ.get("TMPDIR", "/tmp"), "dxpy-bench")


ENV = dict(os.environ, VIRTUAL_ENV=os.path.dirname(BIN), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def run_timed(cmd, cwd):
    """Wall time (s) and exit code of one run of cmd, started straight from here."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, p.returncode


def peak_rss(cmd, cwd):
    """Peak RSS (MB) of one run of cmd, from GNU time: a child started from this Python
    process would inherit the interpreter's RSS high-water mark at exec and hide a small
    tool's own peak. A run of its own, so that GNU time's start-up (about 1 ms here) is not
    counted in the wall times."""
    with tempfile.NamedTemporaryFile("r") as rss:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], cwd=cwd, env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = rss.read().split()
    return int(lines[-1]) / 1024.0 if lines else float("nan")


def source_bytes(root, target):
    total = 0
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, target)):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
        for f in filenames:
            if f.endswith(".py") and (f.startswith("test_") or f.endswith("_test.py") or f == "conftest.py"):
                total += os.path.getsize(os.path.join(dirpath, f))
    return total


def tools(root, target):
    cache = os.path.join(root, ".dx-py")
    dx = [os.path.join(BIN, "dx-py"), "test", "--collect-only", "-q", "--rootdir", root, target]
    return [
        ("dx-py cold", dx, lambda: shutil.rmtree(cache, ignore_errors=True)),
        ("dx-py warm", dx, None),
        ("pytest", [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                    "--rootdir", root, target], None),
        ("rtest", [os.path.join(BIN, "rtest"), "--collect-only", target], None),
        ("karva", [os.path.join(BIN, "karva"), "test", "-E", "test(=dxpy_selects_nothing)",
                   os.path.join(root, target)], None),
        # Starting a process that does nothing, measured the same way: no tool can be faster,
        # so its MB/s is the most any collector can show on this tree here.
        ("floor: /usr/bin/true", ["/usr/bin/true"], None),
    ]


def bench(label, root, target, repeat):
    mb = source_bytes(root, target) / 1e6
    present = [(name, cmd, before) for name, cmd, before in tools(root, target)
               if os.path.exists(cmd[0]) or cmd[0].endswith("python")]
    walls = {name: [] for name, _, _ in present}
    codes = {}
    # In rounds: each round runs every tool once (dx-py cold, then warm on the index the cold
    # run wrote), so that a change in the shared machine's speed weighs on all of them alike.
    for _ in range(repeat):
        for name, cmd, before in present:
            if before:
                before()
            w, codes[name] = run_timed(cmd, root)
            walls[name].append(w)
    rows = []
    for name, cmd, before in present:
        if before:
            before()
        rows.append((name, statistics.median(walls[name]), peak_rss(cmd, root), codes[name]))
    base = rows[0][1]
    print(f"\n{label}: {mb:.2f} MB of test source")
    print(f"| tool | median s | MB/s | peak RSS MB | time / dx-py cold | exit |")
    print(f"|---|---|---|---|---|---|")
    for name, wall, rss, code in rows:
        print(f"| {name} | {wall:.3f} | {mb / wall:.1f} | {rss:.0f} | {wall / base:.1f}x | {code} |")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the generated trees")
    ap.add_argument("--only", choices=["suites", "gen1k", "gen100k"], help="run one group of workloads")
    args = ap.parse_args()
    # Each suite is copied out of the venv into its own folder, outside any project, so that
    # every tool sees the same plain tree (karva and rtest look for a project root upwards).
    for name in ("toolz", "simplejson", "mpmath", "networkx") if args.only in (None, "suites") else ():
        pkg = os.path.dirname(importlib.import_module(name).__file__)
        root = os.path.join(WORK, name)
        if not os.path.isdir(os.path.join(root, name)):
            shutil.copytree(pkg, os.path.join(root, name), ignore=shutil.ignore_patterns("__pycache__"))
        bench(name, root, name, args.repeat)
    # 1,000 files for the warm-collection target, and 100,000 tests for scale and memory.
    generated = [("gen1k", "1,000 files, 20,000 tests", "1000", "20"),
                 ("gen100k", "100,000 tests (2,000 files)", "2000", "50")]
    for key, label, files, tests in generated:
        if args.quick or args.only not in (None, key):
            continue
        tree = os.path.join(WORK, key)
        if not os.path.exists(os.path.join(tree, "expected.json")):
            subprocess.run([sys.executable, os.path.join(SHARED, "bench", "gen_suite.py"), tree, "--files", files,
                            "--tests", tests, "--mix", "trivial"], check=True, stdout=subprocess.DEVNULL)
        bench(f"generated {label}", tree, "tests", args.repeat)

if __name__ == "__main__":
    main()
