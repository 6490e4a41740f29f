"""Assertion rewriting (python/dx_py_test_runner/worker/rewrite.py, reprcompare.py).

The messages are checked against pytest itself: the same source is rewritten by pytest's
rewriter and by ours, both run on the same values, and the AssertionError texts must be
equal. pytest's rewriter runs in this process with the glue pytest puts around it for a
test (pytest_runtest_protocol's callbinrepr: assertrepr_compare, truncation, escaping);
test_real_pytest_agrees runs pytest itself on a file to check that glue.

The modules under test are loaded from the source tree by path: they need neither the
package's __init__ nor the compiled core.
"""
import ast
import asyncio
import importlib
import importlib.util
import os
import struct
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import pytest
from _pytest._code import ExceptionInfo
from _pytest.assertion import rewrite as pytest_rewrite
from _pytest.assertion import truncate as pytest_truncate
from _pytest.assertion import util as pytest_util
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
WORKER = REPO / "python" / "dx_py_test_runner" / "worker"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"dxpy_{name}_under_test", WORKER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rw = _load("rewrite")
rc = rw._rc

# DXPY_HYPOTHESIS_EXAMPLES=5000 for a longer search.
PROPERTY = settings(max_examples=int(os.environ.get("DXPY_HYPOTHESIS_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True, scope="module")
def _not_on_ci():
    """pytest (and we) show full diffs and never truncate on CI: test the default."""
    saved = {k: os.environ.pop(k) for k in ("CI", "BUILD_NUMBER") if k in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _fresh_counts():
    rw.take_counts()
    rw.set_verbosity(0)
    yield
    rw.set_verbosity(0)


# --------------------------------------------------------------------------------------
# Running one source under pytest's rewriter and under ours


class PytestConfig:
    """What pytest's assertion code asks of a config (verbosity, ini, highlighter)."""

    def __init__(self, verbose):
        self.verbose = verbose

    def get_verbosity(self, kind=None):
        return self.verbose

    def getini(self, name):
        return None

    def get_terminal_writer(self):
        return self

    def _highlight(self, source, lexer="python"):
        return source


def _pytest_callbinrepr(config):
    item = types.SimpleNamespace(config=config)

    def callbinrepr(op, left, right):
        lines = pytest_util.assertrepr_compare(config=config, op=op, left=left, right=right)
        if not lines:
            return None
        lines = pytest_truncate.truncate_if_required(lines, item)
        return "\n~".join(line.replace("\n", "\\n") for line in lines).replace("%", "%%")

    return callbinrepr


def _outcome(call):
    try:
        result = call()
    except AssertionError as e:
        return "AssertionError", e
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, e
    return "passed", result


def run_pytest(source, verbose, call, filename="gen_check.py"):
    """(kind, exception or result) of call(namespace) on the module `source` rewritten
    by pytest."""
    tree = ast.parse(source)
    pytest_rewrite.rewrite_asserts(tree, source.encode(), filename, None)
    namespace = {"__name__": "gen_check"}
    exec(compile(tree, filename, "exec", dont_inherit=True), namespace)
    config = PytestConfig(verbose)
    saved = pytest_util._reprcompare, pytest_util._config
    pytest_util._reprcompare, pytest_util._config = _pytest_callbinrepr(config), config
    try:
        return _outcome(lambda: call(namespace))
    finally:
        pytest_util._reprcompare, pytest_util._config = saved


def run_ours(source, verbose, call, filename="gen_check.py"):
    code, rewritten = rw.rewrite_source(source, filename)
    namespace = {"__name__": "gen_check"}
    if rewritten:
        namespace[rw._HELPER] = rw._RT
    exec(code, namespace)
    rw.set_verbosity(verbose)
    try:
        return _outcome(lambda: call(namespace))
    finally:
        rw.set_verbosity(0)


def run_plain(source, call, filename="gen_check.py"):
    namespace = {"__name__": "gen_check"}
    exec(compile(source, filename, "exec", dont_inherit=True), namespace)
    return _outcome(lambda: call(namespace))


def shown(exc):
    """The text pytest shows for an exception (E lines)."""
    return ExceptionInfo.from_exception(exc).exconly(tryshort=True)


def _no_addresses(text):
    """Objects made by each run differ in their default reprs' addresses only."""
    import re

    return re.sub(r"0x[0-9a-f]+", "0x?", text)


def _note(text):
    from hypothesis.control import _current_build_context

    if _current_build_context.value is not None:
        note(text)


def assert_same_failure(source, verbose, call):
    kind, ours = run_ours(source, verbose, call)
    pkind, theirs = run_pytest(source, verbose, call)
    _note(f"source:\n{source}")
    assert kind == pkind
    if kind == "AssertionError":
        assert _no_addresses(str(ours)) == _no_addresses(str(theirs))
        assert _no_addresses(rw.exception_text(ours)) == _no_addresses(shown(theirs))
    return kind, ours


# --------------------------------------------------------------------------------------
# (a) Messages: generated values, compared with pytest at verbosity 0, 1 and 2

_CHARS = st.sampled_from(list("ab \n\t%{}~>\\'\"é") + ["e\u0301", "\u00e9", "x" * 5, "\r", "\u2028"])
texts = st.lists(_CHARS, max_size=12).map("".join)
scalars = st.one_of(st.integers(-3, 3), st.integers(), st.booleans(), st.none(), texts,
                    st.floats(allow_nan=False), st.binary(max_size=6))
hashables = st.recursive(scalars, lambda kids: st.tuples(kids, kids) | st.frozensets(kids, max_size=3),
                         max_leaves=6)
values = st.recursive(
    scalars,
    lambda kids: (st.lists(kids, max_size=8) | st.tuples(kids, kids)
                  | st.dictionaries(hashables, kids, max_size=6) | st.sets(hashables, max_size=6)),
    max_leaves=20)


@st.composite
def similar_pairs(draw):
    """Values that differ a little: the explanations' interesting cases."""
    kind = draw(st.sampled_from(["text", "long_text", "list", "dict", "set", "any"]))
    if kind == "text":
        common = draw(texts)
        return common + draw(texts), common + draw(texts)
    if kind == "long_text":  # "Skipping N identical leading/trailing characters"
        head = draw(st.text("abc\n", min_size=30, max_size=80))
        tail = draw(st.text("xyz\n ", min_size=0, max_size=80))
        return head + draw(texts) + tail, head + draw(texts) + tail
    if kind == "list":
        left = draw(st.lists(values, max_size=12))
        right = list(left)
        for _ in range(draw(st.integers(0, 3))):
            op = draw(st.sampled_from(["append", "pop", "set"]))
            if op == "append":
                right.append(draw(values))
            elif right and op == "pop":
                right.pop(draw(st.integers(0, len(right) - 1)))
            elif right:
                right[draw(st.integers(0, len(right) - 1))] = draw(values)
        return left, (right if draw(st.booleans()) else tuple(right))
    if kind == "dict":
        left = draw(st.dictionaries(hashables, values, max_size=8))
        right = dict(left)
        for _ in range(draw(st.integers(0, 3))):
            if right and draw(st.booleans()):
                del right[draw(st.sampled_from(sorted(right, key=repr)))]
            else:
                right[draw(hashables)] = draw(values)
        return left, right
    if kind == "set":
        left = draw(st.sets(hashables, max_size=8))
        return left, (left | draw(st.sets(hashables, max_size=3))) - draw(st.sets(hashables, max_size=3))
    return draw(values), draw(values)


OPS = ["==", "!=", "<", ">", "<=", ">=", "in", "not in", "is", "is not"]

TEMPLATES = {
    "plain": "def check(left, right):\n    assert left {op} right\n",
    "call": "def ident(x):\n    return x\n\ndef check(left, right):\n    assert ident(left) {op} ident(x=right)\n",
    "attr": ("class Box:\n    def __init__(self, value):\n        self.value = value\n"
             "    def __repr__(self):\n        return 'Box()'\n\n"
             "def check(left, right):\n    assert Box(left).value {op} right\n"),
    "message": "def check(left, right):\n    assert left {op} right, 'values:\\n%r %s' % (left, 'x')\n",
    "object_message": "def check(left, right):\n    assert left {op} right, [left, 'a\\nb']\n",
    "or": "def check(left, right):\n    flag = 0\n    assert flag or left {op} right\n",
    "and": "def check(left, right):\n    assert left is left and left {op} right\n",
    "not": "def check(left, right):\n    assert not left {op} right\n",
    "chain": "def check(left, right):\n    assert left == left {op} right\n",
}


def _check_pair(template, op, left, right, verbose):
    source = TEMPLATES[template].format(op=op)
    call = lambda ns: ns["check"](left, right)  # noqa: E731
    kind, _ = run_plain(source, call)
    assert_same_failure(source, verbose, call)
    return kind


@PROPERTY
@given(pair=st.one_of(similar_pairs(), st.tuples(values, values)),
       op=st.sampled_from(["=="] * 6 + OPS), template=st.sampled_from(sorted(TEMPLATES)),
       verbose=st.sampled_from([0, 1, 2]))
@example(pair=([1, 2], [1, 3]), op="==", template="plain", verbose=0)
@example(pair=([1, 2], [1, 3]), op="==", template="plain", verbose=1)
@example(pair=({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}), op="==", template="call", verbose=0)
@example(pair=({1, 2}, {2, 3}), op="==", template="plain", verbose=1)
@example(pair=("ba", "foobarbaz"), op="not in", template="plain", verbose=0)
@example(pair=("a" * 60 + "b" + "c" * 60, "a" * 60 + "d" + "c" * 60), op="==", template="plain", verbose=0)
@example(pair=("  ", " "), op="==", template="plain", verbose=0)
@example(pair=("\u00e9", "e\u0301"), op="==", template="plain", verbose=0)
@example(pair=(list(range(50)), list(range(1, 51))), op="==", template="plain", verbose=1)
@example(pair=({1, 2}, {1, 2}), op="!=", template="plain", verbose=0)
@example(pair=({1}, {1, 2}), op=">=", template="plain", verbose=0)
@example(pair=(b"abc", b"abd"), op="==", template="plain", verbose=0)
def test_comparison_messages_match_pytest(pair, op, template, verbose):
    left, right = pair
    _check_pair(template, op, left, right, verbose)


@PROPERTY
@given(left=values, right=values, op=st.sampled_from(OPS), verbose=st.sampled_from([0, 1, 2]))
def test_explanations_match_assertrepr_compare(left, right, op, verbose):
    """reprcompare.compare alone against pytest's assertrepr_compare, for every operator
    and any values (also ones where the comparison holds or raises)."""
    ours = _outcome(lambda: rc.compare(op, left, right, verbose))
    theirs = _outcome(lambda: pytest_util.assertrepr_compare(PytestConfig(verbose), op, left, right))
    assert ours[0] == theirs[0]
    if ours[0] == "passed":
        assert ours[1] == theirs[1]


@PROPERTY
@given(obj=values)
def test_pretty_printer_matches_pytest(obj):
    from _pytest._io.pprint import PrettyPrinter

    assert rc.pformat(obj) == PrettyPrinter().pformat(obj)


@given(obj=values, size=st.one_of(st.none(), st.integers(0, 300)), use_ascii=st.booleans())
@settings(deadline=None)
def test_saferepr_matches_pytest(obj, size, use_ascii):
    from _pytest._io.saferepr import saferepr

    assert rc.saferepr(obj, size, use_ascii) == saferepr(obj, size, use_ascii)


@given(lines=st.lists(st.text("ab", max_size=200), max_size=30),
       max_lines=st.sampled_from([None, 0, 3, 8]), max_chars=st.sampled_from([None, 0, 100, 640]))
@settings(deadline=None)
def test_truncation_matches_pytest(lines, max_lines, max_chars):
    ours = rc.truncate(list(lines), rc.Settings(0, max_lines, max_chars))
    config = types.SimpleNamespace(get_verbosity=lambda kind=None: 0,
                                   getini=lambda name: {"truncation_limit_lines": max_lines,
                                                        "truncation_limit_chars": max_chars}[name])
    theirs = pytest_truncate.truncate_if_required(list(lines), types.SimpleNamespace(config=config))
    assert ours == theirs


@given(st.lists(st.sampled_from(["a", "b c", "\n", "\n{", "\n}", "\n~", "\n>", "{", "}", "%", "\\n"]),
                max_size=30))
def test_format_explanation_matches_pytest(parts):
    lines = "".join(parts).split("\n")
    depth = 0  # where-clauses are always closed: neutralise a "}" that closes nothing
    for i in range(1, len(lines)):
        if lines[i].startswith("}"):
            if not depth:
                lines[i] = "x" + lines[i]
                continue
            depth -= 1
        depth += lines[i].startswith("{")
    text = "\n".join(lines) + "\n}" * depth
    assert rc.format_explanation(text) == pytest_util.format_explanation(text)


# The expression forms, each against pytest.
FORMS = [
    ("def f():\n    return 1\ndef check():\n    assert f() == 2\n", 0),
    ("def f(*a, **k):\n    return a\ndef check():\n    x = [1]\n    assert f(1, *x, k=2, **{'j': 3}) == ()\n", 0),
    ("class O:\n    x = 3\n    def m(self, a):\n        return a\n    def __repr__(self):\n        return 'O()'\n"
     "o = O()\ndef check():\n    assert o.m(o.x) == 5\n", 0),
    ("def check():\n    a, b = 0, 1\n    assert a or b == 2 or not b\n", 0),
    ("def check():\n    a = [1]\n    assert a and len(a) > 3\n", 0),
    ("def check():\n    assert not (1 + 2 * 3)\n", 0),
    ("def check():\n    x = 5\n    assert -x > ~x and +x % 2 == 0\n", 0),
    ("def check():\n    assert 1 < 3 < 2 < 0\n", 0),
    ("def check():\n    assert (1 < 2) == (2 < 1)\n", 0),
    ("def check():\n    assert [1, 2] == [1, 2] == [1, 3]\n", 0),
    ("def check():\n    assert None\n", 0),
    ("def check():\n    assert 0, 'zero'\n", 0),
    ("def check():\n    assert 0, ''\n", 0),
    ("def check():\n    assert False, 'a\\nb\\n{c}\\n~d %s'\n", 0),
    ("def check():\n    assert False, {'k': 'v\\nw'}\n", 0),
    ("def check():\n    assert len('abc') == 2, f'{1 + 1}'\n", 0),
    ("import os\ndef check():\n    assert os.path.exists('/nonexistent/x')\n", 0),
    ("def helper():\n    pass\nGLOBAL = 7\ndef check():\n    assert helper is None or GLOBAL == 8\n", 0),
    ("def check():\n    x = [1, 2, 3]\n    assert x[0] == 2\n", 0),
    ("def check():\n    d = {'a': 1}\n    assert d.get('a') == d.get('b')\n", 0),
    ("def check():\n    assert 'x' * 300 == 'x' * 299 + 'y'\n", 0),
    ("def check():\n    assert 'x' * 300 == 'x' * 299 + 'y'\n", 2),
    ("def check():\n    assert [i for i in range(20)] == list(range(21))\n", 1),
    ("def check():\n    assert (y := 3) == 4\n", 0),
    ("def check():\n    assert isinstance(1, str)\n", 0),
    ("def check():\n    s = {1, 2, 3}\n    assert s < {1, 2}\n", 0),
    ("def check():\n    assert 'needle' in 'haystack'\n", 0),
    ("def check():\n    assert 'sta' not in 'haystack ' * 10\n", 0),
    ("def check():\n    assert 1.5 == 2\n", 0),
    ("class Bad:\n    def __repr__(self):\n        raise ValueError('no repr')\n"
     "def check():\n    assert Bad() == 1\n", 0),
    ("def check():\n    assert (1, 2) == (1, 2, 3)\n", 0),
    ("def check():\n    assert [[1, [2]], 3] == [[1, [4]], 3]\n", 1),
    ("from collections import namedtuple\nP = namedtuple('P', 'x y')\n"
     "def check():\n    assert P(1, 2) == P(1, 3)\n", 0),
    ("import dataclasses\n@dataclasses.dataclass\nclass D:\n    a: int\n    b: list\n"
     "def check():\n    assert D(1, [1]) == D(1, [2])\n", 0),
    ("import dataclasses\n@dataclasses.dataclass\nclass D:\n    a: int\n    b: list\n"
     "def check():\n    assert [D(1, [1])] == [D(1, [2])]\n", 1),
    ("def check():\n    import pytest\n    assert 1.0 == pytest.approx(1.1)\n", 0),
    ("def check():\n    import pytest\n    assert [1.0, 2.0] == pytest.approx([1.0, 2.5])\n", 0),
    ("class L(list):\n    def __getitem__(self, i):\n        raise RuntimeError('boom')\n"
     "def check():\n    assert L([1]) == L([2])\n", 0),
    ("def check():\n    assert b'abc' == b'abd'\n", 0),
    ("def check():\n    assert {'a': 'x' * 100, 'b': [1] * 30} == {'a': 'y', 'b': [2]}\n", 0),
    ("def check():\n    assert {'a': 'x' * 100, 'b': [1] * 30} == {'a': 'y', 'b': [2]}\n", 1),
]


@pytest.mark.parametrize("source,verbose", FORMS)
def test_expression_forms_match_pytest(source, verbose):
    kind, _ = assert_same_failure(source, verbose, lambda ns: ns["check"]())
    assert kind == "AssertionError"


def test_module_and_class_level_asserts_match_pytest():
    source = "x = [1]\nclass K:\n    y = 2\n    assert y == x[0] + 2\n"
    with pytest.raises(AssertionError) as ours:
        run_ours_module(source)
    tree = ast.parse(source)
    pytest_rewrite.rewrite_asserts(tree, source.encode(), "m.py", None)
    with pytest.raises(AssertionError) as theirs:
        exec(compile(tree, "m.py", "exec"), {})
    assert str(ours.value) == str(theirs.value) == "assert 2 == (1 + 2)"


def run_ours_module(source, namespace=None):
    code, rewritten = rw.rewrite_source(source, "m.py")
    namespace = {} if namespace is None else namespace
    namespace[rw._HELPER] = rw._RT
    exec(code, namespace)
    return namespace


def test_verbosity_from_config_and_ini():
    rw.install({"options": {"verbose": 1}})
    try:
        assert rw._settings.verbose == 1
        rw.install({"options": {"verbose": 0}, "ini": {"verbosity_assertions": "2"}})
        assert rw._settings.verbose == 2
        rw.install({"options": {"verbose": 1}, "ini": {"verbosity_assertions": "auto",
                                                       "truncation_limit_lines": "3"}})
        assert rw._settings.verbose == 1 and rw._settings.max_lines == 3
    finally:
        rw.uninstall()


def test_real_pytest_agrees(tmp_path):
    """pytest run on a file: its E lines are our messages (checks the glue above)."""
    cases = [
        "assert [1, 2] == [1, 3]",
        "assert f(1) == 2",
        "assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3, 'c': 4}",
        "assert {1, 2} == {2, 3}",
        "assert 'abc\\ndef' == 'abc\\ndeg'",
        "assert 'x' * 100 + 'a' == 'x' * 100 + 'b'",
        "assert 'ba' not in 'foobarbaz'",
        "assert o.m() == 5, 'msg\\nline %s'",
        "assert list(range(30)) == list(range(31))",
        "assert not f(1)",
        "assert f(0) or f(2) > 3",
        "assert 1 < f(3) < 2",
    ]
    lines = ["def f(x):\n    return x\n",
             "class O:\n    def m(self):\n        return 4\n    def __repr__(self):\n        return 'O()'\n",
             "o = O()\n"]
    for i, case in enumerate(cases):
        lines.append(f"def test_{i}():\n    {case}\n")
    source = "\n".join(lines)
    (tmp_path / "test_cases.py").write_text(source)
    for verbose in (0, 1):
        args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "--color=no",
                "test_cases.py"] + (["-v"] if verbose else [])
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "BUILD_NUMBER", "PYTEST_ADDOPTS")}
        out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env).stdout
        reported = _e_lines(out)
        namespace = run_ours_module(source, {"__name__": "test_cases"})
        rw.set_verbosity(verbose)
        for i in range(len(cases)):
            with pytest.raises(AssertionError) as info:
                namespace[f"test_{i}"]()
            assert rw.exception_text(info.value) == reported[f"test_{i}"], cases[i]
        rw.set_verbosity(0)


