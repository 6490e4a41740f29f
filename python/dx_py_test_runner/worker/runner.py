"""Running one test: resolve it, apply its marks, call it, and turn what happened into a
TestResult. Failures, skips and errors are results, never exceptions out of here: not
even KeyboardInterrupt or SystemExit raised by a test (pytest reports both as failures).

Runner.run(case) is the whole life of a test in the worker:

    capture.begin -> _run (import, resolve, marks, call) -> fork check -> state.restore
    -> capture.end -> TestResult

Fixtures, parametrize expansion and assertion rewriting (the next steps) slot into _run as
setup -> call -> teardown; until then a test that needs them is reported as an error that
says so.
"""
import os
import time

from .. import _core
from . import outcomes
from .capture import Capture
from .collect import ModuleCache, resolve
from .state import State

S = _core.TestStatus
DEFAULT_MAX_OUTPUT = 4 << 20  # bytes kept per stream per test (DXPY_MAX_OUTPUT)


class Runner:
    def __init__(self, rootdir, max_output=DEFAULT_MAX_OUTPUT, capture=None, state=None):
        self.rootdir = rootdir
        # The state snapshot is taken here, after the preloads: what a test changes later
        # is undone after it; what a module does at import time is kept (ModuleCache).
        self.state = state if state is not None else State()
        self.modules = ModuleCache(on_import=self.state.snapshot)
        self.capture = capture if capture is not None else Capture(max_output)
        self.pid = os.getpid()

    def run(self, case):
        """(TestResult, output_truncated) of running `case`."""
        self.capture.begin()
        try:
            status, message, tb, failed_asserts, duration = self._run(case)
        except BaseException as e:  # noqa: BLE001 - resolving marks or a class may raise anything
            status, message, tb, failed_asserts, duration = S.error, _message(e), _format_tb(e), 0, 0
        if os.getpid() != self.pid:
            # The test forked and the child came back here: the parent reports the test, the
            # child must not touch the shared output files or the channel.
            os._exit(0)
        self.state.restore()
        out, err, truncated = self.capture.end()

        result = _core.TestResult()
        result.id = case.id
        result.status = status
        result.duration_ns = duration
        # Fields stay at their empty defaults when there is nothing to say: a passing test
        # that printed nothing sets none of them.
        if message:
            result.message = message
        if tb:
            result.traceback = tb
        if out:
            result.stdout = out
        if err:
            result.stderr = err
        if failed_asserts:
            # Only failures are counted (an AssertionError out of the test is one). Passed
            # asserts need assertion rewriting, which comes with the next issue.
            stats = _core.AssertionStats()
            stats.failed = failed_asserts
            result.assertions = stats
        return result, truncated

    def _run(self, case):
        """(status, message, traceback, failed asserts, duration_ns)."""
        module, exc_info = self.modules.load(case.file)
        if module is None:
            kind = outcomes.classify(exc_info[1])
            if kind == outcomes.SKIPPED:  # pytest.skip(allow_module_level=True)
                return S.skipped, outcomes.reason_of(exc_info[1]), "", 0, 0
            text = "".join(_traceback().format_exception(*exc_info))
            return S.error, f"ImportError while importing test module {case.id.path}", text, 0, 0
        start = time.perf_counter_ns()
        status, message, tb, failed = self._call(module, case)
        return status, message, tb, failed, time.perf_counter_ns() - start

    def _call(self, module, case):
        """(status, message, traceback, failed asserts) of one test of an imported module."""
        try:
            owner, func = resolve(module, list(case.id.classes), case.id.name)
        except AttributeError as e:
            return S.error, f"cannot find {case.id.node_id}: {e}", "", 0

        markers = case.markers
        marks = {m.name: m for m in markers} if markers else {}
        if marks:
            skip = _skip_reason(marks, module)
            if skip is not None:
                return S.skipped, skip, "", 0
        xfail = marks.get("xfail")

        if case.kind == _core.TestKind.unittest:
            return _run_unittest(owner, case.id.name)
        if case.expand_at_runtime or case.fixtures:
            needs = ", ".join(case.fixtures) or "parametrize"
            return (S.error, f"fixtures are not supported by this worker yet (requested: {needs})",
                    f"{case.id.node_id}: this test requests {needs}; the fixture engine is not built yet.", 0)
        if _is_coroutine_function(func):
            return S.failed, "async def functions are not natively supported.", "", 0

        try:
            if owner is not None:
                func = getattr(owner(), case.id.name)
            func()
        except BaseException as e:  # noqa: BLE001 - a test may raise anything
            failed = 1 if isinstance(e, AssertionError) else 0
            kind = outcomes.classify(e)
            if kind == outcomes.SKIPPED:
                return S.skipped, outcomes.reason_of(e), "", 0
            if kind == outcomes.XFAILED:
                return S.xfailed, outcomes.reason_of(e), "", failed
            if xfail is not None:
                return S.xfailed, _kwarg(xfail, "reason") or "", "", failed
            return S.failed, _message(e), _format_tb(e), failed
        if xfail is not None:
            if _kwarg(xfail, "strict") == "True":
                return S.failed, "[XPASS(strict)] " + (_kwarg(xfail, "reason") or ""), "", 0
            return S.xpassed, _kwarg(xfail, "reason") or "", "", 0
        return S.passed, "", "", 0


