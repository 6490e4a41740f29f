"""The worker's engine in this process: fixtures (scopes, teardown order, overriding,
parametrized), run-time parametrize with several results per test case, marks, unittest and
xunit set-up, built-in fixtures."""
import os
import sys

import pytest

from test_engine_helpers import Project, S

from dx_py_test_runner import _core

LOG = """
import os
def log(msg):
    with open(os.path.join(os.path.dirname(__file__), "log.txt"), "a") as f:
        f.write(str(msg) + "\\n")
"""


@pytest.fixture
def project(tmp_path):
    saved_path = list(sys.path)
    saved_conftest = sys.modules.get("conftest")
    made = []

    def make(files, ini=None):
        p = Project(tmp_path, files, ini)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
    sys.path[:] = saved_path
    if saved_conftest is not None:
        sys.modules["conftest"] = saved_conftest
    else:
        sys.modules.pop("conftest", None)


def read_log(p):
    with open(os.path.join(p.root, "log.txt")) as f:
        return f.read().split()


def test_a_trivial_test_takes_the_fast_path(project):
    p = project({"test_fast_{tag}.py": "def test_a():\n    pass\nclass TestC:\n    def test_m(self):\n        pass\n"})
    runner = p.runner()
    assert p.run("test_fast_{tag}.py::test_a", "test_fast_{tag}.py::TestC::test_m", runner=runner) == [
        ("test_fast_{tag}.py::test_a", S.passed), ("test_fast_{tag}.py::TestC::test_m", S.passed)]
    assert all(d.fast for d in runner._defs.values())
    assert "pytest" not in runner.__dict__


def test_scopes_set_up_once_and_torn_down_in_reverse_order(project):
    p = project({
        "conftest.py": LOG + """
import pytest
@pytest.fixture(scope="session")
def sess():
    log("sess-up"); yield; log("sess-down")
""",
        "test_scopes_{tag}.py": LOG + """
import pytest
@pytest.fixture(scope="module")
def mod(sess):
    log("mod-up"); yield; log("mod-down")
@pytest.fixture(scope="class")
def klass(mod):
    log("class-up"); yield; log("class-down")
@pytest.fixture
def func(klass):
    log("func-up"); yield; log("func-down")
class TestA:
    def test_1(self, func): log("t1")
    def test_2(self, func): log("t2")
def test_3(mod): log("t3")
"""})
    got = p.run("test_scopes_{tag}.py::TestA::test_1", "test_scopes_{tag}.py::TestA::test_2",
                "test_scopes_{tag}.py::test_3")
    assert [s for _, s in got] == [S.passed] * 3
    p.last_runner.shutdown()
    assert read_log(p) == ["sess-up", "mod-up", "class-up", "func-up", "t1", "func-down", "func-up", "t2",
                           "func-down", "class-down", "t3", "mod-down", "sess-down"]


def test_a_failing_setup_still_tears_down_what_was_set_up(project):
    p = project({"test_fail_setup_{tag}.py": LOG + """
import pytest
@pytest.fixture
def first():
    log("first-up"); yield; log("first-down")
@pytest.fixture
def broken(first):
    raise RuntimeError("no")
def test_x(broken): log("never")
"""})
    [(_, status)] = p.run("test_fail_setup_{tag}.py::test_x")
    assert status == S.error
    assert p.results[0].message == "RuntimeError: no"
    assert read_log(p) == ["first-up", "first-down"]


def test_teardown_error_is_a_second_result_after_the_tests_own(project):
    # pytest: "1 failed, 1 passed, 2 errors": the call's outcome, then the teardown's error.
    p = project({"test_td_{tag}.py": """
import pytest
@pytest.fixture
def bad():
    yield
    raise ValueError("boom")
def test_ok(bad): pass
def test_fails(bad): assert 0
def test_clean(): pass
"""})
    got = p.run("test_td_{tag}.py::test_ok", "test_td_{tag}.py::test_fails", "test_td_{tag}.py::test_clean")
    assert got == [("test_td_{tag}.py::test_ok", S.passed), ("test_td_{tag}.py::test_ok", S.error),
                   ("test_td_{tag}.py::test_fails", S.failed), ("test_td_{tag}.py::test_fails", S.error),
                   ("test_td_{tag}.py::test_clean", S.passed)]
    for r in (p.results[1], p.results[3]):
        assert r.message == 'failed on teardown with "ValueError: boom"'
        assert 'raise ValueError("boom")' in r.traceback
    assert "assert 0" in p.results[2].traceback and "boom" not in p.results[2].traceback


