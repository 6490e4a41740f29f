#!/usr/bin/env python3
"""Snapshot benchmark: what checking 10,000 matching snapshots adds to a run, for dx-py and
for pytest with syrupy, on the same values.

Trees (200 files x 50 tests, in $TMPDIR/dxpy-bench/snap-*), each test building the same
value (--value small: a short string; nested: a dict with a list, a tuple and a set):

  plain      the test builds the value and asserts a trivial fact about it (the baseline)
  plain-fix  the same taking the `request` fixture (the baseline of the fixture form)
  dx         `dx.snapshot(value)`
  dx-fix     `assert value == snapshot` (dx-py's fixture)
  syrupy     `assert value == snapshot` (syrupy's fixture, run by pytest)

The snapshots are written by one run first (dx-py: a plain run writes them; syrupy:
--snapshot-update), so every measured run only matches. Each tool runs REPEAT times in
rounds (every variant once per round, so the machine's load weighs on all alike); the table
gives median wall times and "added": a variant's median minus its runner's plain median, and
that per snapshot. The target: dx-py's added time under 20 ms for 10,000 matching snapshots.
"cpu s" is the user + system time of the run's whole process tree (the runner and its
workers, from getrusage), less swayed than wall time by other load on the machine.

A second table times the first run, which writes all 10,000 entries: before each such run
the snapshots (and dx-py's index) are deleted; syrupy runs with --snapshot-update.

    bench/snapshot_bench.py [--repeat 5] [--value small|nested] [--files 200] [--tests 50] [--no-syrupy] [--no-write]
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
WORK = os.path.join(os.environ.get("TMPDIR", "/tmp"), "dxpy-bench")
ENV = dict(os.environ, VIRTUAL_ENV=os.path.dirname(BIN), PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
           NO_COLOR="1")
ENV.pop("PYTHONDONTWRITEBYTECODE", None)

VALUES = {
    "small": '"item-%d"',
    "nested": '{"id": %d, "name": "item-%d", "tags": ["a", "b"], "pos": (1, 2), "flags": {3, 1, 2}}',
}
BODIES = {
    "plain": "    value = VALUE\n    assert value\n",
    "plain-fix": "    value = VALUE\n    assert value\n",
    "dx": "    value = VALUE\n    dx.snapshot(value)\n",
    "dx-fix": "    value = VALUE\n    assert value == snapshot\n",
    "syrupy": "    value = VALUE\n    assert value == snapshot\n",
}


def make_tree(variant, files, tests, value):
    root = os.path.join(WORK, f"snap-{variant}-{value}-{files}x{tests}")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "tests"))
    with open(os.path.join(root, "pytest.ini"), "w") as f:
        f.write("[pytest]\ntestpaths = tests\n")
    uses_fixture = variant in ("dx-fix", "syrupy", "plain-fix")
    for i in range(files):
        lines = ["import dx_py_test_runner as dx\n\n"] if variant == "dx" else []
        for k in range(tests):
            n = i * tests + k
            arg = ("request" if variant == "plain-fix" else "snapshot") if uses_fixture else ""
            body = BODIES[variant].replace("VALUE", VALUES[value]).replace("%d", str(n))
            lines.append(f"def test_{k}({arg}):\n" + body + "\n")
        with open(os.path.join(root, "tests", f"test_f{i}.py"), "w") as f:
            f.write("".join(lines))
    return root


def command(variant):
    if variant == "syrupy":
        return [os.path.join(BIN, "pytest"), "-q", "-p", "no:cacheprovider", "tests"]
    if variant == "syrupy-plain":
        return [os.path.join(BIN, "pytest"), "-q", "-p", "no:cacheprovider", "-p", "no:syrupy", "tests"]
    return [os.path.join(BIN, "dx-py"), "test", "-q", "tests"]


def _cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # every waited-for descendant
    return r.ru_utime + r.ru_stime


def run(cmd, cwd, cpu=None):
    c = _cpu()
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - t
    if cpu is not None:
        cpu.append(_cpu() - c)
    return wall, p.returncode, p.stdout


def forget_snapshots(root):
    shutil.rmtree(os.path.join(root, "tests", "__snapshots__"), ignore_errors=True)
    try:
        os.unlink(os.path.join(root, ".dx-py", "snapshots.idx"))
    except FileNotFoundError:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--tests", type=int, default=50)
    ap.add_argument("--no-syrupy", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="skip the table of first runs that write every entry")
    ap.add_argument("--value", choices=sorted(VALUES), default="small",
                    help="small: a short string; nested: a dict with a list, a tuple and a set")
    args = ap.parse_args()
    total = args.files * args.tests
    variants = [("dx-py plain", "plain", "plain"), ("dx-py dx.snapshot()", "dx", "dx"),
                ("dx-py plain-fixture", "plain-fix", "plain-fix"), ("dx-py == snapshot", "dx-fix", "dx-fix")]
    if not args.no_syrupy:
        variants += [("pytest plain", "plain", "syrupy-plain"), ("pytest + syrupy", "syrupy", "syrupy")]
    trees = {}
    for _, tree, _ in variants:
        if tree not in trees:
            trees[tree] = make_tree(tree, args.files, args.tests, args.value)
    # Write the snapshots (and the index, the bytecode caches), then check they all match.
    for label, tree, kind in variants:
        cmd = command(kind)
        if kind == "syrupy":
            run(cmd + ["--snapshot-update"], trees[tree])
        else:
            run(cmd, trees[tree])
        wall, code, out = run(cmd, trees[tree])
        last = out.strip().splitlines()[-1] if out.strip() else ""
        if code != 0 or f"{total} passed" not in last or "written" in last:
            sys.exit(f"{label}: not all {total} tests passed with matching snapshots:\n{out[-2000:]}")
    times = {label: [] for label, _, _ in variants}
    cpus = {label: [] for label, _, _ in variants}
    for _ in range(args.repeat):
        for label, tree, kind in variants:
            wall, code, _ = run(command(kind), trees[tree], cpus[label])
            if code != 0:
                sys.exit(f"{label}: exit {code}")
            times[label].append(wall)
    med = {label: statistics.median(ts) for label, ts in times.items()}
    cpu = {label: statistics.median(ts) for label, ts in cpus.items()}
    base = {"dx-py": med["dx-py plain"], "pytest": med.get("pytest plain")}
    print(f"{total} tests, each checking one matching snapshot of a {args.value} value "
          f"({VALUES[args.value]}); median of {args.repeat} runs")
    print()
    print("| variant | median s | added ms | added us / snapshot | cpu s | added cpu ms |")
    print("|---|---|---|---|---|---|")
    for label, _, _ in variants:
        runner = label.split()[0]
        if label.endswith("plain"):
            print(f"| {label} | {med[label]:.3f} | (baseline) | | {cpu[label]:.3f} | |")
            continue
        # The fixture form's baseline is a test that takes a fixture too (the engine's
        # fixture path costs more than the fast path of a plain test).
        base_label = "dx-py plain-fixture" if label == "dx-py == snapshot" else f"{runner} plain"
        added = med[label] - med[base_label]
        added_cpu = cpu[label] - cpu[base_label]
        print(f"| {label} | {med[label]:.3f} | {added * 1e3:.1f} | {added * 1e6 / total:.2f} | {cpu[label]:.3f} | "
              f"{added_cpu * 1e3:.1f} |")
    dx_added = (med["dx-py dx.snapshot()"] - base["dx-py"]) * 1e3
    print()
    print(f"dx-py dx.snapshot(): {dx_added:.1f} ms added for {total} snapshots (target < 20 ms): "
          f"{'met' if dx_added < 20 else 'NOT met'}")
    if not args.no_syrupy:
        sy = med["pytest + syrupy"] - base["pytest"]
        dx_fix = med["dx-py == snapshot"] - med["dx-py plain-fixture"]
        if dx_fix > 0:
            print(f"syrupy's added time / dx-py's (== snapshot): {sy / dx_fix:.0f}x")
    if not args.no_write:
        write_table(args, trees, total)


def write_table(args, trees, total):
    """The first run: every entry written (the snapshots deleted before each run)."""
    rows = [("dx-py dx.snapshot()", "dx", command("dx")), ("dx-py == snapshot", "dx-fix", command("dx-fix"))]
    if not args.no_syrupy:
        rows.append(("pytest + syrupy", "syrupy", command("syrupy") + ["--snapshot-update"]))
    times = {label: [] for label, _, _ in rows}
    for _ in range(args.repeat):
        for label, tree, cmd in rows:
            forget_snapshots(trees[tree])
            wall, code, out = run(cmd, trees[tree])
            last = out.strip().splitlines()[-1] if out.strip() else ""
            if code != 0 or ("syrupy" not in label and f"{total} snapshots written" not in last):
                sys.exit(f"{label}: the first run did not write {total} snapshots:\n{out[-2000:]}")
            times[label].append(wall)
    print()
    print(f"First run, writing all {total} entries; median of {args.repeat} runs")
    print()
    print("| variant | median s |")
    print("|---|---|")
    for label, _, _ in rows:
        print(f"| {label} | {statistics.median(times[label]):.3f} |")


if __name__ == "__main__":
    main()
