"""dx-py: a fast, pytest-compatible Python test runner with a C++ core.

    import dx_py_test_runner as dx
    print(dx.__version__)

The `dx-py` executable runs test suites; this package holds the worker that executes
tests and the Python API.
"""
from ._core import TestCase, TestId, TestResult, TestStatus, __version__
from .snapshots import register_serializer, snapshot


def fixture(fixture_function=None, *, scope="function", params=None, autouse=False, ids=None, name=None):
    """A fixture, as `pytest.fixture` makes one (the same arguments and behaviour): with
    pytest loaded it is pytest's own, so pytest and the dx-py worker both see it."""
    from .worker.fixtures import fixture as _fixture

    return _fixture(fixture_function, scope=scope, params=params, autouse=autouse, ids=ids, name=name)


__all__ = ["TestCase", "TestId", "TestResult", "TestStatus", "__version__", "fixture", "snapshot",
           "register_serializer"]
