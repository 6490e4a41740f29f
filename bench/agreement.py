#!/usr/bin/env python3
"""Outcome agreement with pytest, test by test, and speed side by side (issue 5).

For each suite, pytest and dx-py run the same tree with JUnit XML; the comparer
(../shared/tools/compare_junit.py when present, else bench/junit_compare.py, same rules)
gives the agreement per test. Printed per suite: both runs' exit codes and counts, the
agreement, and the tests that differ grouped by (pytest outcome -> dx-py outcome) with
counts and examples.

Suites:
  toolz, simplejson, mpmath, networkx
      the suites shipped inside the installed packages, copied out of the venv into
      $TMPDIR/dxpy-bench/<suite>/<suite> as bench/collect_bench.py does, run as
      `pytest --rootdir $TMPDIR/dxpy-bench/<suite> <suite>` (networkx's conftest.py is
      inside the package: it comes along)
  realistic
      ../shared/bench/gen_suite.py --files 200 --tests 30 --mix realistic --seed 7, in
      $TMPDIR/dxpy-bench/realistic, run from its root (its pyproject.toml gives testpaths and
      pythonpath). Also compared against its expected.json. expected.json names duplicate
      parametrize ids the way pytest 7 did ("480", "481" for two 48s); pytest >= 8 writes
      "48_0", "48_1". The figure against expected.json is given as is and with those ids
      renamed to the installed pytest's rule (the "pytest ids" column): dx-py follows the
      installed pytest, so the second one is the one that can reach 100%.

Commands: pytest is `python -m pytest -p no:cacheprovider -q` with this venv's
interpreter and plugins; dx-py is this venv's `dx-py test -n 2`. pytest's exit code and
counts are checked against what ../shared/suites.md reports (other pytest versions may
differ a little: a note, not an error).

Timing (--timing, default the suites with a speed target: networkx, realistic): pytest,
`pytest -n 2` (pytest-xdist) and `dx-py test -n 2`, without JUnit output, REPEAT times in
rounds (each round runs each tool once, so a change in the shared machine's load weighs on
all alike); medians and the ratios pytest / dx-py. dx-py runs warm (its index was built by
the agreement run). A timing run whose exit code or counts differ from that tool's
agreement run is marked WRONG.

    bench/agreement.py                                  # everything, timing for networkx and realistic
    bench/agreement.py --suites toolz,simplejson --timing none
    bench/agreement.py --repeat 3 --markdown --json /tmp/agreement.json
    bench/agreement.py --ci                             # CI: toolz and simplejson, one line, exit 1 under 99.5%
    bench/agreement.py --render /tmp/agreement.json --markdown   # the section again from a run's JSON

--min PCT exits 1 when a suite's agreement (dx-py against pytest; for the generated suite
also against expected.json with pytest's ids) is under PCT. --markdown [FILE] writes the
results into the "## Compatibility (issue 5)" section of FILE, by default bench/README.md
(the section is replaced if present, appended if not; nothing else in the file changes).
JUnit files and logs of the last run are kept in $TMPDIR/dxpy-bench/agreement/.
Exit codes: 0 all at or above --min, 1 some suite under it, 2 a run could not be made or
compared (missing package, no JUnit file, pytest itself broken).
"""
import argparse
import ast
import collections
import datetime
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import collect_bench  # noqa: E402  (the tree layout: WORK, SHARED)
from run_bench import pytest_counts  # noqa: E402  (counts from pytest's closing line)

REPO = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
DX_PY = os.path.join(BIN, "dx-py")
WORK = collect_bench.WORK
SHARED = os.path.normpath(collect_bench.SHARED)
SHARED_COMPARER = os.path.join(SHARED, "tools", "compare_junit.py")
OWN_COMPARER = os.path.join(HERE, "junit_compare.py")
GEN_SUITE = os.path.join(SHARED, "bench", "gen_suite.py")
GEN_ARGS = ["--files", "200", "--tests", "30", "--mix", "realistic", "--seed", "7"]
REAL_SUITES = ("toolz", "simplejson", "mpmath", "networkx")
ALL_SUITES = REAL_SUITES + ("realistic",)
SPEED_TARGETS = {  # suite -> [(peer, minimum ratio peer time / dx-py time)]
    "networkx": [("pytest", 1.9), ("pytest -n 2", 1.4)],
    "realistic": [("pytest", 10.0)],
}
AGREEMENT_TARGET = 99.5
SECTION = "## Compatibility (issue 5)"

