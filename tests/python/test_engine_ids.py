"""Parametrize ids: the worker's IdMaker against pytest's own (`_pytest.python.IdMaker`), on
generated values, ids lists, id functions and duplicates."""
import enum
import re

import pytest
from _pytest.mark.structures import ParameterSet
from _pytest.python import IdMaker as PytestIdMaker
from hypothesis import given, settings
from hypothesis import strategies as st

from dx_py_test_runner.worker import parametrize as dxp


class Color(enum.Enum):
    RED = 1
    GREEN = "g"


def some_function():
    pass


class SomeClass:
    pass


class Unnamed:
    """No __name__ on instances: the id falls back to argname + index."""


OBJECTS = [Color.RED, Color.GREEN, some_function, SomeClass, re.compile(r"a\.b"), Unnamed(), object(),
           re.compile("ü+"), len, float("nan"), float("inf"), -0.0, 10 ** 30, True, False, None, 3 + 4j]

values = st.one_of(
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.binary(max_size=8),
    st.booleans(),
    st.none(),
    st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=1e6),
    st.sampled_from(OBJECTS),
    st.sampled_from(["a", "a", "1", "a1", "", "ü", "\n", "x-y"]),  # duplicates and digits more often
)


def ours(argnames, sets, idfn=None, ids=None):
    psets = [dxp.ParamSet(tuple(v), [], i) for v, i in sets]
    return dxp.IdMaker(argnames, psets, idfn, ids, None, nodeid="t.py::f", func_name="f").make_unique_parameterset_ids()


def pytests(argnames, sets, idfn=None, ids=None):
    psets = [ParameterSet(tuple(v), [], i) for v, i in sets]
    return PytestIdMaker(argnames, psets, idfn, ids, None, nodeid="t.py::f", func_name="f").make_unique_parameterset_ids()


@settings(max_examples=400, deadline=None)
@given(rows=st.lists(st.tuples(values, values), min_size=1, max_size=8))
def test_generated_values_get_pytests_ids(rows):
    sets = [((a, b), None) for a, b in rows]
    assert ours(["x", "y"], sets) == pytests(["x", "y"], sets)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(values, min_size=1, max_size=10),
       explicit=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "a1", "1", "", "ü"])), max_size=10))
def test_explicit_param_ids_and_duplicates(rows, explicit):
    sets = [((v,), explicit[i] if i < len(explicit) else None) for i, v in enumerate(rows)]
    assert ours(["v"], sets) == pytests(["v"], sets)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(values, min_size=1, max_size=8),
       ids=st.lists(st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=4), st.booleans(),
                              st.sampled_from([Color.RED, some_function])), min_size=0, max_size=8))
def test_ids_lists(rows, ids):
    ids = (ids + [None] * len(rows))[:len(rows)]
    sets = [((v,), None) for v in rows]
    assert ours(["v"], sets, ids=ids) == pytests(["v"], sets, ids=ids)


def test_an_id_function_and_its_none():
    sets = [((v,), None) for v in [1, "a", 2.5, None, SomeClass]]

    def idfn(value):
        return None if isinstance(value, int) else f"<{value}>"

    assert ours(["v"], sets, idfn=idfn) == pytests(["v"], sets, idfn=idfn)


def test_unsupported_value_in_ids_fails_like_pytest():
    with pytest.raises(BaseException, match="ids contains unsupported value"):
        ours(["v"], [((1,), None)], ids=[object()])


def test_ascii_escaping_matches_pytest():
    from _pytest.compat import ascii_escaped

    for text in ["plain", "tab\tnew\nline", "ü", "\x00\x1f\x7f", "€", "\U0001F600", b"\xff\x00ab"]:
        assert dxp.ascii_escaped(text) == ascii_escaped(text)


def test_callspec_ids_join_with_dashes_and_hidden_param_is_left_out():
    from _pytest.mark.structures import HIDDEN_PARAM

    cs = dxp.CallSpec().setmulti(["a"], [1], "x", [], dxp.FUNCTION, 0, "n")
    cs = cs.setmulti(["b"], [2], HIDDEN_PARAM, [], dxp.FUNCTION, 0, "n")
    cs = cs.setmulti(["c"], [3], "z", [], dxp.FUNCTION, 0, "n")
    assert cs.id == "x-z"
    assert cs.params == {"a": 1, "b": 2, "c": 3}


def pytest7_unique(resolved):
    """pytest 7.x's make_unique_parameterset_ids (7.0 to 7.4 alike), the oracle for an
    environment that has pytest 7 installed: the counter is appended as it is."""
    from collections import Counter, defaultdict
    resolved = list(resolved)
    if len(set(resolved)) != len(resolved):
        counts, suffixes = Counter(resolved), defaultdict(int)
        for index, id_ in enumerate(resolved):
            if counts[id_] > 1:
                resolved[index] = f"{id_}{suffixes[id_]}"
                suffixes[id_] += 1
    return resolved


class _FakePytest:
    def __init__(self, version):
        self.__version__ = version


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.sampled_from(["a", "a0", "1", "10", "b", 1, 10, 48]), min_size=1, max_size=8),
       major=st.sampled_from(["7.2.2", "7.4.4", "8.0.0", "9.0.3"]))
def test_duplicate_ids_follow_the_installed_pytest(rows, major):
    import sys
    saved, saved_flag = sys.modules.get("pytest"), dxp._PYTEST7_IDS
    sys.modules["pytest"], dxp._PYTEST7_IDS = _FakePytest(major), None
    try:
        got = ours(["v"], [((v,), None) for v in rows])
    finally:
        sys.modules["pytest"], dxp._PYTEST7_IDS = saved, saved_flag
    plain = [str(v) for v in rows]
    if major.startswith("7."):
        assert got == pytest7_unique(plain)
    else:
        assert got == pytests(["v"], [((v,), None) for v in rows])  # the installed pytest 9's rule