def _kwarg(marker, name):
    for key, value in marker.kwargs:
        if key == name:
            try:
                return str(eval(value, {}))  # a literal, as discovery saw it
            except Exception:
                return value
    return None


def _skip_reason(marks, module):
    if "skip" in marks:
        m = marks["skip"]
        if m.args:
            try:
                return str(eval(m.args[0], {}))
            except Exception:
                return m.args[0]
        return _kwarg(m, "reason") or "unconditional skip"
    if "skipif" in marks:
        m = marks["skipif"]
        for cond in m.args:
            if eval(cond, vars(module)):
                return _kwarg(m, "reason") or f"condition: {cond}"
    return None


def _message(e):
    if isinstance(e, AssertionError) and not e.args:
        # Until asserts are rewritten, show the failing assert statement's source.
        tb = e.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        line = _source_line(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        return line if line.startswith("assert") else "AssertionError"
    try:
        text = str(e)
    except Exception:  # noqa: BLE001 - an exception's __str__ is the test's code too
        text = "<exception str() failed>"
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _source_line(filename, lineno):
    import linecache

    return linecache.getline(filename, lineno).strip()


def _format_tb(e):
    tb = e.__traceback__
    # Drop the worker's own frames: the report starts at the test.
    here = os.path.dirname(__file__)
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(here):
        tb = tb.tb_next
    return "".join(_traceback().format_exception(type(e), e, tb)).rstrip("\n")


def _is_coroutine_function(func):
    # inspect.iscoroutinefunction without importing inspect at start-up (it costs ~10 ms per
    # worker); functions that are not plain Python functions go to inspect.
    code = getattr(func, "__code__", None)
    if code is not None and type(func).__name__ in ("function", "method"):
        return bool(code.co_flags & 0x80)  # CO_COROUTINE
    import inspect

    return inspect.iscoroutinefunction(func)


def _run_unittest(cls, name):
    import unittest

    result = unittest.TestResult()
    cls(name).run(result)
    failed = 1 if result.failures else 0  # failures are the failureException: AssertionError
    if result.errors or result.failures:
        _, text = (result.errors or result.failures)[0]
        last = text.rstrip().splitlines()[-1] if text.strip() else "failed"
        return S.failed, last, text.rstrip("\n"), failed
    if result.skipped:
        return S.skipped, result.skipped[0][1], "", 0
    if result.expectedFailures:
        return S.xfailed, "", "", 0
    if result.unexpectedSuccesses:
        return S.failed, "Unexpected success", "", 0
    return S.passed, "", "", 0


def _traceback():
    import traceback  # only when something failed

    return traceback
