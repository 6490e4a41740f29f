"""Recognising outcome exceptions without importing pytest.

pytest's skip/fail/xfail raise classes from _pytest.outcomes; unittest raises SkipTest.
They are told apart by name so that a suite that never imports pytest never pays for it.
"""
import unittest

SKIPPED = "skipped"
FAILED = "failed"
XFAILED = "xfailed"
ERROR = "error"


def classify(exc):
    """'skipped', 'xfailed', 'failed' (pytest.fail), or None for an ordinary exception."""
    if isinstance(exc, unittest.SkipTest):
        return SKIPPED
    cls = type(exc)
    if cls.__module__ == "_pytest.outcomes":
        return {"Skipped": SKIPPED, "XFailed": XFAILED, "Failed": FAILED}.get(cls.__name__)
    return None


def reason_of(exc):
    msg = getattr(exc, "msg", None)
    if msg is None:
        msg = str(exc)
    return msg or ""
