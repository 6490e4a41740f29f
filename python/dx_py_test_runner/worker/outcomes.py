"""Recognising outcome exceptions without importing pytest, and raising them.

pytest's skip/fail/xfail raise classes from _pytest.outcomes; unittest raises SkipTest.
pytest is never imported here: a suite that does not use it does not pay for it. When the
worker itself must skip, fail or xfail a test (a skipif mark, a fixture error), it raises
pytest's classes when pytest is loaded (a test may catch them) and else its own, which
behave the same.
"""
import sys

SKIPPED = "skipped"
FAILED = "failed"
XFAILED = "xfailed"
ERROR = "error"


class OutcomeException(BaseException):
    def __init__(self, msg=None, pytrace=True):
        BaseException.__init__(self, msg)
        self.msg = msg
        self.pytrace = pytrace

    def __repr__(self):
        return f"<{type(self).__name__} {self.msg!r}>" if self.msg is not None else f"<{type(self).__name__} instance>"

    __str__ = lambda self: str(self.msg) if self.msg is not None else ""  # noqa: E731


class Skipped(OutcomeException):
    def __init__(self, msg=None, pytrace=True, allow_module_level=False, *, _use_item_location=False):
        OutcomeException.__init__(self, msg, pytrace)
        self.allow_module_level = allow_module_level
        self._use_item_location = _use_item_location


class Failed(OutcomeException):
    pass


class XFailed(Failed):
    pass


def _pytest_outcomes():
    return sys.modules.get("_pytest.outcomes")


def skip(reason="", allow_module_level=False):
    po = _pytest_outcomes()
    if po is not None:
        raise po.Skipped(msg=reason, allow_module_level=allow_module_level)
    raise Skipped(reason, allow_module_level=allow_module_level)


def fail(reason="", pytrace=True):
    po = _pytest_outcomes()
    if po is not None:
        raise po.Failed(msg=reason, pytrace=pytrace)
    raise Failed(reason, pytrace=pytrace)


def xfail(reason=""):
    po = _pytest_outcomes()
    if po is not None:
        raise po.XFailed(reason)
    raise XFailed(reason)


def classify(exc):
    """'skipped', 'xfailed', 'failed' (pytest.fail), or None for an ordinary exception."""
    if isinstance(exc, OutcomeException):
        if isinstance(exc, Skipped):
            return SKIPPED
        if isinstance(exc, XFailed):
            return XFAILED
        return FAILED
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


def is_pytrace_false(exc):
    """pytest.fail(..., pytrace=False): the report is the message alone."""
    return getattr(exc, "pytrace", True) is False


def reason_of(exc):
    msg = getattr(exc, "msg", None)
    if msg is None:
        msg = str(exc)
    return msg or ""