def test_overriding_by_conftest_module_and_class(project):
    p = project({
        "conftest.py": "import pytest\n@pytest.fixture\ndef v():\n    return 'root'\n",
        "sub/conftest.py": "import pytest\n@pytest.fixture\ndef v(v):\n    return v + '-sub'\n",
        "sub/test_ov_{tag}.py": """
import pytest
@pytest.fixture
def v(v):
    return v + '-mod'
def test_mod(v): assert v == 'root-sub-mod'
class TestK:
    @pytest.fixture
    def v(self, v):
        return v + '-class'
    def test_class(self, v): assert v == 'root-sub-mod-class'
"""})
    got = p.run("sub/test_ov_{tag}.py::test_mod", "sub/test_ov_{tag}.py::TestK::test_class")
    assert [s for _, s in got] == [S.passed, S.passed], [r.traceback for r in p.results]


def test_runtime_parametrize_gives_one_result_per_instance_with_pytests_ids(project):
    p = project({"test_rt_{tag}.py": """
import pytest
VALUES = [1, "a", None, 2.5]
@pytest.fixture(params=[10, 20], ids=["ten", "twenty"])
def f(request):
    return request.param
@pytest.mark.parametrize("x", VALUES)
def test_p(x, f):
    assert x != "a"
"""})
    got = p.run(p.case("test_rt_{tag}.py::test_p", expand=True))
    assert got == [
        ("test_rt_{tag}.py::test_p[ten-1]", S.passed), ("test_rt_{tag}.py::test_p[ten-a]", S.failed),
        ("test_rt_{tag}.py::test_p[ten-None]", S.passed), ("test_rt_{tag}.py::test_p[ten-2.5]", S.passed),
        ("test_rt_{tag}.py::test_p[twenty-1]", S.passed), ("test_rt_{tag}.py::test_p[twenty-a]", S.failed),
        ("test_rt_{tag}.py::test_p[twenty-None]", S.passed), ("test_rt_{tag}.py::test_p[twenty-2.5]", S.passed)]


def test_a_statically_expanded_case_runs_only_its_instance(project):
    p = project({"test_static_{tag}.py": """
import pytest
@pytest.mark.parametrize("x", [1, 2, 3])
def test_p(x):
    assert x != 2
"""})
    assert p.run("test_static_{tag}.py::test_p[2]") == [("test_static_{tag}.py::test_p[2]", S.failed)]
    assert p.run("test_static_{tag}.py::test_p[9]")[0][1] == S.error
    assert "no parameter set" in p.results[0].message


def test_marks_skip_skipif_xfail(project):
    p = project({"test_marks_{tag}.py": """
import sys
import pytest
@pytest.mark.skip(reason="r")
def test_skip(): pass
@pytest.mark.skipif("sys.platform != 'nope'", reason="s")
def test_skipif_string(): pass
@pytest.mark.skipif(False, reason="no")
def test_skipif_false(): pass
@pytest.mark.xfail(raises=KeyError)
def test_xfail_raises_other(): raise ValueError
@pytest.mark.xfail(raises=KeyError)
def test_xfail_raises_match(): raise KeyError
@pytest.mark.xfail(strict=True, reason="why")
def test_xpass_strict(): pass
@pytest.mark.xfail
def test_xpass(): pass
@pytest.mark.xfail(run=False, reason="slow")
def test_not_run(): raise SystemExit
"""})
    got = dict(p.run(*[f"test_marks_{{tag}}.py::{n}" for n in (
        "test_skip", "test_skipif_string", "test_skipif_false", "test_xfail_raises_other", "test_xfail_raises_match",
        "test_xpass_strict", "test_xpass", "test_not_run")]))
    pre = "test_marks_{tag}.py::"
    assert got == {pre + "test_skip": S.skipped, pre + "test_skipif_string": S.skipped,
                   pre + "test_skipif_false": S.passed, pre + "test_xfail_raises_other": S.failed,
                   pre + "test_xfail_raises_match": S.xfailed, pre + "test_xpass_strict": S.failed,
                   pre + "test_xpass": S.xpassed, pre + "test_not_run": S.xfailed}
    results = p.by_id()
    assert results[pre + "test_xpass_strict"].message == "[XPASS(strict)] why"
    assert results[pre + "test_not_run"].message == "[NOTRUN] slow"