def _e_lines(output):
    """{test name: the text of its E lines} of pytest's failure report."""
    sections = {}
    name = None
    for line in output.splitlines():
        if line.startswith("____") and line.endswith("____"):
            name = line.strip("_ ")
            sections[name] = []
        elif name and line.startswith("E "):
            sections[name].append(line)
    result = {}
    for name, e_lines in sections.items():
        width = len(e_lines[0]) - len(e_lines[0][1:].lstrip()) if e_lines else 0
        result[name] = "\n".join(line[width:] for line in e_lines)
    return result


# --------------------------------------------------------------------------------------
# (b), (c) Behaviour: generated expressions behave exactly as without rewriting

PRELUDE = '''
log = []

class T:
    """A value whose truth tests are logged."""
    def __init__(self, tag, truth):
        self.tag, self.truth = tag, truth
    def __bool__(self):
        log.append(("bool", self.tag))
        return self.truth
    def __repr__(self):
        return f"T({self.tag})"

class Box:
    def __init__(self, v):
        self.v = v
    def __repr__(self):
        return "Box()"

def f(tag, value):
    log.append(("f", tag))
    return value

def box(tag, value):
    log.append(("box", tag))
    return Box(value)

def g(*args, **kwargs):
    log.append(("g", len(args), tuple(sorted(kwargs))))
    return args[0] if args else len(kwargs)
'''

