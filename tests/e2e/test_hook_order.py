"""The order a conftest's pytest_collection_modifyitems gives, end to end, against pytest.

Each project is run by real pytest (`python -m pytest -v --junitxml`) and by the installed
dx-py (`dx-py test -n 1 -v --junit-xml`) in copies of its own; both must run the tests in
the same order (each test appends its node id to a log), report them in the same order
(the -v lines, and the progress lines without -v) and write the JUnit test cases in that
order, with the same outcomes.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from conftest import DX_PY

TIMEOUT = 60

LOG = """\
import os as _os


def log(request_or_name):
    name = getattr(getattr(request_or_name, "node", None), "nodeid", request_or_name)
    with open(_os.environ["ORDER_LOG"], "a") as _f:
        _f.write(str(name) + "\\n")
"""

# Three modules whose tests log themselves; module-scoped fixtures log their set-up and
# tear-down, so running a module in pieces shows.
MODULES = {
    "test_a.py": """
        import pytest
        from orderlog import log

        @pytest.fixture(scope="module")
        def mod_a():
            log("setup mod_a")
            yield
            log("teardown mod_a")

        @pytest.fixture(autouse=True)
        def _log(request):
            log(request)

        def test_zeta(mod_a):
            pass

        @pytest.mark.slow
        def test_alpha(mod_a):
            pass

        @pytest.mark.parametrize("n", [3, 1, 2])
        def test_param(n):
            assert n != 2
    """,
    "test_b.py": """
        import pytest
        from orderlog import log

        @pytest.fixture(autouse=True)
        def _log(request):
            log(request)

        def test_mid():
            pass

        @pytest.mark.slow
        def test_beta():
            pass

        class TestGroup:
            def test_one(self):
                pass

            def test_drop_this(self):
                pass

        # Expanded by the worker, not by static discovery: its items still go where the hooks put them.
        @pytest.fixture(params=["x", "a"])
        def letter(request):
            return request.param

        def test_letters(letter):
            pass
    """,
    "sub/test_c.py": """
        import pytest
        from orderlog import log

        @pytest.fixture(autouse=True)
        def _log(request):
            log(request)

        def test_gamma():
            pass

        def test_aardvark():
            assert False
    """,
}

HOOKS = {
    "sort": """
        def pytest_collection_modifyitems(items):
            items.sort(key=lambda item: item.name)
    """,
    "reverse": """
        def pytest_collection_modifyitems(items):
            items[:] = reversed(items)
    """,
    "slow_last": """
        def pytest_collection_modifyitems(config, items):
            slow = [i for i in items if i.get_closest_marker("slow")]
            items[:] = [i for i in items if not i.get_closest_marker("slow")] + slow
    """,
    "shuffle": """
        import random

        def pytest_collection_modifyitems(items):
            random.Random(7).shuffle(items)
    """,
    "deselect_and_reorder": """
        def pytest_collection_modifyitems(config, items):
            dropped = [i for i in items if "drop" in i.name]
            config.hook.pytest_deselected(items=dropped)
            items[:] = sorted((i for i in items if "drop" not in i.name), key=lambda i: i.nodeid, reverse=True)
    """,
    "helper_function": """
        def _by_name_length(items):
            items.sort(key=lambda item: (len(item.name), item.name))

        def pytest_collection_modifyitems(items):
            _by_name_length(items)
    """,
}

MARKERS = "[pytest]\npythonpath = .\nmarkers =\n    slow: slow\n"


def write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def make_project(root, conftests, extra=None):
    files = {"pytest.ini": MARKERS, "orderlog.py": LOG, **MODULES, **conftests, **(extra or {})}
    write(root, files)
    return root


class Result:
    def __init__(self, tool, code, out, log, cases):
        self.tool, self.code, self.out, self.log, self.cases = tool, code, out, log, cases

    def verbose_ids(self):
        """The node ids of the -v lines, in order."""
        return re.findall(r"^(\S+::\S+) (?:PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)", self.out, re.M)

    def progress(self):
        """The progress lines without -v: file name and letters, no percentage."""
        return [m.group(1) + " " + m.group(2)
                for m in re.finditer(r"^(\S+\.py) ([.FsExX]+)\s+\[", self.out, re.M)]

    def summary(self):
        lines = [line for line in self.out.splitlines() if line.startswith("=") and " in " in line]
        return re.sub(r" in [0-9.]+s.*", "", lines[-1]).strip("= ") if lines else ""


def run(tool, root, *args, tag=""):
    xml = root / f"report{tag}.xml"
    log = root / f"order{tag}.log"
    if log.exists():
        log.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(NO_COLOR="1", ORDER_LOG=str(log))
    if tool == "pytest":
        cmd = [sys.executable, "-m", "pytest", f"--junitxml={xml}", *args]
    else:
        cmd = [DX_PY, "test", "-n", "1", f"--junit-xml={xml}", *args]
    p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    cases = []
    if xml.exists():
        for case in ET.parse(xml).getroot().iter("testcase"):
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = child.tag
            cases.append((case.get("classname"), case.get("name"), outcome))
    lines = log.read_text().splitlines() if log.exists() else []
    return Result(tool, p.returncode, p.stdout + p.stderr, lines, cases)


def both(tmp_path, conftests, *args, extra=None):
    """(pytest's Result, dx-py's Result) of the same project, each in a folder of its own."""
    results = []
    for tool in ("pytest", "dx-py"):
        root = make_project(tmp_path / tool, conftests, extra)
        results.append(run(tool, root, *args))
    return results


def assert_same(ref, got, verbose=True):
    assert got.log == ref.log, f"execution order differs\npytest: {ref.log}\ndx-py:  {got.log}\n{got.out}"
    assert got.cases == ref.cases, f"JUnit order differs\npytest: {ref.cases}\ndx-py:  {got.cases}"
    if verbose:
        assert got.verbose_ids() == ref.verbose_ids(), f"-v order differs\n{ref.out}\n---\n{got.out}"
    else:
        assert got.progress() == ref.progress(), f"progress lines differ\n{ref.out}\n---\n{got.out}"
    assert got.summary() == ref.summary(), f"{ref.out}\n---\n{got.out}"
    assert got.code == ref.code


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_order_of_the_hook(tmp_path, hook):
    ref, got = both(tmp_path, {"conftest.py": HOOKS[hook]}, "-v")
    assert ref.log and ref.cases  # the project ran
    assert_same(ref, got)


def test_progress_lines_follow_the_order(tmp_path):
    """Without -v: a module that comes back after another gets a progress line again."""
    ref, got = both(tmp_path, {"conftest.py": HOOKS["sort"]})
    assert len(ref.progress()) > 3  # the modules interleave
    assert_same(ref, got, verbose=False)


def test_hook_in_a_nested_conftest_orders_the_whole_session(tmp_path):
    # pytest calls every conftest's hook with all the session's items, not only its folder's.
    ref, got = both(tmp_path, {"sub/conftest.py": HOOKS["reverse"]}, "-v")
    assert ref.log[-1].startswith("sub/")  # pytest collects sub/ first (names sorted), reversed: last
    assert_same(ref, got)


def test_two_hooks_in_plugin_order(tmp_path):
    # The sub folder's conftest registers later, so pytest calls it first; the root's
    # sort then decides (a stable sort keeps the reversal among equal names).
    conftests = {"conftest.py": HOOKS["sort"], "sub/conftest.py": HOOKS["reverse"]}
    ref, got = both(tmp_path, conftests, "-v")
    assert_same(ref, got)


def test_hook_with_keyword(tmp_path):
    ref, got = both(tmp_path, {"conftest.py": HOOKS["reverse"]}, "-v", "-k", "not beta and not zeta")
    assert "deselected" in ref.summary()
    assert_same(ref, got)


def test_hook_with_last_failed(tmp_path):
    """--lf after a run with failures: the failures run again in the hook's order; --ff puts
    them first, each group in the hook's order (pytest's cacheprovider reorders after it)."""
    results = {}
    for tool in ("pytest", "dx-py"):
        root = make_project(tmp_path / tool, {"conftest.py": HOOKS["reverse"]})
        first = run(tool, root, "-v", tag="1")
        assert first.code == 1
        results[tool] = (run(tool, root, "-v", "--lf", tag="2"), run(tool, root, "-v", "--ff", tag="3"))
    for ref, got in zip(results["pytest"], results["dx-py"]):
        assert_same(ref, got)
    assert len(results["pytest"][0].log) == 2  # the two failures


def test_a_hook_that_only_marks_keeps_static_order_and_costs_no_collection(tmp_path):
    hook = """
        import pytest

        def pytest_collection_modifyitems(config, items):
            for item in items:
                if item.get_closest_marker("slow"):
                    item.add_marker(pytest.mark.skip(reason="slow"))
    """
    ref, got = both(tmp_path, {"conftest.py": hook}, "-v")
    # The order is dx-py's own then (longest module first), as for a suite without the hook.
    assert sorted(got.log) == sorted(ref.log)
    assert sorted(got.cases) == sorted(ref.cases)
    assert got.summary() == ref.summary() == "2 failed, 9 passed, 2 skipped"
    assert "pytest_collection_modifyitems in 1 conftest does not reorder" in got.out


def test_module_that_cannot_be_imported_is_reported_and_the_rest_ordered(tmp_path):
    extra = {"test_broken.py": "import no_such_module_for_order\n\ndef test_never():\n    pass\n"}
    ref, got = both(tmp_path, {"conftest.py": HOOKS["reverse"]}, "-v", "--continue-on-collection-errors",
                    extra=extra)
    assert got.log == ref.log, f"{ref.out}\n---\n{got.out}"
    assert got.summary() == ref.summary(), f"{ref.out}\n---\n{got.out}"
    assert got.code == ref.code
    # The error is one JUnit case for both, first in dx-py (it is known before the run).
    assert sorted(got.cases) == sorted(ref.cases)


def test_a_failing_hook_leaves_the_static_order_with_a_warning(tmp_path):
    # Not pytest's behaviour (an internal error): dx-py's workers call the hook per test,
    # where this one works; only the whole-session call fails, and the run says so.
    hook = """
        def pytest_collection_modifyitems(items):
            if len(items) > 1:
                raise RuntimeError("only one at a time")
            items.reverse()
    """
    root = make_project(tmp_path / "dx-py", {"conftest.py": hook})
    got = run("dx-py", root)
    assert "the order pytest_collection_modifyitems gives is not followed: RuntimeError: only one at a time" \
        in got.out
    assert got.code == 1 and "passed" in got.summary()


def test_with_two_workers_every_test_runs_once(tmp_path):
    root = make_project(tmp_path / "dx-py", {"conftest.py": HOOKS["deselect_and_reorder"]})
    log = root / "order.log"
    env = dict(os.environ, NO_COLOR="1", ORDER_LOG=str(log))
    p = subprocess.run([DX_PY, "test", "-n", "2"], cwd=root, env=env, capture_output=True, text=True,
                       timeout=TIMEOUT)
    ids = [line for line in log.read_text().splitlines() if "::" in line]
    assert len(ids) == len(set(ids)) == 12, p.stdout
    assert not any("drop" in i for i in ids)
    assert "1 deselected" in p.stdout


def test_no_hook_no_order_process(tmp_path):
    """A suite without the hook never starts the order process (it would say so with -v)."""
    root = make_project(tmp_path / "dx-py", {"conftest.py": "import pytest\n"})
    got = run("dx-py", root, "-v")
    assert "pytest_collection_modifyitems" not in got.out
    shutil.rmtree(root)


def collect(tool, root, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(NO_COLOR="1", ORDER_LOG=str(root / "collect.log"))
    if tool == "pytest":
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", *args]
    else:
        cmd = [DX_PY, "test", "--collect-only", *args]
    p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    timing = re.compile(r"collected.* in [0-9.]+s")
    lines = [line for line in p.stdout.splitlines() if line.strip() and not timing.search(line) and not
             line.startswith(("=", "platform", "rootdir", "configfile", "cachedir", "plugins", "collected"))]
    last = [line for line in p.stdout.splitlines() if timing.search(line)]
    return p.returncode, lines, re.sub(r" in [0-9.]+s.*", "", last[-1]).strip("= ") if last else ""


@pytest.mark.parametrize("hook", ["sort", "shuffle", "deselect_and_reorder"])
@pytest.mark.parametrize("flags", [["-q"], ["-qq"], []], ids=["q", "qq", "tree"])
def test_collect_only_lists_the_hooks_order(tmp_path, hook, flags):
    """--collect-only lists the items in the order the hooks leave them, without what they
    deselected: node ids (-q), counts per file (-qq, sorted by path as pytest does) and the
    tree, whose module and class lines come again when the order goes back to them."""
    results = {}
    for tool in ("pytest", "dx-py"):
        root = make_project(tmp_path / tool / "proj", {"conftest.py": HOOKS[hook]})  # same <Dir proj>
        results[tool] = collect(tool, root, *flags)
    (ref_code, ref_lines, ref_last), (code, lines, last) = results["pytest"], results["dx-py"]
    assert ref_lines and lines == ref_lines, f"\npytest: {ref_lines}\ndx-py:  {lines}"
    assert (code, last) == (ref_code, ref_last)