def test_xunit_and_unittest_set_up_in_pytests_order(project):
    p = project({"test_xu_{tag}.py": LOG + """
import unittest
def setup_module(module): log("setup_module")
def teardown_module(module): log("teardown_module")
def setup_function(function): log("setup_function")
def teardown_function(function): log("teardown_function")
def test_f(): log("test_f")
class TestX:
    @classmethod
    def setup_class(cls): log("setup_class")
    @classmethod
    def teardown_class(cls): log("teardown_class")
    def setup_method(self, method): log("setup_method")
    def teardown_method(self, method): log("teardown_method")
    def test_m(self): log("test_m")
class TestU(unittest.TestCase):
    @classmethod
    def setUpClass(cls): log("setUpClass")
    @classmethod
    def tearDownClass(cls): log("tearDownClass")
    def setUp(self): log("setUp")
    def tearDown(self): log("tearDown")
    def test_u(self): log("test_u")
    def test_sub(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)
    @unittest.expectedFailure
    def test_xf(self): self.fail()
"""})
    ut = _core.TestKind.unittest
    got = p.run("test_xu_{tag}.py::test_f", "test_xu_{tag}.py::TestX::test_m",
                p.case("test_xu_{tag}.py::TestU::test_u", kind=ut), p.case("test_xu_{tag}.py::TestU::test_sub", kind=ut),
                p.case("test_xu_{tag}.py::TestU::test_xf", kind=ut))
    # test_sub: its failed subtest (i=1) is a failure of its own, then the test passes (pytest 9).
    assert [s for _, s in got] == [S.passed, S.passed, S.passed, S.failed, S.passed, S.xfailed]
    assert p.results[3].traceback.startswith("SUBFAILED(i=1)\n")
    assert read_log(p) == [
        "setup_module", "setup_function", "test_f", "teardown_function", "setup_class", "setup_method", "test_m",
        "teardown_method", "teardown_class", "setUpClass", "setUp", "test_u", "tearDown", "setUp", "tearDown",
        "setUp", "tearDown", "tearDownClass", "teardown_module"]


def test_builtin_fixtures(project):
    p = project({"test_builtins_{tag}.py": """
import logging, os, sys, warnings
def test_monkeypatch(monkeypatch, tmp_path):
    monkeypatch.setenv("DX_ENGINE_TEST", "1")
    monkeypatch.chdir(tmp_path)
    assert os.getcwd() == str(tmp_path) and tmp_path.is_dir()
def test_env_is_back():
    assert "DX_ENGINE_TEST" not in os.environ
def test_caplog(caplog):
    logging.getLogger("x").warning("careful")
    assert caplog.messages == ["careful"]
    assert caplog.record_tuples == [("x", logging.WARNING, "careful")]
def test_recwarn(recwarn):
    warnings.warn("w", UserWarning)
    assert len(recwarn) == 1 and recwarn.pop(UserWarning)
def test_request(request):
    assert request.node.name == "test_request" and request.function is test_request
    assert request.config.getoption("verbose") == 0
"""})
    got = p.run(*[f"test_builtins_{{tag}}.py::{n}" for n in ("test_monkeypatch", "test_env_is_back", "test_caplog",
                                                            "test_recwarn", "test_request")])
    assert [s for _, s in got] == [S.passed] * 5, [(r.id.name, r.message, r.traceback) for r in p.results]


def test_module_level_skip_and_import_error(project):
    p = project({
        "test_skipped_{tag}.py": "import pytest\npytest.importorskip('no_such_module_dxpy')\ndef test_x(): pass\n",
        "test_broken_{tag}.py": "import no_such_module_dxpy\ndef test_x(): pass\n",
    })
    got = p.run("test_skipped_{tag}.py::test_x", "test_broken_{tag}.py::test_x")
    assert [s for _, s in got] == [S.skipped, S.error]
    assert p.results[1].message.startswith("ImportError while importing test module ")
    assert "ModuleNotFoundError" in p.results[1].traceback


