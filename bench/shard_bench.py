#!/usr/bin/env python3
"""--shard balance on networkx (issue 8): the two shards' wall times once durations are known,
side by side with pytest-split on the same split.

networkx's suite is copied out of the venv into $TMPDIR/dxpy-bench/networkx as
bench/agreement.py does. Then:

  1. durations: one whole run of each tool records them (dx-py: `.dx-py/durations.json`;
     pytest-split: `pytest --store-durations`, `.test_durations`), and both files are kept;
  2. REPEAT rounds; each round runs `dx-py test -n N --shard k/2` and
     `pytest --splits 2 --group k` for k = 1, 2. Every shard run starts from
     the kept durations file, as CI jobs restoring one cache do (a run rewrites the file,
     which would move the next shard's split).

Printed: per tool and shard, the median wall time and the test count; per tool, the
imbalance |t1 - t2| / max(t1, t2) (target for dx-py: under 10%), and pytest-split's time over
dx-py's per shard. --markdown writes the "## Sharding (issue 8)" section of bench/README.md.

    bench/shard_bench.py                  # 3 rounds, dx-py -n 1
    bench/shard_bench.py --repeat 5 --workers 2 --markdown
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agreement  # noqa: E402  (copy_suite, ENV, WORK)
from run_bench import pytest_counts  # noqa: E402

BIN = os.path.dirname(sys.executable)
DX_PY = os.path.join(BIN, "dx-py")
SECTION = "## Sharding (issue 8)"
TARGET = 0.10


def run(cmd, cwd, timeout=1800):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=agreement.ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    wall = time.perf_counter() - t0
    out = p.stdout + p.stderr
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{out[-3000:]}")
    counts = pytest_counts(out) or {}
    return wall, sum(v for k, v in counts.items() if k != "deselected"), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1, help="dx-py -n (pytest-split runs one process)")
    ap.add_argument("--markdown", nargs="?", const=os.path.join(HERE, "README.md"))
    args = ap.parse_args()
    try:
        import pytest_split  # noqa: F401
    except ImportError:
        sys.exit("pytest-split is not installed: pip install -r bench/requirements.txt")

    root = agreement.copy_suite("networkx", agreement.WORK)
    dx = [DX_PY, "test", "-q", "-n", str(args.workers), "--rootdir", root, "networkx"]
    py = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", root, "networkx"]
    store = os.path.join(agreement.WORK, "shard-bench")
    os.makedirs(store, exist_ok=True)
    dx_file = os.path.join(root, ".dx-py", "durations.json")
    py_file = os.path.join(root, ".test_durations")

    print("recording durations: one whole run of each tool", flush=True)
    for f in (dx_file, py_file):
        if os.path.exists(f):
            os.remove(f)
    whole_dx, n_dx, _ = run(dx, root)
    whole_py, n_py, _ = run(py + ["--store-durations", "--durations-path", py_file], root)
    shutil.copy(dx_file, os.path.join(store, "durations.json"))
    shutil.copy(py_file, os.path.join(store, "test_durations"))
    print(f"  dx-py whole run {whole_dx:.2f}s ({n_dx} tests), pytest {whole_py:.2f}s ({n_py} tests)", flush=True)

    times = {("dx-py", k): [] for k in (1, 2)} | {("pytest-split", k): [] for k in (1, 2)}
    tests = {}
    for rnd in range(args.repeat):
        for k in (1, 2):
            shutil.copy(os.path.join(store, "durations.json"), dx_file)
            wall, n, _ = run(dx + ["--shard", f"{k}/2"], root)
            times[("dx-py", k)].append(wall)
            tests[("dx-py", k)] = n
            shutil.copy(os.path.join(store, "test_durations"), py_file)
            wall, n, _ = run(py + ["--splits", "2", "--group", str(k), "--durations-path", py_file], root)
            times[("pytest-split", k)].append(wall)
            tests[("pytest-split", k)] = n
        print(f"  round {rnd + 1}: " + ", ".join(f"{t} {k}/2 {v[-1]:.2f}s" for (t, k), v in times.items()), flush=True)

    med = {key: statistics.median(v) for key, v in times.items()}
    rows = []
    for tool in ("dx-py", "pytest-split"):
        t1, t2 = med[(tool, 1)], med[(tool, 2)]
        imbalance = abs(t1 - t2) / max(t1, t2)
        rows.append((tool, t1, tests[(tool, 1)], t2, tests[(tool, 2)], imbalance))
    lines = ["| tool | shard 1/2: median s (tests) | shard 2/2: median s (tests) | imbalance |t1-t2|/max |",
             "|---|---|---|---|"]
    for tool, t1, n1, t2, n2, imb in rows:
        lines.append(f"| {tool} | {t1:.2f} ({n1}) | {t2:.2f} ({n2}) | {imb:.1%} |")
    ratio1 = med[("pytest-split", 1)] / med[("dx-py", 1)]
    ratio2 = med[("pytest-split", 2)] / med[("dx-py", 2)]
    slowest = max(med[("pytest-split", 1)], med[("pytest-split", 2)]) / max(med[("dx-py", 1)], med[("dx-py", 2)])
    dx_imb = rows[0][5]
    summary = (f"pytest-split time / dx-py time: shard 1 {ratio1:.2f}x, shard 2 {ratio2:.2f}x, slowest shard "
               f"{slowest:.2f}x. Target: dx-py's shards differ by under {TARGET:.0%}: "
               f"{'met' if dx_imb < TARGET else 'NOT met'} ({dx_imb:.1%}).")
    print()
    print("\n".join(lines))
    print(summary)

    if args.markdown:
        load = os.getloadavg()[0]
        cpu = platform.processor() or platform.machine()
        text = [SECTION, "",
                "`bench/shard_bench.py` splits networkx's suite in two with `dx-py test --shard k/2` and with "
                "pytest-split (`pytest --splits 2 --group k`), after one whole run of each has "
                "recorded the durations (`.dx-py/durations.json`, `.test_durations`). Every shard run starts from "
                "that recorded file, as CI jobs that restore one cache do. Median wall time of "
                f"{args.repeat} rounds; dx-py with `-n {args.workers}`, pytest-split in one process.",
                "",
                f"Run on {datetime.date.today().isoformat()} on {platform.platform()}, {os.cpu_count()} cores "
                f"({cpu}), Python {platform.python_version()}; load average {load:.1f} at the end. "
                f"Whole runs: dx-py {whole_dx:.2f}s, pytest {whole_py:.2f}s.",
                "", *lines, "", summary, ""]
        path = args.markdown
        old = open(path).read() if os.path.exists(path) else ""
        block = "\n".join(text)
        if SECTION in old:
            start = old.index(SECTION)
            nxt = re.search(r"^## ", old[start + len(SECTION):], re.M)
            end = start + len(SECTION) + nxt.start() if nxt else len(old)
            new = old[:start] + block + "\n" + old[end:]
        else:
            new = old.rstrip("\n") + "\n\n" + block
        with open(path, "w") as f:
            f.write(new)
        print(f"wrote the section into {path}")


if __name__ == "__main__":
    main()
