"""The extension module's codec: the same C++ code the orchestrator uses."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dx_py_test_runner as dx
from dx_py_test_runner import _core

text = st.text(max_size=50)


def test_version_is_the_packages():
    assert dx.__version__ == _core.__version__
    assert dx.__version__.count(".") == 2


pairs = st.lists(st.tuples(text, text), max_size=4)


@given(path=text, classes=st.lists(text, max_size=3), name=text, param=st.none() | text,
       status=st.sampled_from(list(_core.TestStatus.__members__.values())),
       duration=st.integers(0, 2**64 - 1), message=text, out=text, err=text,
       passed=st.integers(0, 2**32 - 1), failed=st.integers(0, 2**32 - 1), props=pairs, suite_props=pairs)
def test_result_round_trips(path, classes, name, param, status, duration, message, out, err, passed, failed, props,
                            suite_props):
    r = _core.TestResult()
    r.id = _core.TestId()
    r.id.path, r.id.classes, r.id.name, r.id.param = path, classes, name, param
    r.status, r.duration_ns, r.message, r.stdout, r.stderr = status, duration, message, out, err
    stats = _core.AssertionStats()
    stats.passed, stats.failed = passed, failed
    r.assertions = stats
    r.properties, r.suite_properties = props, suite_props
    back = _core.decode_test_result(_core.encode(r))
    assert back.id == r.id
    assert back.id.param == param
    assert (back.status, back.duration_ns, back.message, back.stdout, back.stderr) == (status, duration, message, out, err)
    assert (back.assertions.passed, back.assertions.failed) == (passed, failed)
    assert (back.properties, back.suite_properties) == (props, suite_props)


def test_an_empty_param_is_not_no_param():
    empty = _core.TestId.parse("t.py::test_x[]")
    none = _core.TestId.parse("t.py::test_x")
    assert (empty.param, none.param) == ("", None)
    assert empty.node_id == "t.py::test_x[]" and none.node_id == "t.py::test_x"
    assert not empty == none
    assert _core.decode_test_id(_core.encode(empty)).param == ""
    assert _core.decode_test_id(_core.encode(none)).param is None


@given(st.binary(max_size=200))
def test_garbage_is_a_value_error_never_a_crash(data):
    for decode in (_core.decode_test_case, _core.decode_test_result, _core.decode_test_id):
        try:
            decode(data)
        except ValueError:
            pass


def test_truncated_case_names_the_problem():
    case = _core.TestCase()
    case.id = _core.TestId.parse("tests/test_a.py::TestC::test_x[1]")
    data = _core.encode(case)
    with pytest.raises(ValueError, match="truncated"):
        _core.decode_test_case(data[:-1])
    assert _core.decode_test_case(data).id.node_id == "tests/test_a.py::TestC::test_x[1]"