def test_session_fixture_is_finalized_at_shutdown(project):
    p = project({"test_sess_{tag}.py": LOG + """
import pytest
@pytest.fixture(scope="session")
def s():
    yield
    log("session-down")
def test_a(s): pass
"""})
    p.run("test_sess_{tag}.py::test_a", last=False)
    assert not os.path.exists(os.path.join(p.root, "log.txt"))
    p.last_runner.shutdown()
    assert read_log(p) == ["session-down"]


def test_conftest_hooks_configure_addoption_and_modifyitems(project):
    p = project({
        "conftest.py": """
import pytest
def pytest_addoption(parser):
    parser.addoption("--flavour", default="plain")
def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slow tests")
    config.configured_by_conftest = True
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="slow"))
""",
        "test_hooks_{tag}.py": """
import pytest
def test_option(pytestconfig):
    assert pytestconfig.getoption("--flavour") == "plain"
    assert pytestconfig.configured_by_conftest
def test_slow(): pass
test_slow.slow = True  # in item.keywords, as a function attribute is under pytest
"""})
    got = p.run("test_hooks_{tag}.py::test_option", "test_hooks_{tag}.py::test_slow")
    assert [s for _, s in got] == [S.passed, S.skipped], [r.traceback for r in p.results]


def test_conftest_option_from_the_command_line(project):
    p = project({
        "conftest.py": "def pytest_addoption(parser):\n    parser.addoption('--level', type=int, default=1)\n",
        "test_cli_{tag}.py": "def test_level(pytestconfig):\n    assert pytestconfig.getoption('level') == 3\n",
    })
    assert p.run("test_cli_{tag}.py::test_level", args=["--level", "3"])[0][1] == S.passed


def test_dx_fixture_without_pytest(project):
    p = project({"test_dxfix_{tag}.py": """
import dx_py_test_runner as dx
@dx.fixture(params=[1, 2])
def n(request):
    return request.param * 10
@dx.fixture
def plain():
    yield "v"
def test_n(n, plain):
    assert n in (10, 20) and plain == "v"
"""})
    assert p.run(p.case("test_dxfix_{tag}.py::test_n", expand=True)) == [
        ("test_dxfix_{tag}.py::test_n[1]", S.passed), ("test_dxfix_{tag}.py::test_n[2]", S.passed)]


def test_hypothesis_function_scoped_fixture_health_check(project):
    p = project({"test_hyp_{tag}.py": """
import pytest
from hypothesis import given, strategies as st
@pytest.fixture
def f():
    return 1
@given(st.integers())
def test_uses_fixture(f, x):
    pass
@given(st.integers())
def test_plain(x):
    assert isinstance(x, int)
"""})
    got = p.run("test_hyp_{tag}.py::test_uses_fixture", "test_hyp_{tag}.py::test_plain")
    assert [s for _, s in got] == [S.failed, S.passed]
    assert "function-scoped fixture 'f'" in p.results[0].message


def test_failed_subtests_are_results_of_their_own_before_the_test(project):
    # pytest 9: "SUBFAILED[x] (i=2)" per failed subtest; the subtests fixture fails its test
    # ("contains 1 failed subtest"), unittest's subTest does not.
    p = project({"test_sub_{tag}.py": """
import unittest
def test_fixture(subtests):
    for i in range(3):
        with subtests.test(msg="x", i=i):
            assert i < 2
def test_fixture_passes(subtests):
    with subtests.test("fine"):
        pass
class TestU(unittest.TestCase):
    def test_sub(self):
        for i in range(4):
            with self.subTest("m", i=i, s="a"):
                self.assertLess(i, 2)
"""})
    got = p.run("test_sub_{tag}.py::test_fixture", "test_sub_{tag}.py::test_fixture_passes",
                p.case("test_sub_{tag}.py::TestU::test_sub", kind=_core.TestKind.unittest))
    assert [s for _, s in got] == [S.failed, S.failed, S.passed, S.failed, S.failed, S.passed]
    r = p.results
    assert r[0].traceback.startswith("SUBFAILED[x] (i=2)\n") and "assert 2 < 2" in r[0].traceback
    assert r[0].message == "assert 2 < 2"
    assert (r[1].message, r[1].traceback) == ("contains 1 failed subtest", "contains 1 failed subtest")
    assert r[3].traceback.startswith("SUBFAILED[m] (i=2, s='a')\n")
    assert r[4].traceback.startswith("SUBFAILED[m] (i=3, s='a')\n")
    assert "AssertionError: 3 not less than 2" in r[4].traceback
