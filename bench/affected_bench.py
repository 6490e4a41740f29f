#!/usr/bin/env python3
"""Affected-test selection (issue 6): editing one source module selects exactly the test files
that import it, directly or through other modules.

Workload: ../shared/bench/gen_suite.py --files 200 --tests 30 --mix realistic --seed 7, in
$TMPDIR/dxpy-bench/realistic (the tree bench/agreement.py uses). Its app/modNNN.py modules
import each other as a DAG and each test file imports some of them. The expected selection
for an edit of app/modK.py is computed here, independently of dx-py, with Python's ast: the
test files whose imports reach modK through the DAG (every `import`/`from ... import` of the
tree, resolved against the tree's root).

For TEN modules chosen across the DAG (the roots, the middle and the leaves: the ones that
many, some and few files reach), the script asks

  dx-py        `dx-py test --affected-by app/modK.py --collect-only -q`: the test files of the
               node ids it lists

and prints, per edit: expected files, selected files, missed (expected, not selected: a
defect), extra (selected, not expected), and the median wall time of REPEAT runs of the
command (process start, index and graph load, selection, listing).

    bench/affected_bench.py [--repeat 5]
"""
import argparse
import ast
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
SHARED = os.path.join(HERE, "..", "..", "shared")
WORK = os.path.join(os.environ.get("TMPDIR", "/tmp"), "dxpy-bench")
TREE = os.path.join(WORK, "realistic")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1")
ENV.pop("PYTHONDONTWRITEBYTECODE", None)


def ensure_tree():
    if not os.path.exists(os.path.join(TREE, "expected.json")):
        subprocess.run([sys.executable, os.path.join(SHARED, "bench", "gen_suite.py"), TREE, "--files", "200",
                        "--tests", "30", "--mix", "realistic", "--seed", "7"], check=True,
                       stdout=subprocess.DEVNULL)


def python_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
        for f in filenames:
            if f.endswith(".py"):
                yield os.path.relpath(os.path.join(dirpath, f), root)


def module_of(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(root, rel, modules):
    """The modules of the tree that `rel` imports (absolute and relative, `from a import b`
    where b is a module too)."""
    tree = ast.parse(open(os.path.join(root, rel), encoding="utf-8").read())
    package = module_of(rel).rsplit(".", 1)[0] if not rel.endswith("__init__.py") else module_of(rel)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".") if package else []
                pkg = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                base = ".".join([*pkg, base]) if base else ".".join(pkg)
            out.add(base)
            for a in node.names:
                out.add(f"{base}.{a.name}" if base else a.name)
    found = set()
    for name in out:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # a.b.c depends on a and a.b (their __init__) too
            prefix = ".".join(parts[:i])
            if prefix in modules:
                found.add(prefix)
    return found


def expected_selection(root):
    files = list(python_files(root))
    modules = {module_of(f): f for f in files}
    deps = {f: {modules[m] for m in imports_of(root, f, modules)} for f in files}
    dependents = {f: set() for f in files}
    for f, ds in deps.items():
        for d in ds:
            dependents[d].add(f)

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            cur = todo.pop()
            for nxt in dependents[cur]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    tests = {f for f in files if os.path.basename(f).startswith("test_")}
    return {f: reach(f) & tests for f in files if f.startswith("app" + os.sep) and not f.endswith("__init__.py")}


def dx_selection(root, rel, repeat):
    cmd = [os.path.join(BIN, "dx-py"), "test", "--affected-by", rel, "--collect-only", "-q"]
    walls = []
    out = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=root, env=ENV, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        out = p.stdout
        if p.returncode not in (0, 5):
            sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    files = {line.split("::", 1)[0].replace("/", os.sep) for line in out.splitlines() if "::" in line}
    return files, statistics.median(walls)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    ensure_tree()
    expected = expected_selection(TREE)
    ranked = sorted(expected, key=lambda f: (len(expected[f]), f))
    n = len(ranked)
    chosen = sorted({ranked[round(i * (n - 1) / 9)] for i in range(10)})
    # The last failures are selected too (they come on top of the graph's selection): without
    # a store, the selection is the graph's alone. The index and graph are built once first,
    # as after any earlier run.
    lastfailed = os.path.join(TREE, ".dx-py", "lastfailed")
    if os.path.exists(lastfailed):
        os.remove(lastfailed)
    subprocess.run([os.path.join(BIN, "dx-py"), "test", "--affected-by", "app/__init__.py", "--collect-only", "-q"],
                   cwd=TREE, env=ENV, capture_output=True)
    print(f"affected-test selection on {TREE} ({n} app modules; median of {args.repeat})")
    print("| edited | expected test files | dx-py selected | missed | extra | dx-py wall ms |")
    print("|---|---:|---:|---:|---:|---:|")
    total_missed = total_extra = 0
    for rel in chosen:
        want = expected[rel]
        got, wall = dx_selection(TREE, rel, args.repeat)
        missed, extra = want - got, got - want
        total_missed += len(missed)
        total_extra += len(extra)
        print(f"| {rel} | {len(want)} | {len(got)} | {len(missed)} | {len(extra)} | {wall * 1000:.1f} |")
    print(f"\nmissed {total_missed}, extra {total_extra} over {len(chosen)} edits")
    return 1 if total_missed else 0


if __name__ == "__main__":
    sys.exit(main())
