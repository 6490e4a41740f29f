#!/usr/bin/env python3
"""What following pytest_collection_modifyitems's order costs (session/hook_order.h).

The realistic generated suite (../shared/bench/gen_suite.py --files 200 --tests 30 --mix
realistic --seed 7, 9,005 items) in three copies that differ only in tests/conftest.py:

  no hook     as generated
  marks only  + a hook that marks tests and never reorders: the order process answers
              `keep` from a static look at the conftest (a Python start, no import)
  sort        + a hook that sorts the items by name: one whole-session collection in the
              order process before the run, then the run in that order

Each copy is run with `dx-py test -n 1` and `-n 2` (warm index: one run first, not timed),
and the sorting copy with pytest (`-p no:cacheprovider`, one process) for reference, in
REPEAT rounds (each round runs every command once, so a change in the shared machine's load
weighs on all alike). The table gives the median wall time, the ratio to the same dx-py
command on the copy without the hook, and the exit code.

    .venv/bin/python bench/hook_order_bench.py [--repeat 5]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GEN_SUITE = os.path.join(os.path.dirname(ROOT), "shared", "bench", "gen_suite.py")
if not os.path.exists(GEN_SUITE):
    GEN_SUITE = "/work/shared/bench/gen_suite.py"
GEN_ARGS = ["--files", "200", "--tests", "30", "--mix", "realistic", "--seed", "7"]
BIN = os.path.dirname(sys.executable)
DX_PY = os.path.join(BIN, "dx-py")

HOOKS = {
    "no hook": "",
    "marks only": """

def pytest_collection_modifyitems(config, items):
    for item in items:
        if "slow" in item.keywords:
            item.add_marker("bench_seen")
""",
    "sort": """

def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.name)
""",
}


def prepare(work):
    base = os.path.join(work, "base")
    if not os.path.exists(os.path.join(base, "expected.json")):
        shutil.rmtree(base, ignore_errors=True)
        subprocess.run([sys.executable, GEN_SUITE, base, *GEN_ARGS], check=True, stdout=subprocess.DEVNULL)
    trees = {}
    for name, hook in HOOKS.items():
        tree = os.path.join(work, name.replace(" ", "_"))
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(base, tree)
        with open(os.path.join(tree, "tests", "conftest.py"), "a") as f:
            f.write(hook)
        trees[name] = tree
    return trees


def timed(cmd, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["NO_COLOR"] = "1"
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, p.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "dxpy-hook-order-bench"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    trees = prepare(args.work)
    commands = []
    for name, tree in trees.items():
        for n in ("1", "2"):
            commands.append((name, f"dx-py -n {n}", [DX_PY, "test", "-n", n, "-q"], tree))
    commands.append(("sort", "pytest", [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
                     trees["sort"]))
    for _, _, cmd, tree in commands:
        if cmd[0] == DX_PY:
            timed(cmd, tree)  # the index, and the bytecode caches
    times = {(n, t): [] for n, t, _, _ in commands}
    codes = {}
    for r in range(args.repeat):
        for name, tool, cmd, tree in commands:
            secs, code = timed(cmd, tree)
            times[(name, tool)].append(secs)
            codes[(name, tool)] = code
        print(f"round {r + 1}/{args.repeat} done", file=sys.stderr)
    print(f"| suite copy | command | median s | vs the copy without the hook | exit |")
    print("| --- | --- | --- | --- | --- |")
    for name, tool, _, _ in commands:
        med = statistics.median(times[(name, tool)])
        base = times.get(("no hook", tool))
        ratio = f"{med / statistics.median(base):.2f}x" if base else "-"
        print(f"| {name} | {tool} | {med:.2f} | {ratio} | {codes[(name, tool)]} |")


if __name__ == "__main__":
    main()