ENV = dict(os.environ, VIRTUAL_ENV=os.path.dirname(BIN), PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
           NO_COLOR="1")
for _var in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST"):
    ENV.pop(_var, None)


# ---------------------------------------------------------------------------------------------
# Running a tool
# ---------------------------------------------------------------------------------------------

@dataclass
class Run:
    code: object      # exit code, or None when killed at the timeout
    wall: float
    out: str

    @property
    def counts(self):
        return pytest_counts(self.out)


def run(cmd, cwd, log, timeout):
    """Runs cmd in its own session with its output in log; kills the session at the timeout."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            code = p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            code = None
        wall = time.perf_counter() - t0
    with open(log, errors="replace") as f:
        return Run(code, wall, f.read())


def fmt_counts(counts):
    if counts is None:
        return "no summary"
    order = ["failed", "passed", "skipped", "xfailed", "xpassed", "error", "crashed", "timeout", "interrupted"]
    parts = [f"{counts[k]:,} {k}" for k in order if counts.get(k)]
    parts += [f"{n:,} {k}" for k, n in sorted(counts.items()) if k not in order and n]
    return ", ".join(parts) or "no tests ran"


def fmt_code(code):
    return "timeout" if code is None else str(code)


# ---------------------------------------------------------------------------------------------
# Suites
# ---------------------------------------------------------------------------------------------

@dataclass
class Suite:
    name: str
    label: str
    root: str
    args: list                     # the paths (and --rootdir) given to both tools
    expected: str = None           # expected.json (generated suite)
    reference: collections.Counter = None  # pytest's counts in ../shared/suites.md
    result: dict = field(default_factory=dict)


def suites_md_counts():
    """{suite: Counter} from the table of ../shared/suites.md ("180 passed; collect 0.5 s")."""
    path = os.path.join(SHARED, "suites.md")
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0] in REAL_SUITES:
                counts = collections.Counter()
                for n, word in re.findall(r"([\d,]+) (passed|failed|skipped|xfailed|xpassed|errors?)",
                                          cells[2].split(";")[0]):
                    counts["error" if word.startswith("error") else word] += int(n.replace(",", ""))
                out[cells[0]] = counts
    return out


def copy_suite(name, work):
    """The suite's folder copied out of the venv as collect_bench.py does: WORK/<name>/<name>."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        raise SetupError(f"{name} is not installed in {sys.prefix} (pip install -r requirements-dev.txt)")
    pkg = os.path.dirname(spec.origin)
    root = os.path.join(work, name)
    if not os.path.isdir(os.path.join(root, name)):
        shutil.copytree(pkg, os.path.join(root, name), ignore=shutil.ignore_patterns("__pycache__"))
    return root


def generated_suite(work):
    root = os.path.join(work, "realistic")
    if not os.path.exists(os.path.join(root, "expected.json")):
        if not os.path.exists(GEN_SUITE):
            raise SetupError(f"{GEN_SUITE} is missing: cannot generate the realistic suite")
        subprocess.run([sys.executable, GEN_SUITE, root, *GEN_ARGS], check=True, stdout=subprocess.DEVNULL)
    return root


class SetupError(Exception):
    pass


def make_suite(name, work, reference):
    if name == "realistic":
        root = generated_suite(work)
        return Suite(name, "generated realistic (`gen_suite.py " + " ".join(GEN_ARGS) + "`)", root, [],
                     expected=os.path.join(root, "expected.json"))
    if name not in REAL_SUITES:
        raise SetupError(f"unknown suite {name!r} (known: {', '.join(ALL_SUITES)})")
    root = copy_suite(name, work)
    return Suite(name, f"{name} {metadata.version(name)}", root, ["--rootdir", root, name],
                 reference=reference.get(name))


def pytest_cmd(suite, *extra):
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *extra, *suite.args]


def dx_cmd(suite, workers, *extra):
    return [DX_PY, "test", "-n", str(workers), *extra, *suite.args]


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------

def comparer():
    return SHARED_COMPARER if os.path.exists(SHARED_COMPARER) else OWN_COMPARER


