#!/usr/bin/env python3
"""Agreement of dx-py's static collection with `pytest --collect-only` on real suites.

For each suite, both tools collect the suite's folder with the same rootdir. The sets of
test functions (node ids without the [param] part) are compared, and every difference is
printed with a reason: a remaining difference must be something pytest only learns by
importing the module.

    bench/collect_agreement.py [--suites toolz,simplejson,mpmath,networkx] [--tree DIR]
"""
import argparse
import importlib
import os
import re
import subprocess
import sys

VENV_BIN = os.path.dirname(sys.executable)
DX_PY = os.path.join(VENV_BIN, "dx-py")


def collect(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    ids = [line for line in p.stdout.splitlines() if "::" in line and not line.startswith(("ERROR", " "))]
    return ids, p


def function_ids(ids):
    return {re.sub(r"\[.*\]$", "", i) for i in ids}


def reason_for(nodeid, root, present_in):
    path = os.path.join(root, nodeid.split("::")[0])
    try:
        src = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return "file unreadable"
    if present_in == "dx-py":
        if re.search(r"^\S.*importorskip\(", src, re.M) or re.search(r"^pytest\.skip\(.*allow_module_level", src, re.M):
            return "pytest skips the whole module at import (module-level importorskip/skip)"
        if re.search(r"^if .*:\s*$", src, re.M):
            return "the def is conditional on a module-level if: only known at import"
        return "UNEXPLAINED"
    name = nodeid.split("::")[-1]
    if not re.search(rf"def {re.escape(name)}\b", src):
        return "defined in another module (imported or inherited from an imported base)"
    return "UNEXPLAINED"


def compare(label, root, target):
    py_ids, py = collect([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "--rootdir", root, target], root)
    dx_ids, dx = collect([DX_PY, "test", "--collect-only", "-q", "--rootdir", root, target], root)
    a, b = function_ids(py_ids), function_ids(dx_ids)
    only_py, only_dx = sorted(a - b), sorted(b - a)
    unexplained = 0
    print(f"== {label}: pytest {len(a)} functions ({len(py_ids)} items), dx-py {len(b)} functions ({len(dx_ids)} items)")
    for nid in only_py:
        r = reason_for(nid, root, "pytest")
        unexplained += r == "UNEXPLAINED"
        print(f"   only pytest: {nid}  -- {r}")
    for nid in only_dx:
        r = reason_for(nid, root, "dx-py")
        unexplained += r == "UNEXPLAINED"
        print(f"   only dx-py:  {nid}  -- {r}")
    same = len(a & b)
    print(f"   agree on {same}/{len(a | b)} functions; {unexplained} unexplained")
    return unexplained


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suites", default="toolz,simplejson,mpmath,networkx")
    ap.add_argument("--tree", action="append", default=[], help="a generated suite folder to compare too")
    args = ap.parse_args()
    bad = 0
    for name in filter(None, args.suites.split(",")):
        pkg = os.path.dirname(importlib.import_module(name).__file__)
        bad += compare(name, os.path.dirname(pkg), os.path.basename(pkg))
    for tree in args.tree:
        bad += compare(tree, os.path.abspath(tree), ".")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