tags = st.integers(0, 99)
leaf_values = st.sampled_from(["0", "1", "2", "True", "False", "None", "[]", "[1]", "'x'"])
leaves = st.one_of(
    st.builds(lambda n, v: f"f({n}, {v})", tags, leaf_values),
    st.builds(lambda n, t: f"T({n}, {t})", tags, st.booleans()),
    st.sampled_from(["a", "b", "c", "w", "0", "1", "None", "True", "'s'"]),
)


def _extend(kids):
    two = st.tuples(kids, kids)
    three = st.tuples(kids, kids, kids)
    return st.one_of(
        kids.map(lambda x: f"(not {x})"),
        kids.map(lambda x: f"(-{x})"),
        two.map(lambda p: f"({p[0]} and {p[1]})"),
        two.map(lambda p: f"({p[0]} or {p[1]})"),
        three.map(lambda p: f"({p[0]} or {p[1]} and {p[2]})"),
        two.map(lambda p: f"({p[0]} == {p[1]})"),
        two.map(lambda p: f"({p[0]} + {p[1]})"),
        two.map(lambda p: f"({p[0]} is not {p[1]})"),
        two.map(lambda p: f"({p[0]} in {p[1]})"),
        three.map(lambda p: f"({p[0]} < {p[1]} <= {p[2]})"),
        three.map(lambda p: f"({p[0]} == {p[1]} != {p[2]})"),
        two.map(lambda p: f"g({p[0]}, k={p[1]})"),
        two.map(lambda p: f"g(*[{p[0]}], **{{'k': {p[1]}}})"),
        st.tuples(tags, kids).map(lambda p: f"box({p[0]}, {p[1]}).v"),
        three.map(lambda p: f"({p[0]} if {p[1]} else {p[2]})"),
        kids.map(lambda x: f"(w := {x})"),
        kids.map(lambda x: f"[f(i, {x}) for i in range(2)]"),
        kids.map(lambda x: f"(lambda: {x})()"),
    )