def compare(ref, cand):
    """Runs the comparer and parses its listing: {same, total, pct, groups: {(ref, cand): [names]}}."""
    if not os.path.exists(ref) or not os.path.exists(cand):
        missing = ref if not os.path.exists(ref) else cand
        return {"error": f"no file {missing}"}
    p = subprocess.run([sys.executable, comparer(), ref, cand, "--show", "100000000"], capture_output=True, text=True)
    groups = collections.defaultdict(list)
    section = None
    result = None
    for line in p.stdout.splitlines():
        m = re.match(r"^(\d+) (differ|missing from candidate|only in candidate):$", line)
        if m:
            section = m.group(2)
            continue
        m = re.match(r"^agreement: (\d+)/(\d+) = ([\d.]+)%", line)
        if m:
            result = {"same": int(m.group(1)), "total": int(m.group(2)), "pct": float(m.group(3))}
            continue
        if line.startswith("  ") and section:
            name, _, tail = line[2:].rpartition(": ")
            if section == "differ":
                a, _, b = tail.partition(" -> ")
            elif section == "missing from candidate":
                a, b = tail, "absent"
            else:
                a, b = "absent", tail
            groups[(a, b)].append(name)
    if result is None:
        return {"error": f"comparer failed: {(p.stdout + p.stderr).strip()[-500:]}"}
    result["groups"] = dict(groups)
    return result


def group_lines(result, examples=3, indent="     "):
    lines = []
    for (a, b), names in sorted(result.get("groups", {}).items(), key=lambda kv: (-len(kv[1]), kv[0])):
        shown = ", ".join(names[:examples]) + (", ..." if len(names) > examples else "")
        lines.append(f"{indent}{len(names):>6}  {a} -> {b}   e.g. {shown}")
    return lines


def pytest_id_rule():
    """True when the installed pytest suffixes duplicate ids ending in a digit with "_N" (pytest >= 8)."""
    major = int(metadata.version("pytest").split(".")[0])
    return major >= 8


def _literal_id(value, argname, index):
    if isinstance(value, str):
        return value.encode("unicode_escape").decode("ascii")
    if isinstance(value, (int, float, bool, complex)) or value is None:
        return str(value)
    return f"{argname}{index}"


def _dedup_ids(ids, new_rule):
    """Duplicate ids made unique by pytest 7's rule ("48" -> "480", "481") or pytest >= 8's."""
    counts = collections.Counter(ids)
    if not new_rule:
        seen = collections.Counter()
        out = []
        for i in ids:
            if counts[i] > 1:
                out.append(f"{i}{seen[i]}")
                seen[i] += 1
            else:
                out.append(i)
        return out
    out = list(ids)
    suffixes = collections.Counter()
    for k, i in enumerate(ids):
        if counts[i] > 1:
            sep = "_" if i and i[-1].isdigit() else ""
            new = f"{i}{sep}{suffixes[i]}"
            while new in set(out):
                suffixes[i] += 1
                new = f"{i}{sep}{suffixes[i]}"
            out[k] = new
            suffixes[i] += 1
    return out


