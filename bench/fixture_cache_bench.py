#!/usr/bin/env python3
"""The persistent fixture cache (issue 7): a session fixture that takes 2 s to build a 200 MB
numpy array, cached with `@dx.fixture(cache=True)`, against pytest's own way of keeping a
value between runs, `request.config.cache.get/set` (JSON in .pytest_cache).

Workload, in $TMPDIR/dxpy-bench/fixture-cache/<variant>: a conftest with the fixture `big`
(numpy.random.default_rng(0).random(25_000_000), float64, 200 MB, padded with sleep to 2 s)
and one test that asks for `t0` (a session fixture returning time.perf_counter()) and then
`big`: both runners set fixtures of one scope up in argument order, so the test's first line
measures the setup of `big` alone (the load, on a cached run) and writes it to a file. The test then
checks the array's first values and its length.

Variants (each run REPEAT+1 times; the first run computes, the others are "warm"):

  dx-py, dx.fixture(cache=True)        `dx-py test -q`
  pytest, dx.fixture(cache=True)       `python -m pytest -q` (dx.fixture is pytest.fixture there)
  pytest, config.cache (array)         request.config.cache.set("big", array): JSON cannot hold it
  pytest, config.cache (tolist)        .set("big", array.tolist()), np.array(.get("big")): what it
                                       takes to keep the array in pytest's cache anyway
  dx-py, no cache                      the plain fixture: 2 s on every run

Prints per variant: the setup of `big` on the first run and the median over the warm runs,
the median wall time of the warm runs (process start to exit: most of it is importing numpy
and pytest, about 1 s on the shared machine), the entry's size on disk, and the exit code.

    bench/fixture_cache_bench.py [--repeat 3] [--mb 200]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time

BIN = os.path.dirname(sys.executable)
WORK = os.path.join(os.environ.get("TMPDIR", "/tmp"), "dxpy-bench", "fixture-cache")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1")
ENV.pop("PYTHONDONTWRITEBYTECODE", None)

BUILD = """
import os
import time

import numpy as np
import pytest

import dx_py_test_runner as dx

N = {n}


def build():
    start = time.perf_counter()
    a = np.random.default_rng(0).random(N)
    time.sleep(max(0.0, 2.0 - (time.perf_counter() - start)))
    return a


@pytest.fixture(scope="session")
def t0():
    return time.perf_counter()
"""

FIXTURES = {
    "dx_cache": """
@dx.fixture(scope="session", cache=True)
def big():
    return build()
""",
    "pytest_cache_array": """
@pytest.fixture(scope="session")
def big(request):
    a = request.config.cache.get("bench/big", None)
    if a is None:
        a = build()
        request.config.cache.set("bench/big", a)
    return a
""",
    "pytest_cache_tolist": """
@pytest.fixture(scope="session")
def big(request):
    a = request.config.cache.get("bench/big", None)
    if a is not None:
        return np.array(a)
    a = build()
    request.config.cache.set("bench/big", a.tolist())
    return a
""",
    "plain": """
@dx.fixture(scope="session")
def big():
    return build()
""",
}

TEST = """
import os
import time

import numpy as np


def test_big(t0, big):
    setup = time.perf_counter() - t0
    with open(os.path.join(os.path.dirname(__file__), "setup_times"), "a") as f:
        f.write(f"{{setup}}\\n")
    assert len(big) == {n}
    assert np.array_equal(big[:4], np.random.default_rng(0).random(4))
"""

VARIANTS = [
    ("dx-py, dx.fixture(cache=True)", "dx", "dx_cache"),
    ("pytest, dx.fixture(cache=True)", "pytest", "dx_cache"),
    ("pytest, config.cache (array)", "pytest", "pytest_cache_array"),
    ("pytest, config.cache (tolist)", "pytest", "pytest_cache_tolist"),
    ("dx-py, no cache", "dx", "plain"),
]


def command(runner):
    if runner == "dx":
        return [os.path.join(BIN, "dx-py"), "test", "-q", "-n", "1"]
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"]


def make_project(name, fixture, n):
    root = os.path.join(WORK, name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    with open(os.path.join(root, "conftest.py"), "w") as f:
        f.write(BUILD.format(n=n) + FIXTURES[fixture])
    with open(os.path.join(root, "test_big.py"), "w") as f:
        f.write(TEST.format(n=n))
    with open(os.path.join(root, "pytest.ini"), "w") as f:
        f.write("[pytest]\n")
    return root


def du(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(dirpath, name))
    return total


def measure(label, runner, fixture, repeat, n):
    root = make_project(f"{runner}-{fixture}", fixture, n)
    walls, codes, last = [], [], None
    for _ in range(repeat + 1):
        start = time.perf_counter()
        p = subprocess.run(command(runner), cwd=root, env=ENV, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        codes.append(p.returncode)
        last = p
    setups = [float(x) for x in open(os.path.join(root, "setup_times")).read().split()] \
        if os.path.exists(os.path.join(root, "setup_times")) else []
    stored = du(os.path.join(root, ".dx-py", "fixtures")) + du(os.path.join(root, ".pytest_cache", "v", "bench"))
    note = ""
    if any(codes):
        text = last.stdout + last.stderr
        note = next((line.strip() for line in text.splitlines() if "Error" in line and "serializ" in line),
                    text.strip().splitlines()[-1] if text.strip() else "")
    return {
        "label": label,
        "first_setup": setups[0] if setups else None,
        "warm_setup": statistics.median(setups[1:]) if len(setups) > 1 else None,
        "first_wall": walls[0],
        "warm_wall": statistics.median(walls[1:]),
        "stored_mb": stored / 1e6,
        "exit": ",".join(str(c) for c in sorted(set(codes))),
        "note": note,
    }


def fmt(x, unit=1.0, digits=3):
    return "n/a" if x is None else f"{x * unit:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="warm runs per variant (after the first)")
    ap.add_argument("--mb", type=int, default=200, help="size of the array in MB")
    ap.add_argument("--only", help="comma-separated fixture kinds: dx_cache,pytest_cache_array,...")
    args = ap.parse_args()
    n = args.mb * 1_000_000 // 8
    rows = []
    for label, runner, fixture in VARIANTS:
        if args.only and fixture not in args.only.split(","):
            continue
        print(f"... {label}", file=sys.stderr, flush=True)
        rows.append(measure(label, runner, fixture, args.repeat, n))
    base = next((r["warm_setup"] for r in rows if r["label"].startswith("dx-py, dx.fixture")), None)
    print(f"\n{args.mb} MB float64 array, built in 2 s; {args.repeat} warm runs each (median)\n")
    print("| variant | setup of `big`, first run s | setup, warm runs ms | warm setup / dx-py | "
          "wall, first run s | wall, warm runs s | stored MB | exit |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = "n/a" if base is None or r["warm_setup"] is None else f"{r['warm_setup'] / base:.1f}x"
        print(f"| {r['label']} | {fmt(r['first_setup'])} | {fmt(r['warm_setup'], 1000, 1)} | {ratio} | "
              f"{fmt(r['first_wall'])} | {fmt(r['warm_wall'])} | {r['stored_mb']:.0f} | {r['exit']} |")
    for r in rows:
        if r["note"]:
            print(f"\n{r['label']}: {r['note']}")


if __name__ == "__main__":
    main()
