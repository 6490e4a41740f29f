"""unittest.TestCase classes, as pytest's unittest plugin runs them: setUpClass/tearDownClass
(and pytest's setup_class, setup_method) as autouse fixtures of the class, so conftest
fixtures, autouse fixtures and usefixtures marks apply; each test runs through
`TestCase.run(result)` with a result object that keeps what happened, in pytest's terms:

    an error or failure (setUp included)   failed
    skipTest / @skip                       skipped
    @expectedFailure that fails            xfailed; one that passes: failed "Unexpected success"
    subTest failures                       a failed result per subtest, then passed (pytest 9)
    a skipped subTest, nothing failing     skipped
"""
import sys

from . import outcomes


def is_unittest_class(cls):
    ut = sys.modules.get("unittest")
    if ut is None:
        return False
    try:
        return isinstance(cls, type) and issubclass(cls, ut.TestCase)
    except TypeError:
        return False


def _is_skipped(obj):
    return bool(getattr(obj, "__unittest_skip__", False))


def register_class_fixtures(manager, cls, nodeid):
    """setUpClass/tearDownClass and setup_method/teardown_method as pytest registers them."""
    if _is_skipped(cls):
        return
    setup = getattr(cls, "setup_method", None)
    teardown = getattr(cls, "teardown_method", None)
    if setup is not None or teardown is not None:
        def unittest_setup_method_fixture(request):
            self = request.instance
            if _is_skipped(self):
                outcomes.skip(self.__unittest_skip_why__)
            if setup is not None:
                setup(self, request.function)
            yield
            if teardown is not None:
                teardown(self, request.function)

        manager.register(f"_unittest_setup_method_fixture_{cls.__qualname__}", unittest_setup_method_fixture,
                         nodeid, scope="function", autouse=True)

    setup_class = getattr(cls, "setUpClass", None)
    teardown_class = getattr(cls, "tearDownClass", None)
    if setup_class is None and teardown_class is None:
        return
    cleanup = getattr(cls, "doClassCleanups", lambda: None)

    def process_teardown_exceptions():
        exc_infos = getattr(cls, "tearDown_exceptions", None)
        if not exc_infos:
            return
        exceptions = [exc for (_, exc, _) in exc_infos]
        if len(exceptions) == 1:
            raise exceptions[0]
        raise ExceptionGroup("Unittest class cleanup errors", exceptions)

    def unittest_setup_class_fixture(request):
        klass = request.cls
        if _is_skipped(klass):
            outcomes.skip(klass.__unittest_skip_why__)
        if setup_class is not None:
            try:
                setup_class()
            except Exception:
                cleanup()
                process_teardown_exceptions()
                raise
        yield
        try:
            if teardown_class is not None:
                teardown_class()
        finally:
            cleanup()
            process_teardown_exceptions()

    manager.register(f"_unittest_setUpClass_fixture_{cls.__qualname__}", unittest_setup_class_fixture, nodeid,
                     scope="class", autouse=True)


class Result:
    """The result object TestCase.run() reports to (pytest's TestCaseFunction)."""

    def __init__(self):
        self.excinfos = []
        self.subtest_failures = []
        self.subtest_skipped = False
        self.shouldStop = False
        self.failfast = False

    def startTest(self, testcase):  # noqa: N802 - unittest's names
        pass

    def stopTest(self, testcase):  # noqa: N802
        pass

    def addSuccess(self, testcase):  # noqa: N802
        pass

    def addDuration(self, testcase, elapsed):  # noqa: N802
        pass

    def addError(self, testcase, exc_info):  # noqa: N802
        self.excinfos.append(exc_info)

    def addFailure(self, testcase, exc_info):  # noqa: N802
        self.excinfos.append(exc_info)

    def addSkip(self, testcase, reason):  # noqa: N802
        try:
            outcomes.skip(reason)
        except BaseException:  # noqa: BLE001 - the skip exception just raised
            self.excinfos.append(sys.exc_info())
        if type(testcase).__name__ == "_SubTest":
            self.subtest_skipped = True

    def addExpectedFailure(self, testcase, exc_info, reason=""):  # noqa: N802
        try:
            outcomes.xfail(str(reason))
        except BaseException:  # noqa: BLE001
            self.excinfos.append(sys.exc_info())

    def addUnexpectedSuccess(self, testcase, reason=None):  # noqa: N802
        msg = "Unexpected success"
        if reason:
            msg += f": {getattr(reason, 'reason', reason)}"
        try:
            outcomes.fail(msg, pytrace=False)
        except BaseException:  # noqa: BLE001
            self.excinfos.append(sys.exc_info())

    def addSubTest(self, test_case, subtest, exc_info):  # noqa: N802
        if exc_info is None:
            return
        kind = outcomes.classify(exc_info[1])
        if kind in (outcomes.SKIPPED, outcomes.XFAILED):
            return
        message = getattr(subtest, "_message", None)
        if not isinstance(message, str):  # unittest's sentinel: no message given
            message = None
        params = getattr(subtest, "params", None)
        self.subtest_failures.append((message, dict(params) if params else {}, exc_info))

    def wasSuccessful(self):  # noqa: N802
        return not self.excinfos and not self.subtest_failures


def run_testcase(item):
    """Runs the unittest test of `item`; raises what pytest's report would carry (the first
    exception the result recorded), or returns normally when it passed."""
    testcase = item.instance
    result = Result()
    testcase(result=result)
    if result.excinfos:
        exc = result.excinfos[0][1]
        exc = _as_outcome(exc)
        raise exc.with_traceback(result.excinfos[0][2])
    # Failed subtests are results of their own (pytest 9: "SUBFAILED(i=2)"), sent before the
    # test's; the test itself passed when nothing else failed.
    for message, params, exc_info in result.subtest_failures:
        item._subtest_reports.append((message, params, exc_info[1].with_traceback(exc_info[2])))


def _as_outcome(exc):
    """unittest.SkipTest becomes a pytest skip, as pytest's makereport converts it."""
    ut = sys.modules.get("unittest")
    if ut is not None and isinstance(exc, ut.SkipTest):
        try:
            outcomes.skip(str(exc))
        except BaseException as e:  # noqa: BLE001
            return e
    return exc