def expected_with_pytest_ids(expected, root, dest):
    """expected.json with duplicate parametrize ids renamed from pytest 7's rule to the installed
    pytest's: the test files are parsed for single-argument literal parametrize lists."""
    with open(expected) as f:
        raw = json.load(f)
    renames = {}
    for path in sorted({n.split("::")[0] for n in raw}):
        try:
            with open(os.path.join(root, path)) as f:
                tree = ast.parse(f.read())
        except (OSError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("mark.parametrize")
                        and len(deco.args) == 2 and not deco.keywords):
                    continue
                try:
                    argnames, values = ast.literal_eval(deco.args[0]), ast.literal_eval(deco.args[1])
                except ValueError:
                    continue
                if not isinstance(argnames, str) or "," in argnames or not isinstance(values, (list, tuple)):
                    continue
                ids = [_literal_id(v, argnames, i) for i, v in enumerate(values)]
                for old, new in zip(_dedup_ids(ids, False), _dedup_ids(ids, True)):
                    if old != new:
                        renames[(path, node.name, old)] = new
    out = {}
    for nodeid, outcome in raw.items():
        m = re.match(r"^([^:]+)::(?:.*::)?([^:\[]+)\[(.*)\]$", nodeid)
        if m and (m.group(1), m.group(2), m.group(3)) in renames:
            nodeid = nodeid[:nodeid.index("[")] + "[" + renames[(m.group(1), m.group(2), m.group(3))] + "]"
        out[nodeid] = outcome
    with open(dest, "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
    return len(renames)


# ---------------------------------------------------------------------------------------------
# One suite
# ---------------------------------------------------------------------------------------------

def agreement(suite, out_dir, workers, timeout, quiet=False):
    r = suite.result
    ref_xml = os.path.join(out_dir, f"{suite.name}-pytest.xml")
    got_xml = os.path.join(out_dir, f"{suite.name}-dx-py.xml")
    for x in (ref_xml, got_xml):
        if os.path.exists(x):
            os.remove(x)
    logs = os.path.join(out_dir, "logs")
    py = run(pytest_cmd(suite, f"--junitxml={ref_xml}"), suite.root, os.path.join(logs, f"{suite.name}-pytest.out"),
             timeout)
    dx = run(dx_cmd(suite, workers, f"--junit-xml={got_xml}"), suite.root,
             os.path.join(logs, f"{suite.name}-dx-py.out"), timeout)
    r["pytest"] = {"cmd": pytest_cmd(suite, "--junitxml=PATH"), "code": py.code, "wall": py.wall,
                   "counts": dict(py.counts or {}), "junit": ref_xml}
    r["dx-py"] = {"cmd": dx_cmd(suite, workers, "--junit-xml=PATH"), "code": dx.code, "wall": dx.wall,
                  "counts": dict(dx.counts or {}), "junit": got_xml}
    r["vs_pytest"] = compare(ref_xml, got_xml)
    # Sanity of pytest's own run: its exit code, and its counts against suites.md.
    notes = []
    want_code = 1 if suite.expected else 0
    if py.code != want_code:
        failing = [l for l in py.out.splitlines() if l.startswith(("FAILED ", "ERROR "))]
        notes.append(f"pytest exited {fmt_code(py.code)} (expected {want_code})"
                     + (": " + "; ".join(failing[:5]) + ("; ..." if len(failing) > 5 else "") if failing else "")
                     + f" (log: {logs}/{suite.name}-pytest.out)")
    if suite.reference and py.counts is not None and +py.counts != +suite.reference:
        notes.append(f"pytest's counts differ from ../shared/suites.md ({fmt_counts(suite.reference)}, "
                     f"measured with pytest 7.2)")
    if suite.expected:
        renamed = os.path.join(out_dir, f"{suite.name}-expected-pytest-ids.json")
        n = expected_with_pytest_ids(suite.expected, suite.root, renamed) if pytest_id_rule() else None
        exp = renamed if n is not None else suite.expected
        r["expected_renamed"] = n
        r["pytest_vs_expected"] = compare(suite.expected, ref_xml)
        r["dx_vs_expected"] = compare(suite.expected, got_xml)
        r["pytest_vs_expected_ids"] = compare(exp, ref_xml)
        r["dx_vs_expected_ids"] = compare(exp, got_xml)
        if r["pytest_vs_expected_ids"].get("pct") != 100.0:
            notes.append("pytest itself does not agree with expected.json (with pytest's ids)")
    r["notes"] = notes
    if quiet:
        return
    print(f"\n== {suite.label}   ({suite.root})")
    print(f"   pytest: exit {fmt_code(py.code)}, {fmt_counts(py.counts)} in {py.wall:.1f} s")
    print(f"   dx-py:  exit {fmt_code(dx.code)}, {fmt_counts(dx.counts)} in {dx.wall:.1f} s")
    for note in notes:
        print(f"   NOTE: {note}")
    show = [("dx-py against pytest", r["vs_pytest"])]
    if suite.expected:
        show += [("pytest against expected.json", r["pytest_vs_expected"]),
                 ("dx-py against expected.json", r["dx_vs_expected"]),
                 (f"pytest against expected.json, pytest's ids ({r['expected_renamed']} renamed)",
                  r["pytest_vs_expected_ids"]),
                 ("dx-py against expected.json, pytest's ids", r["dx_vs_expected_ids"])]
    for title, res in show:
        if "error" in res:
            print(f"   {title}: cannot compare: {res['error']}")
            continue
        print(f"   {title}: {res['pct']:.2f}% ({res['same']:,}/{res['total']:,})")
        for line in group_lines(res):
            print(line)
    sys.stdout.flush()


def timing(suite, workers, repeat, timeout, out_dir):
    """Rounds of pytest, pytest -n 2 and dx-py -n 2; medians and ratios into suite.result['timing']."""
    tools = [("pytest", pytest_cmd(suite), "pytest")]
    if importlib.util.find_spec("xdist") is not None:
        tools.append(("pytest -n 2", pytest_cmd(suite, "-n", "2"), "pytest"))
    tools.append((f"dx-py -n {workers}", dx_cmd(suite, workers), "dx-py"))
    rows = {name: {"walls": [], "wrong": []} for name, _, _ in tools}
    logs = os.path.join(out_dir, "logs")
    for i in range(repeat):
        for name, cmd, ref in tools:
            want = suite.result[ref]
            res = run(cmd, suite.root, os.path.join(logs, f"{suite.name}-time-{name.replace(' ', '')}.out"), timeout)
            wrong = []
            if res.code != want["code"]:
                wrong.append(f"exit {fmt_code(res.code)}")
            if +collections.Counter(res.counts or {}) != +collections.Counter(want["counts"]):
                wrong.append(fmt_counts(res.counts))
            rows[name]["walls"].append(res.wall)
            if wrong:
                rows[name]["wrong"].append("; ".join(wrong))
            print(f"   {suite.name:<10} {name:<12} run {i + 1}/{repeat}: {res.wall:8.2f} s  exit {fmt_code(res.code)}"
                  + (f"  WRONG: {'; '.join(wrong)}" if wrong else ""), file=sys.stderr)
    dx_name = tools[-1][0]
    dx_median = statistics.median(rows[dx_name]["walls"])
    out = []
    for name, cmd, _ in tools:
        med = statistics.median(rows[name]["walls"])
        out.append({"tool": name, "cmd": cmd, "median": med, "walls": rows[name]["walls"],
                    "ratio": med / dx_median, "wrong": rows[name]["wrong"]})
    suite.result["timing"] = out
    print(f"\n   timing of {suite.name} (median of {repeat}; dx-py warm):")
    for row in out:
        bad = f"  WRONG in {len(row['wrong'])}/{repeat} runs: {row['wrong'][-1]}" if row["wrong"] else ""
        print(f"     {row['tool']:<12} {row['median']:8.2f} s   {row['ratio']:5.2f}x dx-py's time{bad}")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------

def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            cpu = f" ({m.group(1).strip()})" if m else ""
    except OSError:
        pass
    osname = platform.system()
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]+)', f.read(), re.M)
            osname = m.group(1) if m else osname
    except OSError:
        pass
    return f"{osname}, {os.cpu_count()} cores{cpu}, Python {platform.python_version()}"


