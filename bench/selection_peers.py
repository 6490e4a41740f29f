#!/usr/bin/env python3
"""Affected-test selection side by side (issue 6): dx-py's import graph, pytest-testmon
(coverage of the last run) and tach (its import graph, as a pytest plugin), on the ten edits
of bench/affected_bench.py.

Workload: ../shared/bench/gen_suite.py --files 200 --tests 30 --mix realistic --seed 7
(bench/affected_bench.py's tree), copied to $TMPDIR/dxpy-bench/peers and made a git
repository (tach compares with a git ref), with a minimal tach.toml (source_roots ["."]).
The peers run from a separate bench-only virtual environment (default /tmp/bench-venv, made
and filled by this script from bench/requirements.txt's pins: pytest-testmon==2.2.0,
tach==0.35.3), never this project's .venv.

Each edit changes the body of app/modK.py's `value` (`return E` -> `return 0 + E`: same
results, new code), asks each tool for its selection, and puts the file back:

  dx-py     `dx-py test --affected-by app/modK.py --collect-only -q` (no last-failed store)
  testmon   `pytest --testmon --collect-only -q -p no:tach` after one full `pytest --testmon`
            that recorded which code every test ran (failing tests stay selected: testmon
            re-runs them whatever changed, so those test ids are left out of its selection)
  tach      `pytest --tach-base HEAD --collect-only -q -p no:testmon` (git diff against HEAD)

Per edit and tool: the test files selected, missed (the DAG says affected, not selected:
a correctness defect), extra (selected, not affected), and the wall time of the selection
command (median of REPEAT). The DAG's expected set is affected_bench.py's (Python's ast).

    bench/selection_peers.py [--repeat 3] [--venv /tmp/bench-venv]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import affected_bench  # noqa: E402

BIN = os.path.dirname(sys.executable)
PEERS = os.path.join(affected_bench.WORK, "peers")


def env_for(venv_bin):
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1",
               VIRTUAL_ENV=os.path.dirname(venv_bin))
    for v in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(v, None)
    return env


def ensure_venv(venv):
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pins = [line.strip() for line in open(os.path.join(HERE, "requirements.txt"))
            if line.startswith(("pytest-testmon", "tach=="))]
    subprocess.run([py, "-m", "pip", "install", "-q", "pytest", *pins], check=True)
    return os.path.join(venv, "bin")


def git(*args):
    subprocess.run(["git", *args], cwd=PEERS, check=True, capture_output=True)


def setup_tree():
    affected_bench.ensure_tree()
    if os.path.exists(PEERS):
        shutil.rmtree(PEERS)
    shutil.copytree(affected_bench.TREE, PEERS, ignore=shutil.ignore_patterns("__pycache__", ".dx-py",
                                                                                ".pytest_cache"))
    with open(os.path.join(PEERS, "tach.toml"), "w") as f:
        f.write('source_roots = ["."]\n')
    with open(os.path.join(PEERS, ".gitignore"), "w") as f:
        f.write("__pycache__/\n.dx-py/\n.pytest_cache/\n.testmondata*\n")
    git("init", "-q")
    git("-c", "user.email=b@b", "-c", "user.name=bench", "add", "-A")
    git("-c", "user.email=b@b", "-c", "user.name=bench", "commit", "-q", "-m", "tree")


def files_of(listing, leave_out=frozenset()):
    return {line.split("::", 1)[0].replace("/", os.sep) for line in listing.splitlines()
            if "::" in line and line.strip() not in leave_out}


def timed(cmd, env, repeat, leave_out=frozenset()):
    walls, out = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=PEERS, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        out = p.stdout
        if p.returncode not in (0, 1, 5):
            sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return files_of(out, leave_out), statistics.median(walls) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--venv", default="/tmp/bench-venv")
    args = ap.parse_args()
    peer_bin = ensure_venv(args.venv)
    setup_tree()
    expected = affected_bench.expected_selection(PEERS)
    ranked = sorted(expected, key=lambda f: (len(expected[f]), f))
    n = len(ranked)
    chosen = sorted({ranked[round(i * (n - 1) / 9)] for i in range(10)})
    dx_env, peer_env = env_for(BIN), env_for(peer_bin)
    pytest = [os.path.join(peer_bin, "python"), "-m", "pytest"]
    # Warm-up: dx-py's index and graph; testmon's recording run (all tests).
    subprocess.run([os.path.join(BIN, "dx-py"), "test", "--collect-only", "-q"], cwd=PEERS, env=dx_env,
                   capture_output=True)
    rec = subprocess.run([*pytest, "--testmon", "-q", "-p", "no:tach"], cwd=PEERS,
                         env=peer_env, capture_output=True, text=True)
    failing = {line.split()[1] for line in rec.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))}
    tools = {
        "dx-py": ([os.path.join(BIN, "dx-py"), "test", "--collect-only", "-q", "--affected-by"], dx_env),
        "testmon": ([*pytest, "--testmon", "--collect-only", "-q", "-p", "no:tach"], peer_env),
        "tach": ([*pytest, "--tach-base", "HEAD", "--collect-only", "-q", "-p", "no:testmon", "-p",
                  "no:cacheprovider"], peer_env),
    }
    totals = {t: {"missed": 0, "extra": 0, "ms": []} for t in tools}
    print(f"tests failing at testmon's recording run (left out of its selections): {len(failing)}")
    print("| edited | expected | " + " | ".join(f"{t} sel / missed / extra / ms" for t in tools) + " |")
    print("|---|---:|" + "---:|" * len(tools))
    for rel in chosen:
        path = os.path.join(PEERS, rel)
        original = open(path).read()
        edited = original.replace("\n    return ", "\n    return 0 + ", 1)
        assert edited != original, rel
        with open(path, "w") as f:
            f.write(edited)
        want = expected[rel]
        cells = []
        try:
            for tool, (cmd, env) in tools.items():
                full = [*cmd, rel] if tool == "dx-py" else cmd
                # testmon re-selects the tests that failed last time whatever changed: those
                # are left out, so that its files are the ones it selects for the edit.
                got, ms = timed(full, env, args.repeat, failing if tool == "testmon" else frozenset())
                missed = len(want - got)
                extra_files = got - want
                totals[tool]["missed"] += missed
                totals[tool]["extra"] += len(extra_files)
                totals[tool]["ms"].append(ms)
                cells.append(f"{len(got)} / {missed} / {len(extra_files)} / {ms:.0f}")
        finally:
            with open(path, "w") as f:
                f.write(original)
        print(f"| {rel} | {len(want)} | " + " | ".join(cells) + " |", flush=True)
    print("| **total** | | " + " | ".join(
        f"missed {v['missed']}, extra {v['extra']}, median {statistics.median(v['ms']):.0f} ms"
        for v in totals.values()) + " |")


if __name__ == "__main__":
    main()