expressions = st.recursive(leaves, _extend, max_leaves=8)

SCOPES = {
    "function": ("def check(a, b, c):\n    w = 0\n    assert {expr}{msg}\n    return ('passed', w)\n",
                 lambda ns: ns["check"](0, 1, "s")),
    "module": ("a, b, c, w = 0, 1, 's', 0\nassert {expr}{msg}\n", None),
    "class": ("class K:\n    a, b, c, w = 0, 1, 's', 0\n    assert {expr}{msg}\n", None),
    "closure": ("def outer():\n    a, b, c, w = 0, 1, 's', 0\n    def check():\n        nonlocal w\n"
                "        assert {expr}{msg}\n        return ('passed', a, w)\n    return check()\n",
                lambda ns: ns["outer"]()),
    "async": ("async def check(a, b, c):\n    w = 0\n    assert {expr}{msg}\n    return ('passed', w)\n",
              lambda ns: _drive(ns["check"](0, 1, "s"))),
    "method": ("class K:\n    def check(self, a, b, c):\n        w = 0\n        assert {expr}{msg}\n"
               "        return ('passed', w)\n", lambda ns: ns["K"]().check(0, 1, "s")),
}

def _drive(coroutine):
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the coroutine awaited")


def _behaviour(source, call, rewritten):
    namespace = {"__name__": "gen_behaviour"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # "is not" with a literal
            if rewritten == "pytest":
                tree = ast.parse(source)
                pytest_rewrite.rewrite_asserts(tree, source.encode(), "gen_behaviour.py", None)
                code = compile(tree, "gen_behaviour.py", "exec", dont_inherit=True)
            elif rewritten:
                code, _ = rw.rewrite_source(source, "gen_behaviour.py")
                namespace[rw._HELPER] = rw._RT
            else:
                code = compile(source, "gen_behaviour.py", "exec", dont_inherit=True)
            exec(code, namespace)
        result = call(namespace) if call is not None else "passed"
        kind = "passed"
    except AssertionError as e:
        kind, result = "AssertionError", e
    except Exception as e:  # noqa: BLE001
        kind, result = type(e).__name__, str(e)
    state = {k: v for k, v in namespace.items() if k in ("a", "b", "c", "w")}
    klass = namespace.get("K")
    if klass is not None:
        state.update({k: v for k, v in vars(klass).items() if not k.startswith("__") and not callable(v)})
    if kind != "AssertionError":
        result = _no_addresses(repr(result))
    return kind, result, namespace.get("log"), _no_addresses(repr(state)), namespace


@PROPERTY
@given(expr=expressions, scope=st.sampled_from(sorted(SCOPES)), with_msg=st.booleans())
@example(expr="(f(1, 0) < f(2, 1) < f(3, 2))", scope="function", with_msg=False)
@example(expr="(f(1, 1) < f(2, 0) < f(3, 2))", scope="function", with_msg=True)
@example(expr="(T(1, False) and T(2, True))", scope="function", with_msg=False)
@example(expr="(T(1, True) or f(2, 0))", scope="module", with_msg=False)
@example(expr="((w := f(1, 2)) == w)", scope="closure", with_msg=False)
@example(expr="[f(i, w) for i in range(2)]", scope="class", with_msg=False)
def test_rewritten_behaves_like_plain_python(expr, scope, with_msg):
    """Same outcome, same side effects in the same order (calls, truth tests, walrus
    bindings), whether the assert passes, fails or raises; and when it fails, the first
    line of the message is "assert ..." like pytest's."""
    template, call = SCOPES[scope]
    msg = ", f(99, 'message')" if with_msg else ""
    source = PRELUDE + template.format(expr=expr, msg=msg)
    plain = _behaviour(source, call, rewritten=False)
    ours = _behaviour(source, call, rewritten=True)
    note(source)
    assert ours[0] == plain[0]
    assert ours[2] == plain[2]  # the log: calls and __bool__ in the same order
    if plain[0] == "passed":
        assert ours[1] == plain[1]
    elif plain[0] != "AssertionError":
        assert ours[1] == plain[1]
    assert ours[3] == plain[3]  # a, b, c, w: walrus bindings and nothing else changed
    if ours[0] == "AssertionError":
        text = str(ours[1])
        assert text.startswith("message\nassert " if with_msg else "assert ")
        # pytest evaluates every operand of a chained comparison, and a walrus again when
        # explaining (so it may show a later value): the same text but for the latter.
        theirs = _behaviour(source, call, rewritten="pytest")
        if theirs[0] == "AssertionError" and ":=" not in expr:
            assert _no_addresses(text) == _no_addresses(str(theirs[1]))
    # nothing of ours is left in the namespaces (module/class level temporaries deleted)
    namespace = ours[4]
    leftovers = [k for k in namespace if k.startswith("@dx") and k != rw._HELPER]
    klass = namespace.get("K")
    if klass is not None:
        leftovers += [k for k in vars(klass) if k.startswith("@")]
    if ours[0] == "passed":
        assert leftovers == []


def test_side_effects_once_on_failure():
    source = PRELUDE + ("def check():\n    assert f(1, 1) + f(2, 2) == box(3, 4).v"
                        " and g(f(4, 1)), f(5, 'msg')\n")
    kind, exc, log, _, _ = _behaviour(source, lambda ns: ns["check"](), rewritten=True)
    assert kind == "AssertionError"
    assert log == [("f", 1), ("f", 2), ("box", 3), ("f", 5)]
    assert str(exc) == "\n".join([
        "msg",
        "assert ((1 + 2) == 4)",
        " +  where 1 = f(1, 1)",
        " +  and   2 = f(2, 2)",
        " +  and   4 = Box().v",
        " +    where Box() = box(3, 4)",
    ])


def test_locals_survive_and_temporaries_are_released():
    import gc
    import weakref

    source = ("class Obj:\n    pass\n"
              "def make():\n    return Obj()\n"
              "def check(refs, weakref):\n"
              "    assert (y := make()) is not None and make() is not y\n"
              "    refs.append(weakref.ref(y))\n    del y\n")
    namespace = run_ours_module(source)
    refs = []
    namespace["check"](refs, weakref)
    gc.collect()
    assert refs[0]() is None  # no temporary keeps the object alive


def test_assert_in_nested_scopes():
    source = textwrap.dedent('''
        def outer(n):
            total = 0
            def inner(k):
                nonlocal total
                total += k
                assert total == sum(range(k + 1)) - sum(range(k)) + (total - k)
                return total
            class Local:
                values = [inner(i) for i in range(n)]
                assert len(values) == n
                def method(self):
                    assert super().__repr__().startswith("<")
                    return __class__
            return Local().method() is Local, total

        async def agen(n):
            for i in range(n):
                assert (yield i) is None or i >= 0
            assert [x async for x in _aiter(n)] == list(range(n))

        async def _aiter(n):
            for i in range(n):
                yield i

        def gen(n):
            for i in range(n):
                got = yield i
                assert got is None, got

        class Outer:
            items = [1, 2, 3]
            assert [i * 2 for i in items] == [2, 4, 6]
            assert all(i > 0 for i in items)
    ''')
    namespace = run_ours_module(source)
    assert namespace["outer"](4) == (True, 6)
    assert list(namespace["gen"](3)) == [0, 1, 2]

    async def consume():
        return [x async for x in namespace["agen"](3)]

    assert asyncio.run(consume()) == [0, 1, 2]
    assert not [k for k in vars(namespace["Outer"]) if k.startswith("@")]
    passed, failed = rw.take_counts()
    assert failed == 0 and passed > 10


def test_failure_traceback_points_at_the_assert(tmp_path):
    source = "def check():\n    x = 1\n\n    assert (x +\n            1) == 3\n"
    namespace = run_ours_module(source)
    with pytest.raises(AssertionError) as info:
        namespace["check"]()
    assert info.traceback[-1].lineno + 1 == 4
    assert info.traceback[-1].frame.code.name == "check"


def test_too_deep_assert_stays_plain():
    """An expression too deep to rewrite keeps its plain assert; the module still loads
    and its other asserts are rewritten and counted."""
    deep = " and ".join(["a"] * 3000)
    source = f"def check(a):\n    assert a == 1\n    assert {deep}\n    assert a == 2\n"
    namespace = run_ours_module(source)
    with pytest.raises(AssertionError) as info:
        namespace["check"](1)
    assert str(info.value) == "assert 1 == 2"
    assert rw.take_counts() == (2, 1)
    with pytest.raises(AssertionError) as info:
        namespace["check"](0)
    assert str(info.value) == "assert 0 == 1"


def test_on_ci_full_diffs_match_pytest(monkeypatch):
    monkeypatch.setenv("CI", "true")
    source = "def check():\n    assert list(range(40)) == list(range(1, 41))\n"
    kind, ours = assert_same_failure(source, 0, lambda ns: ns["check"]())
    assert "Full diff:" in str(ours) and "truncated" not in str(ours)


def test_tuple_assert_warns():
    with pytest.warns(SyntaxWarning, match="always true"):
        rw.rewrite_source("def check():\n    assert (1, 'x')\n", "t.py")


# --------------------------------------------------------------------------------------
# The import hook, (d) the cache, (e) PYTEST_DONT_REWRITE, (f) the counters


@pytest.fixture
def hook(tmp_path, monkeypatch):
    """The import hook installed for tmp_path (on sys.path), cache writing on."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    rw.install({"rootdir": str(tmp_path), "options": {"verbose": 0}})
    rw.take_counts()
    yield tmp_path
    rw.uninstall()
    for name in set(sys.modules) - before:
        del sys.modules[name]
    importlib.invalidate_caches()


def _import(name):
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(name)


def _stats():
    return dict(rw.stats)


def _delta(before):
    return {k: rw.stats[k] - before[k] for k in before}


FAILING_MODULE = "def test_one():\n    x = [1, 2]\n    assert x == [1, 3]\n"


def _message_of(module, name="test_one"):
    with pytest.raises(AssertionError) as info:
        getattr(module, name)()
    return str(info.value)


def test_cache_is_written_and_used(hook):
    (hook / "test_cached.py").write_text(FAILING_MODULE)
    before = _stats()
    first = _import("test_cached")
    assert _delta(before) == {"rewritten": 1, "cache_hits": 0, "cache_writes": 1}
    pyc = hook / "__pycache__" / f"test_cached.{sys.implementation.cache_tag}-dxpy-{rw.REWRITE_VERSION}.pyc"
    assert pyc.is_file()
    assert not [p for p in pyc.parent.iterdir() if p.name.endswith(".tmp")]  # renamed into place
    message = _message_of(first)
    assert message.startswith("assert [1, 2] == [1, 3]")

    before = _stats()
    second = _import("test_cached")
    assert _delta(before) == {"rewritten": 0, "cache_hits": 1, "cache_writes": 0}
    assert second is not first
    assert _message_of(second) == message
    assert isinstance(second.__loader__, rw._RewritingLoader)


def test_cache_is_invalidated_when_the_source_changes(hook):
    path = hook / "test_changing.py"
    path.write_text(FAILING_MODULE)
    _import("test_changing")
    # Same size, same second: the nanosecond mtime still tells.
    path.write_text(FAILING_MODULE.replace("[1, 3]", "[1, 4]"))
    st_ = path.stat()
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1))
    before = _stats()
    module = _import("test_changing")
    assert _delta(before)["rewritten"] == 1
    assert _message_of(module).startswith("assert [1, 2] == [1, 4]")
    # Different size, mtime put back: the size tells.
    path.write_text(FAILING_MODULE.replace("[1, 3]", "[1, 55]"))
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1))
    before = _stats()
    module = _import("test_changing")
    assert _delta(before)["rewritten"] == 1
    assert _message_of(module).startswith("assert [1, 2] == [1, 55]")


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "bad_magic", "bad_version", "not_code"])
def test_corrupt_cache_is_ignored_and_rewritten(hook, damage):
    (hook / "test_corrupt.py").write_text(FAILING_MODULE)
    _import("test_corrupt")
    pyc = next((hook / "__pycache__").glob("test_corrupt.*dxpy*.pyc"))
    data = pyc.read_bytes()
    header = rw._HEADER.size
    damaged = {
        "empty": b"",
        "truncated": data[: header + 10],
        "garbage": data[:header] + b"\x00garbage\xff" * 10,
        "bad_magic": b"\x00\x00\x00\x00" + data[4:],
        "bad_version": data[:8] + struct.pack("<I", rw.REWRITE_VERSION + 1) + data[12:],
        "not_code": data[:header] + __import__("marshal").dumps(["a list"]),
    }[damage]
    pyc.write_bytes(damaged)
    before = _stats()
    module = _import("test_corrupt")
    assert _delta(before) == {"rewritten": 1, "cache_hits": 0, "cache_writes": 1}
    assert _message_of(module).startswith("assert [1, 2] == [1, 3]")
    assert pyc.read_bytes()[:header] == data[:header]  # written again, valid
    assert rw._read_cache(str(pyc), (hook / "test_corrupt.py").stat()) is not None


def test_unwritable_cache_folder_is_skipped(hook):
    (hook / "__pycache__").write_text("a file where the folder would be")
    (hook / "test_nocache.py").write_text(FAILING_MODULE)
    before = _stats()
    module = _import("test_nocache")
    assert _delta(before) == {"rewritten": 1, "cache_hits": 0, "cache_writes": 0}
    assert _message_of(module).startswith("assert [1, 2] == [1, 3]")


def test_dont_write_bytecode_is_honoured(hook, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    (hook / "test_nowrite.py").write_text(FAILING_MODULE)
    before = _stats()
    _import("test_nowrite")
    assert _delta(before)["cache_writes"] == 0
    assert not (hook / "__pycache__").exists()


def test_dont_rewrite_module_is_untouched(hook):
    (hook / "test_plain.py").write_text(
        '"""Helpers. PYTEST_DONT_REWRITE"""\n' + FAILING_MODULE + "def test_two():\n    assert True\n")
    module = _import("test_plain")
    with pytest.raises(AssertionError) as info:
        module.test_one()
    assert info.value.args == ()
    module.test_two()
    assert rw._HELPER not in vars(module)
    assert rw.take_counts() == (0, 0)
    plain = compile((hook / "test_plain.py").read_bytes(), str(hook / "test_plain.py"), "exec")
    plain_one = next(c for c in plain.co_consts if getattr(c, "co_name", "") == "test_one")
    assert module.test_one.__code__.co_code == plain_one.co_code


def test_counters(hook):
    (hook / "test_counting.py").write_text(textwrap.dedent('''
        def test_many():
            for i in range(10):
                assert i >= 0
            assert 1 and 2
            assert 1 < 2 < 3
            assert not 0

        def test_fails():
            assert 1 == 1
            assert 1 == 2

        def test_raises_after_two(stop):
            assert True
            if stop:
                return
            with open(__file__) as f:
                assert f.readable()
            assert len("ab") == 2
            raise ValueError("after two")

        def test_generator():
            for i in range(3):
                assert i < 3
                yield i
            assert True

        assert __name__
        class TestK:
            assert True
            def test_method(self):
                assert self
                def inner():
                    assert 1
                inner()
                inner()
    '''))
    module = _import("test_counting")
    assert rw.take_counts() == (2, 0)  # the module's and the class's, at import
    module.test_many()
    assert rw.take_counts() == (13, 0)
    assert rw.take_counts() == (0, 0)
    with pytest.raises(AssertionError):
        module.test_fails()
    assert rw.take_counts() == (1, 1)
    with pytest.raises(ValueError):
        module.test_raises_after_two(False)
    assert rw.take_counts() == (3, 0)
    module.test_raises_after_two(True)
    assert rw.take_counts() == (1, 0)
    assert list(module.test_generator()) == [0, 1, 2]
    assert rw.take_counts() == (4, 0)
    module.TestK().test_method()
    assert rw.take_counts() == (3, 0)


def test_which_modules_are_rewritten(hook):
    (hook / "helper.py").write_text("def check():\n    assert 1 == 2\n")
    (hook / "conftest.py").write_text("def check():\n    assert 1 == 2\n")
    (hook / "thing_test.py").write_text("def check():\n    assert 1 == 2\n")
    (hook / "pkg").mkdir()
    (hook / "pkg" / "__init__.py").write_text("")
    (hook / "pkg" / "test_sub.py").write_text("def check():\n    assert 1 == 2\n")
    for name, rewritten in [("helper", False), ("conftest", True), ("thing_test", True), ("pkg.test_sub", True)]:
        module = _import(name)
        with pytest.raises(AssertionError) as info:
            module.check()
        assert (str(info.value) == "assert 1 == 2") is rewritten, name


def test_python_files_patterns_and_command_line_files(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "sub").mkdir()
    for name in ("check_one.py", "sub/deep.py", "named.py", "other.py"):
        (tmp_path / name).write_text("def check():\n    assert 1 == 2\n")
    rw.install({"python_files": ["check_*.py", "sub/*.py"], "args": ["named.py::test_x"],
                "invocation_dir": str(tmp_path)})
    try:
        for name, rewritten in [("check_one", True), ("sub.deep", True), ("named", True), ("other", False)]:
            module = _import(name)
            with pytest.raises(AssertionError) as info:
                module.check()
            assert (str(info.value) == "assert 1 == 2") is rewritten, name
    finally:
        rw.uninstall()
        for name in ("check_one", "sub.deep", "sub", "named", "other"):
            sys.modules.pop(name, None)


def test_register_assert_rewrite_and_conftest_plugins(hook):
    (hook / "helpers_a.py").write_text("def check():\n    assert 1 == 2\n")
    (hook / "helpers_b").mkdir()
    (hook / "helpers_b" / "__init__.py").write_text("")
    (hook / "helpers_b" / "mod.py").write_text("def check():\n    assert 1 == 2\n")
    (hook / "plugin_c.py").write_text("def check():\n    assert 1 == 2\n")
    (hook / "helpers_d.py").write_text("def check():\n    assert 1 == 2\n")
    (hook / "conftest.py").write_text(
        "import pytest\npytest.register_assert_rewrite('helpers_d')\npytest_plugins = ['plugin_c']\n")
    rw.register_assert_rewrite("helpers_a", "helpers_b")
    _import("conftest")
    for name in ("helpers_a", "helpers_b.mod", "plugin_c", "helpers_d"):
        module = _import(name)
        with pytest.raises(AssertionError) as info:
            module.check()
        assert str(info.value) == "assert 1 == 2", name


def test_pytest_imported_after_install_finds_our_hook(tmp_path):
    """pytest.register_assert_rewrite looks for its own hook class in sys.meta_path: ours
    passes that test once pytest is imported (here after install, as in a worker)."""
    (tmp_path / "helpers_late.py").write_text("def check():\n    assert 1 == 2\n")
    script = textwrap.dedent(f'''
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("rw", {str(WORKER / "rewrite.py")!r})
        rw = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(rw)
        rw.install({{}})
        assert "pytest" not in sys.modules
        import pytest
        from _pytest.assertion.rewrite import AssertionRewritingHook
        assert isinstance(sys.meta_path[0], AssertionRewritingHook)
        pytest.register_assert_rewrite("helpers_late")
        sys.path.insert(0, {str(tmp_path)!r})
        import helpers_late
        try:
            helpers_late.check()
        except AssertionError as e:
            print(str(e))
    ''')
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "assert 1 == 2\n"


def test_rewritten_module_namespace_is_untouched(hook):
    (hook / "test_clean.py").write_text("x = 1\nassert x == 1\nclass K:\n    assert x\n"
                                        "def test_a():\n    assert x\n")
    module = _import("test_clean")
    module.test_a()
    assert not [k for k in vars(module) if k.startswith("@")]
    assert not [k for k in vars(module.K) if k.startswith("@")]
    # run elsewhere (runpy, exec with other globals), the helper is still found
    exec(module.test_a.__code__, {"x": 2})


def test_conftest_assertrepr_compare_hook(hook):
    (hook / "conftest.py").write_text(
        "def pytest_assertrepr_compare(config, op, left, right):\n"
        "    if isinstance(left, str) and op == '==':\n"
        "        return ['custom', f'verbose={config.getoption(\"verbose\")}']\n")
    (hook / "test_custom.py").write_text(
        "def test_one():\n    assert 'a' == 'b'\ndef test_two():\n    assert [1] == [2]\n"
        "def test_three():\n    assert {1} == {2}\n")
    _import("conftest")
    module = _import("test_custom")
    assert _message_of(module, "test_one") == "assert custom\n  verbose=0"
    assert _message_of(module, "test_two").startswith("assert [1] == [2]\n  \n  At index 0 diff")

    def plugin_hook(left, op):  # a plugin's, naming only some of the arguments
        return [f"plugin {op}"] if isinstance(left, (list, str)) else None

    rw.add_compare_hook(plugin_hook)
    assert _message_of(module, "test_one") == "assert custom\n  verbose=0"  # the conftest's first
    assert _message_of(module, "test_two") == "assert plugin =="
    assert _message_of(module, "test_three").startswith("assert {1} == {2}\n  \n  Extra items")
    rw.set_test_path(str(hook.parent / "elsewhere" / "test_x.py"))  # outside the conftest's folder
    try:
        assert _message_of(module, "test_one") == "assert plugin =="
    finally:
        rw.set_test_path(None)


def test_exception_text_matches_pytest():
    cases = [AssertionError("assert 1 == 2"), AssertionError("assert 'a' == 'b'"),
             AssertionError("msg\nassert 1 == 2"), AssertionError(), ValueError("x"),
             AssertionError("assert x\n  where")]
    for exc in cases:
        try:
            raise exc
        except Exception as e:  # noqa: BLE001
            assert rw.exception_text(e) == shown(e)
