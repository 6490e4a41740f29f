"""dx-py: a fast, pytest-compatible Python test runner with a C++ core.

    import dx_py_test_runner as dx
    print(dx.__version__)

The `dx-py` executable runs test suites; this package holds the worker that executes
tests and the Python API.
"""
from ._core import TestCase, TestId, TestResult, TestStatus, __version__

__all__ = ["TestCase", "TestId", "TestResult", "TestStatus", "__version__"]