def versions():
    out = []
    for pkg in ("pytest", "pytest-xdist"):
        try:
            out.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    try:
        dx = subprocess.run([DX_PY, "--version"], capture_output=True, text=True).stdout.strip()
        stamp = os.path.join(sys.prefix, ".dxpy-installed")  # touched by `make install`
        if os.path.exists(stamp):
            dx += " (installed " + time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(stamp))) + ")"
    except OSError:
        dx = "dx-py missing"
    return ", ".join([dx] + out)


def failures(suites, minimum):
    """The agreement figures under minimum, as (suite, figure name, pct or None)."""
    bad = []
    for s in suites:
        keys = ["vs_pytest"] + (["dx_vs_expected_ids"] if s.expected else [])
        for k in keys:
            res = s.result.get(k, {})
            if "pct" not in res or res["pct"] < minimum:
                bad.append((s.name, k, res.get("pct")))
    return bad


def ok_mark(met):
    return "met" if met else "not met"


def markdown(suites, meta):
    """The README section; meta: command, date, machine, versions, repeat of the run."""
    L = [SECTION, ""]
    L.append("`bench/agreement.py` runs pytest and dx-py on the same tree with JUnit XML and compares the outcome of "
             "every test (`../shared/tools/compare_junit.py`, or `bench/junit_compare.py` with the same rules where "
             "`../shared` is absent): agreement = tests with pytest's outcome in dx-py's report / pytest's tests. "
             "The real suites are copied out of the venv into `$TMPDIR/dxpy-bench/<suite>` (as `collect_bench.py` "
             "does) and run as `python -m pytest -p no:cacheprovider --rootdir <copy> <suite>` and `dx-py test -n 2 "
             "--rootdir <copy> <suite>`; the generated suite from its root. CI runs "
             "`scripts/agreement_ci.sh` (toolz and simplejson, at least 99.5%) in `scripts/check.sh`.")
    L.append("")
    L.append("```sh")
    L.append(".venv/bin/python bench/agreement.py --repeat 3 --markdown   # every suite; timing for networkx and "
             "realistic; rewrites this section")
    L.append(".venv/bin/python bench/agreement.py --suites toolz,mpmath --timing none   # some suites, no timing")
    L.append("scripts/agreement_ci.sh       # CI: toolz and simplejson; exit 1 under 99.5%")
    L.append("```")
    L.append("")
    L.append(f"Run on {meta['date']} on {meta['machine']}: `{meta['command']}`. {meta['versions']}."
             + (f" Load average {meta['load']}." if meta.get("load") else "")
             + "".join(f" {r}" for r in meta.get("remarks") or []))
    L.append("")
    L.append("| suite | pytest: exit, counts | dx-py: exit, counts | agreement with pytest "
             "| differences (pytest -> dx-py: tests) |")
    L.append("|---|---|---|---|---|")
    for s in suites:
        r = s.result
        if "pytest" not in r:
            continue
        res = r["vs_pytest"]
        agree = f"{res['pct']:.2f}% ({res['same']:,}/{res['total']:,})" if "pct" in res else res.get("error", "-")
        diffs = "; ".join(f"{a} -> {b}: {len(n):,}" for (a, b), n in
                          sorted(res.get("groups", {}).items(), key=lambda kv: -len(kv[1]))) or "none"
        L.append(f"| {s.label} | {fmt_code(r['pytest']['code'])}, {fmt_counts(r['pytest']['counts'])} "
                 f"| {fmt_code(r['dx-py']['code'])}, {fmt_counts(r['dx-py']['counts'])} | {agree} | {diffs} |")
    gen = [s for s in suites if s.expected and "pytest" in s.result]
    for s in gen:
        r = s.result

        def pct(res):
            return f"{res['pct']:.2f}% ({res['same']:,}/{res['total']:,})" if "pct" in res else res.get("error", "-")
        L.append("")
        L.append(f"Generated suite against its `expected.json` ({r['dx_vs_expected'].get('total', 0):,} items): "
                 f"pytest {pct(r['pytest_vs_expected'])}, dx-py {pct(r['dx_vs_expected'])}. expected.json names "
                 f"duplicate parametrize ids as pytest 7 did (`480`, `481` for two 48s), pytest 8 and later write "
                 f"`48_0`, `48_1`; with those {r['expected_renamed']} ids renamed to the installed pytest's rule: "
                 f"pytest {pct(r['pytest_vs_expected_ids'])}, dx-py {pct(r['dx_vs_expected_ids'])}.")
    notes = [(s, n) for s in suites for n in s.result.get("notes", [])]
    if notes:
        L.append("")
        for s, n in notes:
            L.append(f"- {s.name}: {n}")
    big = [s for s in suites if s.result.get("vs_pytest", {}).get("groups")]
    if big:
        L.append("")
        L.append("Examples of the differences (pytest -> dx-py; \"absent\": not reported by that tool):")
        L.append("")
        for s in big:
            for (a, b), names in sorted(s.result["vs_pytest"]["groups"].items(), key=lambda kv: -len(kv[1])):
                L.append(f"- {s.name}, {len(names):,} {a} -> {b}: " + ", ".join(f"`{n}`" for n in names[:2])
                         + (", ..." if len(names) > 2 else ""))
    timed = [s for s in suites if "timing" in s.result]
    if timed:
        L.append("")
        L.append(f"Speed: median wall time of {meta['repeat']} runs in rounds, without JUnit output; dx-py warm "
                 f"(index built by the agreement run). Ratio = the tool's time / dx-py's: above 1.0x, dx-py is faster. "
                 f"A run marked WRONG exited or counted differently from that tool's agreement run.")
        L.append("")
        L.append("| suite | tool | median s | time / dx-py | runs |")
        L.append("|---|---|---|---|---|")
        for s in timed:
            for row in s.result["timing"]:
                runs = ("ok" if not row["wrong"]
                        else f"WRONG {len(row['wrong'])}/{len(row['walls'])}: {row['wrong'][-1]}")
                L.append(f"| {s.name} | {row['tool']} | {row['median']:.2f} | {row['ratio']:.2f}x | {runs} |")
    L.append("")
    L.append("| target (issue 5) | result |")
    L.append("| --- | --- |")
    for s in suites:
        res = s.result.get("vs_pytest", {})
        if s.expected:
            e = s.result.get("dx_vs_expected_ids", {})
            L.append(f"| {s.name}: 100% against expected.json | "
                     + (f"{ok_mark(e['pct'] >= 100.0)}: {e['pct']:.2f}% with pytest's ids "
                        f"({s.result['dx_vs_expected']['pct']:.2f}% with expected.json's own) |" if "pct" in e
                        else "not measured |"))
        elif "pct" in res:
            L.append(f"| {s.name}: agreement at least {AGREEMENT_TARGET}% | {ok_mark(res['pct'] >= AGREEMENT_TARGET)}: "
                     f"{res['pct']:.2f}% |")
    for s in timed:
        by = {row["tool"]: row for row in s.result["timing"]}
        for peer, goal in SPEED_TARGETS.get(s.name, []):
            row = by.get(peer)
            dxrow = s.result["timing"][-1]
            agree = s.result.get("vs_pytest", {}).get("pct")
            if row is None:
                res = "not measured (pytest-xdist missing)"
            elif dxrow["wrong"] or row["wrong"]:
                res = f"no valid comparison: a run was wrong ({row['ratio']:.2f}x)"
            else:
                res = f"{ok_mark(row['ratio'] >= goal)}: {row['ratio']:.2f}x"
                if agree is not None and agree < AGREEMENT_TARGET:
                    res += f" (but dx-py agrees with pytest on only {agree:.2f}% of the tests)"
            L.append(f"| {s.name}: dx-py -n 2 at least {goal}x faster than {peer} | {res} |")
    return "\n".join(L) + "\n"


