"""Recognising outcome exceptions without importing pytest.

pytest's skip/fail/xfail raise classes from _pytest.outcomes; unittest raises SkipTest.
pytest is never imported here: a suite that does not use it does not pay for it.
"""
import sys

SKIPPED = "skipped"
FAILED = "failed"
XFAILED = "xfailed"
ERROR = "error"


def classify(exc):
    """'skipped', 'xfailed', 'failed' (pytest.fail), or None for an ordinary exception."""
    unittest = sys.modules.get("unittest")  # not imported: nothing can raise its SkipTest
    if unittest is not None and isinstance(exc, unittest.SkipTest):
        return SKIPPED
    pytest_outcomes = sys.modules.get("_pytest.outcomes")  # loaded if the test could raise one
    if pytest_outcomes is not None and isinstance(exc, pytest_outcomes.OutcomeException):
        if isinstance(exc, pytest_outcomes.Skipped):
            return SKIPPED
        if isinstance(exc, pytest_outcomes.XFailed):
            return XFAILED
        return FAILED
    return None


def reason_of(exc):
    msg = getattr(exc, "msg", None)
    if msg is None:
        msg = str(exc)
    return msg or ""
