"""worker/order.py: which conftests may reorder (no import), and the order process's answer."""
import os
import struct
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from dx_py_test_runner import _core
from dx_py_test_runner.worker.order import decode_cases, may_reorder


def hook(body, params="items", before=""):
    return textwrap.dedent(before) + f"def pytest_collection_modifyitems({params}):\n" + \
        textwrap.indent(textwrap.dedent(body), "    ")


REORDERS = {
    "sort": hook("items.sort(key=lambda i: i.name)\n"),
    "slice": hook("items[:] = reversed(items)\n"),
    "index": hook("items[0], items[1] = items[1], items[0]\n"),
    "delete": hook("del items[0]\n"),
    "augmented": hook("items += []\n"),
    "insert": hook("items.insert(0, items.pop())\n"),
    "alias": hook("its = items\nits.reverse()\n"),
    "shuffle": hook("random.Random(1).shuffle(items)\n", before="import random\n"),
    "shuffle_name": hook("shuffle(items)\n", before="from random import shuffle\n"),
    "local_helper": hook("_helper(items)\n", before="def _helper(xs):\n    xs.sort()\n"),
    "local_helper_kw": hook("_helper(1, xs=items)\n", before="def _helper(a, xs):\n    xs.sort()\n"),
    "local_helper_star": hook("_helper(1, items)\n", before="def _helper(*xs):\n    pass\n"),
    "ordering_name": hook("plugin.reorder_tests(items)\n"),
    "imported": "from myplugin import pytest_collection_modifyitems\n",
    "assigned": "pytest_collection_modifyitems = make_hook()\n",
    "method": "class Plugin:\n    def pytest_collection_modifyitems(self, items):\n        pass\n",
    "specname": "import pytest\n\n@pytest.hookimpl(specname='pytest_collection_modifyitems')\n"
                "def f(items):\n    pass\n",
    "annotated_params": hook("items.reverse()\n", params="session, config, items: list"),
}

KEEPS = {
    "marks": hook("for item in items:\n    item.add_marker('slow')\n", params="config, items"),
    "copy_sorted": hook("first = sorted(items)[0]\n"),
    "no_items": hook("pass\n", params="config"),
    "outside_call": hook("backend.on_start_tests(items)\n"),  # networkx's kind of call
    "dynamic_call": hook("getattr(backend, 'on_start_tests')(items)\n"),
    "local_helper_reads": hook("_count(items)\n", before="def _count(xs):\n    return len(xs)\n"),
    "recursive_helper": hook("_walk(items)\n", before="def _walk(xs):\n    return _walk(xs)\n"),
    "other_list": hook("others = []\nothers.sort()\nconfig.hook.pytest_deselected(items=others)\n",
                       params="config, items"),
    "syntax_error": "def pytest_collection_modifyitems(items:\n",
    "not_defined": "# pytest_collection_modifyitems is not used here\nimport os\n",
}


@pytest.mark.parametrize("name", sorted(REORDERS))
def test_hooks_that_may_reorder(name):
    assert may_reorder(REORDERS[name])


@pytest.mark.parametrize("name", sorted(KEEPS))
def test_hooks_that_keep_the_order(name):
    assert not may_reorder(KEEPS[name])


def test_networkx_conftest_keeps_the_order():
    """networkx's hook marks slow tests (and hands items to a backend): no collection for it."""
    nx = pytest.importorskip("networkx")
    path = os.path.join(os.path.dirname(nx.__file__), "conftest.py")
    with open(path, "rb") as f:
        assert not may_reorder(f.read())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_an_answer(text):
    assert may_reorder(hook(text) if text.isidentifier() else text) in (True, False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20)), max_size=20))
def test_cases_round_trip_through_the_stream(pairs):
    cases = []
    data = b""
    for path, name in pairs:
        tc = _core.TestCase()
        tc.id.path = path
        tc.id.name = name
        encoded = _core.encode(tc)
        data += struct.pack("<I", len(encoded)) + encoded
        cases.append((path, name))
    got = [(c.id.path, c.id.name) for c in decode_cases(data)]
    assert got == cases
    if data:
        with pytest.raises(ValueError):
            decode_cases(data[:-1])


def test_order_process_answers_keep_without_importing(tmp_path):
    (tmp_path / "conftest.py").write_text(KEEPS["marks"] + "\nraise SystemExit('imported')\n")
    p = subprocess.run([sys.executable, "-m", "dx_py_test_runner.worker.order", str(tmp_path / "conftest.py")],
                       input=b"", capture_output=True, timeout=60)
    assert p.stdout == b"keep\n"


def test_order_process_says_what_went_wrong(tmp_path):
    (tmp_path / "conftest.py").write_text(REORDERS["sort"])
    p = subprocess.run([sys.executable, "-m", "dx_py_test_runner.worker.order", str(tmp_path / "conftest.py")],
                       input=b"\x05\x00\x00\x00ab", capture_output=True, timeout=60)
    assert p.stdout.startswith(b"error ValueError: truncated test list")


# The hooks the orchestrator's own C++ look (session/hook_order.cpp, hook_surely_keeps_order)
# takes as keeping the order without asking this module (HookSurelyKeepsOrder reads the same
# files): may_reorder must agree, or the C++ look would skip an order pytest follows.
CPP_KEEPS = os.path.join(os.path.dirname(__file__), "..", "data", "hooks_that_keep_order")


@pytest.mark.parametrize("name", sorted(os.listdir(CPP_KEEPS)))
def test_what_the_orchestrator_takes_as_keeping_the_order_keeps_it(name):
    with open(os.path.join(CPP_KEEPS, name), "rb") as f:
        assert may_reorder(f.read()) is False
