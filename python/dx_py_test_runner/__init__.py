"""dx-py: a fast, pytest-compatible Python test runner with a C++ core.

    import dx_py_test_runner as dx
    print(dx.__version__)

The `dx-py` executable runs test suites; this package holds the worker that executes
tests and the Python API (docs/python-api.md): dx.fixture (with cache=True, the persistent
fixture cache of docs/fixture-cache.md), dx.discover, dx.run, dx.graph, dx.FixtureCache.
"""
from ._core import TestCase, TestId, TestResult, TestStatus, __version__

# The rest of the API is imported when first used (PEP 562): a worker imports this package
# and must not pay for modules its tests never touch.
_LAZY = {
    "discover": "api", "run": "api", "graph": "api", "RunResult": "api", "TestOutcome": "api",
    "ProjectGraph": "api", "AffectedTests": "api", "CollectionError": "api",
    "FixtureCache": "fixture_cache", "FixtureCacheError": "fixture_cache", "FixtureCacheWarning": "fixture_cache",
    "snapshot": "snapshots", "register_serializer": "snapshots",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def fixture(fixture_function=None, *, scope="function", params=None, autouse=False, ids=None, name=None,
            cache=False):
    """A fixture, as `pytest.fixture` makes one (the same arguments and behaviour): with
    pytest loaded it is pytest's own, so pytest and the dx-py worker both see it.

    cache=True keeps its value across runs and workers (docs/fixture-cache.md): computed
    once, stored in .dx-py/fixtures, loaded by memory mapping until the source of the
    fixture or of a fixture it depends on, or its param, changes."""
    from .worker.fixtures import fixture as _fixture

    if not cache:
        return _fixture(fixture_function, scope=scope, params=params, autouse=autouse, ids=ids, name=name)
    from .fixture_cache import cached_fixture_function

    def decorate(function):
        wrapped = cached_fixture_function(function, name or function.__name__)
        return _fixture(wrapped, scope=scope, params=params, autouse=autouse, ids=ids, name=name)

    return decorate(fixture_function) if fixture_function is not None else decorate


__all__ = ["AffectedTests", "CollectionError", "FixtureCache", "FixtureCacheError", "FixtureCacheWarning",
           "ProjectGraph", "RunResult", "TestCase", "TestId", "TestOutcome", "TestResult", "TestStatus",
           "__version__", "discover", "fixture", "graph", "register_serializer", "run", "snapshot"]