def update_readme(section, path):
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip() == SECTION), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        tail = "".join(lines[end:])
        text = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    print(f"\nwrote the section {SECTION!r} of {path}")


def to_json(suites):
    def plain(v):
        if isinstance(v, dict) and "groups" in v:
            v = dict(v, groups=[{"pytest": a, "dx-py": b, "count": len(n), "tests": n}
                                for (a, b), n in v["groups"].items()])
        return v
    return {s.name: {"label": s.label, "root": s.root, **{k: plain(v) for k, v in s.result.items()}}
            for s in suites}


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suites", default=",".join(ALL_SUITES), help="comma-separated: " + ", ".join(ALL_SUITES))
    ap.add_argument("--min", type=float, default=None, help="exit 1 if an agreement is under this percentage")
    ap.add_argument("--json", metavar="PATH", help="write every figure (and every differing test) as JSON")
    ap.add_argument("--markdown", nargs="?", const=os.path.join(HERE, "README.md"), metavar="FILE",
                    help=f"write the results into the section {SECTION!r} of FILE (default bench/README.md)")
    ap.add_argument("--timing", default="targets",
                    help="suites to time: 'targets' (networkx, realistic), 'all', 'none' or a comma-separated list")
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per tool (median)")
    ap.add_argument("--workers", type=int, default=2, help="dx-py -n (default 2)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a run is killed")
    ap.add_argument("--work", default=None, help="where the trees are (default $TMPDIR/dxpy-bench)")
    ap.add_argument("--ci", action="store_true", help="CI mode: toolz and simplejson in a fresh temporary folder, "
                    "no timing, --min 99.5, one closing line 'agreement: toolz PCT%% (SAME/TOTAL), ...'")
    ap.add_argument("--render", metavar="JSON", help="no runs: write --markdown from the --json file of an earlier run")
    args = ap.parse_args()
    if args.ci:
        return main_ci(args)
    if args.render:
        return render(args)
    names = [n.strip() for n in args.suites.split(",") if n.strip()]
    timed = {"targets": set(SPEED_TARGETS), "all": set(names), "none": set()}.get(
        args.timing, {n.strip() for n in args.timing.split(",")})
    work = args.work or WORK
    out_dir = os.path.join(work, "agreement")
    command = "bench/agreement.py " + " ".join(sys.argv[1:])
    if not os.path.exists(DX_PY):
        print(f"{DX_PY} is missing: make install", file=sys.stderr)
        return 2
    started = versions()
    load0 = os.getloadavg()[0]
    print(f"{command.strip()} on {machine()}; {started}; comparer {os.path.relpath(comparer(), REPO)}")
    reference = suites_md_counts()
    suites = []
    broken = False
    for name in names:
        try:
            suite = make_suite(name, work, reference)
        except SetupError as e:
            print(f"\n== {name}: cannot run: {e}")
            broken = True
            continue
        suites.append(suite)
        agreement(suite, out_dir, args.workers, args.timeout)
        if name in timed and args.repeat > 0:
            timing(suite, args.workers, args.repeat, args.timeout, out_dir)
    minimum = args.min if args.min is not None else 0.0
    bad = failures(suites, minimum)
    print("\nagreement: " + ", ".join(summary(s) for s in suites))
    meta = {"command": command.strip(), "date": datetime.date.today().isoformat(), "machine": machine(),
            "versions": started, "repeat": args.repeat,
            "load": f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (1 minute)", "remarks": []}
    if versions() != started:
        meta["remarks"].append(f"dx-py was reinstalled during the run (now: {versions()}): the suites ran with "
                               f"different builds.")
        print(f"NOTE: {meta['remarks'][-1]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**meta, "suites": to_json(suites)}, f, indent=1)
    if args.markdown:
        update_readme(markdown(suites, meta), args.markdown)
    if broken or any(pct is None for _, _, pct in bad):
        return 2
    if args.min is not None and bad:
        print("under --min " + f"{args.min}: " + ", ".join(f"{n} ({k})" for n, k, _ in bad))
        return 1
    return 0


def render(args):
    with open(args.render) as f:
        data = json.load(f)
    suites = []
    for name, d in data["suites"].items():
        result = {}
        for k, v in d.items():
            if isinstance(v, dict) and isinstance(v.get("groups"), list):
                v = dict(v, groups={(g["pytest"], g["dx-py"]): g["tests"] for g in v["groups"]})
            result[k] = v
        suites.append(Suite(name, d["label"], d["root"], [], expected="expected.json" if name == "realistic" else None,
                            result=result))
    m = re.search(r"--repeat[ =](\d+)", data["command"])
    meta = {k: data.get(k) for k in ("command", "date", "machine", "versions", "load", "remarks")}
    meta["repeat"] = data.get("repeat", int(m.group(1)) if m else 3)
    section = markdown(suites, meta)
    if args.markdown:
        update_readme(section, args.markdown)
    else:
        print(section)
    return 0


def summary(suite):
    res = suite.result.get("vs_pytest", {})
    if suite.expected and "pct" in suite.result.get("dx_vs_expected_ids", {}):
        res = suite.result["dx_vs_expected_ids"]
    if "pct" not in res:
        return f"{suite.name} not compared ({res.get('error', 'no result')})"
    return f"{suite.name} {res['pct']:.2f}% ({res['same']}/{res['total']})"


def main_ci(args):
    """toolz and simplejson, cold, in a fresh folder; exit 1 under the minimum (99.5)."""
    minimum = args.min if args.min is not None else AGREEMENT_TARGET
    names = [n.strip() for n in args.suites.split(",")] if args.suites != ",".join(ALL_SUITES) else ["toolz",
                                                                                                     "simplejson"]
    if not os.path.exists(DX_PY):
        print(f"agreement: cannot run: {DX_PY} is missing")
        return 2
    work = tempfile.mkdtemp(prefix="dxpy-agreement-")
    try:
        suites, problems = [], []
        for name in names:
            try:
                suite = make_suite(name, work, {})
            except SetupError as e:
                problems.append(f"{name}: {e}")
                continue
            agreement(suite, work, args.workers, min(args.timeout, 120.0), quiet=True)
            suites.append(suite)
            r = suite.result
            if r["pytest"]["code"] != 0:
                problems.append(f"{name}: pytest itself exited {fmt_code(r['pytest']['code'])} "
                                f"({fmt_counts(r['pytest']['counts'])})")
            res = r["vs_pytest"]
            if "pct" not in res:
                problems.append(f"{name}: {res['error']} (dx-py exited {fmt_code(r['dx-py']['code'])}: "
                                f"{tail(os.path.join(work, 'logs', name + '-dx-py.out'))})")
            elif res["pct"] < minimum:
                print(f"{name}: {res['pct']:.2f}% under {minimum}%; tests that differ (pytest -> dx-py):")
                for line in group_lines(res, examples=5, indent="  "):
                    print(line)
        for p in problems:
            print(p)
        bad = failures(suites, minimum)
        under = sorted({n for n, _, _ in bad})
        print("agreement: " + (", ".join(summary(s) for s in suites) or "cannot run")
              + (f" (under {minimum}%: {', '.join(under)})" if under else ""))
        if problems:
            return 2
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
