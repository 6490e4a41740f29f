#!/usr/bin/env python3
"""Per-test outcome agreement between two runs of one suite: the in-repo comparer.

The reference comparer is ../shared/tools/compare_junit.py; a clean clone (CI) may not have
../shared, so this file applies the same rules with its own code, and bench/agreement.py
uses whichever is present (the shared one first). Same command line, same output:

    junit_compare.py REFERENCE CANDIDATE [--show 20] [--min-agreement 99.5]

Each side is a JUnit XML file (pytest's --junitxml, dx-py's --junit-xml) or an expected.json
from gen_suite.py (node id -> outcome). The rules:

- A test is named by its JUnit classname and name: "classname::name". A node id from
  expected.json is turned into that name as pytest's junitxml does it: the file path loses
  ".py" and its slashes become dots, classes are appended with dots, and the last part
  (function and [param id]) is the name. The [param id] is set aside before splitting on
  "::", as pytest does (the shared comparer splits the whole id: the two differ only for a
  param id that contains "::").
- The outcome of a <testcase> is its last <failure> (failed), <error> (error) or <skipped>
  child (skipped, or xfailed when its type is "pytest.xfail"); none means passed. JUnit
  cannot tell xpassed from passed, so "xpassed" in expected.json counts as passed.
- A name that appears twice with different outcomes (pytest writes a test twice when its
  teardown errors) counts as error if either is an error, else as its later outcome.
- Agreement = tests of the reference with the same outcome in the candidate / tests of the
  reference. Tests only in the candidate are listed but do not lower the figure.

Prints the tests that differ (reference -> candidate), those missing from the candidate and
those only in it (at most --show of each), then one closing line
"agreement: SAME/TOTAL = PCT% (D differ, M missing, E extra)"; exits 1 when PCT is under
--min-agreement.
"""
import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET

_CHILD_OUTCOME = {"failure": "failed", "error": "error", "skipped": "skipped"}


def name_of_nodeid(nodeid):
    """pytest's JUnit name "classname::name" of a node id ("pkg/test_m.py::TestC::test_f[1]")."""
    head, bracket, params = nodeid.partition("[")
    parts = head.split("::")
    parts[0] = re.sub(r"\.py$", "", parts[0].replace("\\", "/")).replace("/", ".")
    return ".".join(parts[:-1]) + "::" + parts[-1] + bracket + params


def outcome_of(case):
    outcome = "passed"
    for child in case:
        kind = _CHILD_OUTCOME.get(child.tag)
        if kind == "skipped" and child.get("type") == "pytest.xfail":
            kind = "xfailed"
        if kind:
            outcome = kind
    return outcome


def merge(old, new):
    """The outcome of a name seen twice."""
    if old is None or old == new:
        return new
    return "error" if "error" in (old, new) else new


def load_junit(path):
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname", "") + "::" + case.get("name", "")
        outcomes[name] = merge(outcomes.get(name), outcome_of(case))
    return outcomes


def load_expected(path):
    with open(path) as f:
        raw = json.load(f)
    return {name_of_nodeid(nodeid): ("passed" if outcome == "xpassed" else outcome)
            for nodeid, outcome in raw.items()}


def load(path):
    return load_expected(path) if path.endswith(".json") else load_junit(path)


def compare(ref, cand):
    """(agreeing names, differing names, names missing from cand, names only in cand)."""
    same, differ, missing = [], [], []
    for name, outcome in ref.items():
        if name not in cand:
            missing.append(name)
        elif cand[name] == outcome:
            same.append(name)
        else:
            differ.append(name)
    extra = [name for name in cand if name not in ref]
    return same, differ, missing, extra


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("--show", type=int, default=20, help="list at most this many tests of each kind")
    ap.add_argument("--min-agreement", type=float, default=0.0, help="exit 1 below this percentage")
    args = ap.parse_args()
    ref, cand = load(args.reference), load(args.candidate)
    same, differ, missing, extra = compare(ref, cand)
    listings = (
        ("differ", differ, lambda n: f"{n}: {ref[n]} -> {cand[n]}"),
        ("missing from candidate", missing, lambda n: f"{n}: {ref[n]}"),
        ("only in candidate", extra, lambda n: f"{n}: {cand[n]}"),
    )
    for title, names, line in listings:
        if names:
            print(f"{len(names)} {title}:")
            for n in sorted(names)[:args.show]:
                print("  " + line(n))
    pct = 100.0 * len(same) / len(ref) if ref else 0.0
    print(f"agreement: {len(same)}/{len(ref)} = {pct:.2f}% "
          f"({len(differ)} differ, {len(missing)} missing, {len(extra)} extra)")
    return 0 if pct >= args.min_agreement else 1


if __name__ == "__main__":
    sys.exit(main())
