"""Running one test: resolve it, apply its marks, call it, and turn what happened into a
TestResult. Failures, skips and errors are results, never exceptions out of here.

Fixtures, parametrize expansion, assertion rewriting and the rest of pytest's semantics
come in the next steps; a test that needs them is reported as an error that says so.
"""
import inspect
import os
import time
import traceback
import unittest

from .. import _core
from . import outcomes
from .capture import FdCapture
from .collect import ModuleCache, resolve

S = _core.TestStatus


class Runner:
    def __init__(self, rootdir):
        self.rootdir = rootdir
        self.modules = ModuleCache()
        self.capture = FdCapture()

    def run(self, case):
        result = _core.TestResult()
        result.id = case.id
        start = time.perf_counter_ns()
        self.capture.start()
        try:
            status, message, tb = self._run(case)
        finally:
            out, err = self.capture.stop()
        result.duration_ns = time.perf_counter_ns() - start
        result.status = status
        result.message = message
        result.traceback = tb
        result.stdout = out
        result.stderr = err
        stats = _core.AssertionStats()
        stats.failed = 1 if status == S.failed and message.startswith("assert") else 0
        result.assertions = stats
        return result

    def _run(self, case):
        module, exc_info = self.modules.load(case.file)
        if module is None:
            kind = outcomes.classify(exc_info[1])
            if kind == outcomes.SKIPPED:  # pytest.skip(allow_module_level=True)
                return S.skipped, outcomes.reason_of(exc_info[1]), ""
            text = "".join(traceback.format_exception(*exc_info))
            return S.error, f"ImportError while importing test module {case.id.path}", text
        try:
            owner, func = resolve(module, list(case.id.classes), case.id.name)
        except AttributeError as e:
            return S.error, f"cannot find {case.id.node_id}: {e}", ""

        marks = {m.name: m for m in case.markers}
        skip = _skip_reason(marks, module)
        if skip is not None:
            return S.skipped, skip, ""
        xfail = marks.get("xfail")

        if case.kind == _core.TestKind.unittest:
            return _run_unittest(owner, case.id.name)
        if case.expand_at_runtime or case.fixtures:
            needs = ", ".join(case.fixtures) or "parametrize"
            return (S.error, f"fixtures are not supported by this worker yet (requested: {needs})",
                    f"{case.id.node_id}: this test requests {needs}; the fixture engine is not built yet.")
        if inspect.iscoroutinefunction(func):
            return S.failed, "async def functions are not natively supported.", ""

        try:
            if owner is not None:
                func = getattr(owner(), case.id.name)
            func()
        except BaseException as e:  # noqa: BLE001 - a test may raise anything
            kind = outcomes.classify(e)
            if kind == outcomes.SKIPPED:
                return S.skipped, outcomes.reason_of(e), ""
            if kind == outcomes.XFAILED:
                return S.xfailed, outcomes.reason_of(e), ""
            if xfail is not None:
                return S.xfailed, _kwarg(xfail, "reason") or "", ""
            if isinstance(e, KeyboardInterrupt):
                raise
            return S.failed, _message(e), _format_tb(e)
        if xfail is not None:
            if _kwarg(xfail, "strict") == "True":
                return S.failed, "[XPASS(strict)] " + (_kwarg(xfail, "reason") or ""), ""
            return S.xpassed, _kwarg(xfail, "reason") or "", ""
        return S.passed, "", ""


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
    text = str(e)
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
    return "".join(traceback.format_exception(type(e), e, tb)).rstrip("\n")


def _run_unittest(cls, name):
    result = unittest.TestResult()
    cls(name).run(result)
    if result.errors or result.failures:
        _, text = (result.errors or result.failures)[0]
        last = text.rstrip().splitlines()[-1] if text.strip() else "failed"
        return S.failed, last, text.rstrip("\n")
    if result.skipped:
        return S.skipped, result.skipped[0][1], ""
    if result.expectedFailures:
        return S.xfailed, "", ""
    if result.unexpectedSuccesses:
        return S.failed, "Unexpected success", ""
    return S.passed, "", ""
