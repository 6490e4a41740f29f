"""pytest's semantics, end to end (issue 5): dx-py must give every test pytest's outcome.

Each PROJECT below is a small pytest project, written once per run of this file and run
twice: with real pytest (`python -m pytest -p no:cacheprovider --junitxml`, this venv's
interpreter and plugins) and with the installed dx-py (`dx-py test --junit-xml`). A project groups several
semantics; each semantic states the outcome of its tests (node id -> outcome) and is one test
here, `test_semantic[<project>-<semantic>]`, which checks pytest first -- so the expectations
document pytest's behaviour and are checked against it -- then dx-py. `test_whole_project`
checks each project's run as a whole: every test reported and no other, the closing counts,
the exit code.

Outcomes are read from the JUnit XML as pytest writes it: passed, failed, error, skipped,
xfailed; "absent" means the test must not be reported (deselected, not collected). JUnit
cannot tell xpassed from passed, so "xpassed" is checked through the closing counts line
("1 xpassed"). A collection error or a module-level skip is reported under the module's node
id ("test_m.py"). Where order matters (fixture scopes, finalizers, xunit and unittest set-up
and tear-down, reordering hooks), the project's code appends to a log file and the semantic
states the whole log; those projects run dx-py with one worker (-n 1).

A failure that starts with "pytest (the expectation is wrong)" means an expectation here is
wrong; one that starts with "dx-py (dx-py differs from pytest)" is a difference to fix in
dx-py. To check the expectations against pytest alone (after a pytest upgrade, say), with the
known gaps' xfail marks of conftest.py ignored:

    DXPY_SEMANTICS_PYTEST_ONLY=1 .venv/bin/python -m pytest --runxfail tests/e2e/test_semantics.py
"""
import collections
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest

from conftest import DX_PY

PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
PYTEST_ONLY = bool(os.environ.get("DXPY_SEMANTICS_PYTEST_ONLY"))
ONE_WORKER = ("-n", "1")
TIMEOUT = 60
CONFIG_FILES = ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
COUNTED = {"passed", "failed", "skipped", "xfailed", "xpassed", "error", "deselected"}

# Prepended to a project file that records what runs, in order, in $SEMANTICS_LOG.
LOG = """\
import os as _os


def log(msg):
    with open(_os.environ["SEMANTICS_LOG"], "a") as _f:
        _f.write(str(msg) + "\\n")

"""


def logged(src):
    return LOG + textwrap.dedent(src)


@dataclass
class Semantic:
    outcomes: dict                                   # node id -> outcome, or "absent"
    texts: dict = field(default_factory=dict)        # node id -> lines its failure text must contain
    properties: dict = field(default_factory=dict)   # node id -> [(name, value)] of its JUnit <property>s
    suite_properties: list = None                    # [(name, value)] of the <testsuite>'s own <property>s
    log: list = None                                 # the project's whole log, when the semantic is about order


@dataclass
class Project:
    name: str
    files: dict
    semantics: dict                                  # name -> Semantic
    args: tuple = ()                                 # for both tools
    dx_args: tuple = ()                              # for dx-py only
    counts: dict = None                              # the closing counts, when not the outcomes counted

    def expected(self):
        out = {}
        for sem in self.semantics.values():
            out.update({n: o for n, o in sem.outcomes.items() if o != "absent"})
        return out


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

CONFTEST = Project("conftest", files={
    "conftest.py": """
        import pytest

        @pytest.fixture
        def value():
            return "root"

        @pytest.fixture
        def other():
            return "root-other"

        @pytest.fixture
        def chain():
            return ["root"]
    """,
    "test_top.py": """
        def test_root_value(value):
            assert value == "root"

        def test_root_value_wrong(value):
            assert value == "root-sub"

        def test_unknown_fixture(no_such_fixture):
            pass
    """,
    "sub/conftest.py": """
        import pytest

        @pytest.fixture
        def value(value):
            return value + "-sub"

        @pytest.fixture
        def chain(chain):
            return chain + ["sub"]
    """,
    "sub/test_sub.py": """
        import pytest

        @pytest.fixture
        def chain(chain):
            return chain + ["module"]

        def test_sub_value(value):
            assert value == "root-sub"

        def test_parent_fixture(other):
            assert other == "root-other"

        def test_module_overrides(chain):
            assert chain == ["root", "sub", "module"]

        class TestOverrideInClass:
            @pytest.fixture
            def value(self, value):
                return value + "-class"

            def test_class_value(self, value):
                assert value == "root-sub-class"
    """,
    "sub/deeper/test_deep.py": """
        def test_deeper(value, chain):
            assert (value, chain) == ("root-sub", ["root", "sub"])
    """,
}, semantics={
    "conftest_two_levels_overriding": Semantic({
        "test_top.py::test_root_value": "passed",
        "test_top.py::test_root_value_wrong": "failed",
        "sub/test_sub.py::test_sub_value": "passed",
        "sub/test_sub.py::test_parent_fixture": "passed",
        "sub/deeper/test_deep.py::test_deeper": "passed",
    }),
    "module_and_class_override": Semantic({
        "sub/test_sub.py::test_module_overrides": "passed",
        "sub/test_sub.py::TestOverrideInClass::test_class_value": "passed",
    }),
    "unknown_fixture_is_an_error": Semantic({"test_top.py::test_unknown_fixture": "error"}),
})

SCOPES = Project("scopes", dx_args=ONE_WORKER, files={
    "conftest.py": logged("""
        import pytest

        @pytest.fixture(scope="session")
        def sess():
            log("session setup")
            yield
            log("session teardown")
    """),
    "pkg/__init__.py": "",
    "pkg/conftest.py": logged("""
        import pytest

        @pytest.fixture(scope="package")
        def pack():
            log("package setup")
            yield
            log("package teardown")
    """),
    "pkg/test_a.py": logged("""
        import pytest

        @pytest.fixture(scope="module")
        def mod():
            log("module setup")
            yield
            log("module teardown")

        @pytest.fixture(scope="class")
        def klass():
            log("class setup")
            yield
            log("class teardown")

        @pytest.fixture
        def func():
            log("function setup")
            yield
            log("function teardown")

        def test_one(sess, pack, mod, func):
            log("test_one")

        class TestK:
            def test_two(self, klass, func):
                log("test_two")

            def test_three(self, klass, mod):
                log("test_three")

        def test_four(func):
            log("test_four")
    """),
    "pkg/test_b.py": logged("""
        def test_five(pack):
            log("test_five")
    """),
    "test_z.py": logged("""
        def test_six(sess):
            log("test_six")
    """),
}, semantics={
    "every_scope_in_order": Semantic({
        "pkg/test_a.py::test_one": "passed",
        "pkg/test_a.py::TestK::test_two": "passed",
        "pkg/test_a.py::TestK::test_three": "passed",
        "pkg/test_a.py::test_four": "passed",
        "pkg/test_b.py::test_five": "passed",
        "test_z.py::test_six": "passed",
    }, log=[
        "session setup", "package setup", "module setup", "function setup", "test_one", "function teardown",
        "class setup", "function setup", "test_two", "function teardown", "test_three", "class teardown",
        "function setup", "test_four", "function teardown", "module teardown",
        "test_five", "package teardown",
        "test_six", "session teardown",
    ]),
})

FIXTURE_ERRORS = Project("fixture_errors", dx_args=ONE_WORKER, files={
    "test_fx_errors.py": logged("""
        import pytest

        @pytest.fixture(scope="module")
        def mod_first():
            log("module setup")
            yield
            log("module teardown")

        @pytest.fixture
        def first():
            log("first setup")
            yield
            log("first teardown")

        @pytest.fixture
        def broken(first):
            log("broken setup")
            raise RuntimeError("boom")

        def test_later_fixture_fails(mod_first, first, broken):
            log("never")

        def test_after(first):
            log("test_after")

        @pytest.fixture
        def bad_teardown():
            yield
            log("bad teardown")
            raise RuntimeError("teardown boom")

        def test_teardown_errors(bad_teardown):
            log("test_teardown_errors")

        @pytest.fixture
        def fails_setup():
            pytest.fail("cannot set up")

        def test_fixture_calls_fail(fails_setup):
            pass

        @pytest.fixture
        def skips_setup():
            pytest.skip("no resource")

        def test_fixture_calls_skip(skips_setup):
            pass

        @pytest.fixture
        def func_scoped():
            return 1

        @pytest.fixture(scope="module")
        def wider(func_scoped):
            return 2

        def test_scope_mismatch(wider):
            pass

        @pytest.fixture
        def loops(loops):
            return loops

        def test_recursive_fixture(loops):
            pass

        @pytest.mark.xfail(reason="set-up errors of an xfail test are xfailed")
        def test_xfail_with_broken_fixture(broken):
            pass
    """),
}, semantics={
    "yield_teardown_when_a_later_fixture_fails": Semantic({
        "test_fx_errors.py::test_later_fixture_fails": "error",
        "test_fx_errors.py::test_after": "passed",
    }, log=[
        "module setup", "first setup", "broken setup", "first teardown",
        "first setup", "test_after", "first teardown",
        "test_teardown_errors", "bad teardown",
        "first setup", "broken setup", "first teardown",
        "module teardown",
    ]),
    # A test that passes and then errors in teardown: JUnit says error, the counts 1 passed + 1 error.
    "teardown_error": Semantic({"test_fx_errors.py::test_teardown_errors": "error"}),
    "fixture_calls_fail_or_skip": Semantic({
        "test_fx_errors.py::test_fixture_calls_fail": "error",
        "test_fx_errors.py::test_fixture_calls_skip": "skipped",
    }),
    "scope_mismatch": Semantic({"test_fx_errors.py::test_scope_mismatch": "error"}),
    "recursive_fixture": Semantic({"test_fx_errors.py::test_recursive_fixture": "error"}),
    "xfail_with_a_failing_fixture": Semantic({"test_fx_errors.py::test_xfail_with_broken_fixture": "xfailed"}),
}, counts={"passed": 2, "error": 5, "skipped": 1, "xfailed": 1})

AUTOUSE_PARAMS = Project("autouse_params", files={
    "conftest.py": """
        import pytest

        @pytest.fixture(autouse=True)
        def _auto_env(monkeypatch):
            monkeypatch.setenv("SEM_AUTO", "on")

        @pytest.fixture(params=[1, 2], ids=["one", "two"])
        def num(request):
            return request.param

        @pytest.fixture(params=["a", "b"])
        def letter(request):
            return request.param
    """,
    "test_fx.py": """
        import os
        import pytest

        USED = {}

        @pytest.fixture
        def remember(request):
            USED[request.node.name] = True

        def test_autouse_from_conftest():
            assert os.environ["SEM_AUTO"] == "on"

        class TestAutouseInClass:
            @pytest.fixture(autouse=True)
            def _setup(self):
                self.x = 5

            def test_x(self):
                assert self.x == 5

        def test_num(num):
            assert num in (1, 2)

        def test_combo(num, letter):
            assert (num, letter) != (2, "b")

        @pytest.fixture(params=[10, 20], ids=lambda v: f"v{v}")
        def by_fn(request):
            return request.param

        def test_ids_function(by_fn):
            assert by_fn in (10, 20)

        @pytest.fixture(params=[pytest.param(0, id="zero"), pytest.param(1, marks=pytest.mark.skip(reason="no")),
                                pytest.param(2, marks=pytest.mark.xfail)])
        def marked(request):
            return request.param

        def test_marked_params(marked):
            assert marked == 0

        @pytest.mark.usefixtures("remember")
        def test_usefixtures():
            assert USED.get("test_usefixtures")

        @pytest.mark.usefixtures("remember")
        class TestUse:
            def test_in_class(self):
                assert USED.get("test_in_class")
    """,
}, semantics={
    "autouse": Semantic({
        "test_fx.py::test_autouse_from_conftest": "passed",
        "test_fx.py::TestAutouseInClass::test_x": "passed",
    }),
    "fixture_params_and_ids": Semantic({
        "test_fx.py::test_num[one]": "passed",
        "test_fx.py::test_num[two]": "passed",
        "test_fx.py::test_combo[one-a]": "passed",
        "test_fx.py::test_combo[one-b]": "passed",
        "test_fx.py::test_combo[two-a]": "passed",
        "test_fx.py::test_combo[two-b]": "failed",
        "test_fx.py::test_ids_function[v10]": "passed",
        "test_fx.py::test_ids_function[v20]": "passed",
    }),
    "fixture_params_with_marks": Semantic({
        "test_fx.py::test_marked_params[zero]": "passed",
        "test_fx.py::test_marked_params[1]": "skipped",
        "test_fx.py::test_marked_params[2]": "xfailed",
    }),
    "usefixtures": Semantic({
        "test_fx.py::test_usefixtures": "passed",
        "test_fx.py::TestUse::test_in_class": "passed",
    }),
})

REQUEST = Project("request", files={
    "pytest.ini": """
        [pytest]
        markers =
            tagged: a mark with arguments
    """,
    "conftest.py": """
        import pytest

        @pytest.fixture
        def base():
            return 10

        @pytest.fixture(params=[1, 2])
        def p(request):
            return request.param * 10
    """,
    "test_req.py": logged("""
        import pytest

        @pytest.fixture
        def with_finalizer(request):
            request.addfinalizer(lambda: log(f"finalizer of {request.node.name}"))
            return 1

        def test_param(p):
            assert p in (10, 20)

        def test_node(request):
            assert request.node.name == "test_node"
            assert request.node.nodeid == "test_req.py::test_node"
            assert request.function.__name__ == "test_node"
            assert request.module.__name__ == "test_req"
            assert request.cls is None
            assert request.scope == "function"
            assert "request" in request.fixturenames

        class TestR:
            def test_cls(self, request):
                assert request.cls is TestR
                assert request.instance is self
                assert request.node.nodeid == "test_req.py::TestR::test_cls"

        def test_getfixturevalue(request):
            assert request.getfixturevalue("base") == 10

        def test_addfinalizer(with_finalizer):
            log("test_addfinalizer")

        @pytest.mark.tagged("x", key=1)
        def test_closest_marker(request):
            mark = request.node.get_closest_marker("tagged")
            assert (mark.args, mark.kwargs) == (("x",), {"key": 1})
            assert "tagged" in request.node.keywords

        def test_applymarker(request):
            request.applymarker(pytest.mark.xfail(reason="applied at run time"))
            assert False
    """),
}, semantics={
    "request_param": Semantic({"test_req.py::test_param[1]": "passed", "test_req.py::test_param[2]": "passed"}),
    "request_node_and_attributes": Semantic({
        "test_req.py::test_node": "passed",
        "test_req.py::TestR::test_cls": "passed",
        "test_req.py::test_closest_marker": "passed",
    }),
    "request_getfixturevalue": Semantic({"test_req.py::test_getfixturevalue": "passed"}),
    "request_addfinalizer": Semantic({"test_req.py::test_addfinalizer": "passed"},
                                     log=["test_addfinalizer", "finalizer of test_addfinalizer"]),
    "request_applymarker": Semantic({"test_req.py::test_applymarker": "xfailed"}),
})

ADDOPTION = Project("addoption", args=("--env-name=staging", "--fast"), files={
    "pytest.ini": """
        [pytest]
        greeting = hello
    """,
    "conftest.py": """
        import pytest

        def pytest_addoption(parser):
            parser.addoption("--env-name", action="store", default="dev", help="target environment")
            parser.addoption("--fast", action="store_true", help="a flag")
            parser.addoption("--unused", default="fallback", help="not given")
            parser.addini("greeting", "a greeting", default="hi")

        @pytest.fixture
        def env_name(request):
            return request.config.getoption("--env-name")
    """,
    "test_opts.py": """
        def test_option(env_name, pytestconfig):
            assert env_name == "staging"
            assert pytestconfig.getoption("env_name") == "staging"
            assert pytestconfig.getoption("--fast") is True
            assert pytestconfig.getoption("--unused") == "fallback"
            assert pytestconfig.option.env_name == "staging"

        def test_ini(pytestconfig):
            assert pytestconfig.getini("greeting") == "hello"
    """,
}, semantics={
    "addoption_and_getoption": Semantic({"test_opts.py::test_option": "passed"}),
    "addini_and_getini": Semantic({"test_opts.py::test_ini": "passed"}),
})

BUILTIN_TESTS = {
    "tmp_path": """
        def test_tmp_path(tmp_path):
            (tmp_path / "f.txt").write_text("x")
            assert (tmp_path / "f.txt").read_text() == "x"
            assert tmp_path.name.startswith("test_tmp_path")
    """,
    "tmp_path_factory": """
        def test_tmp_path_factory(tmp_path_factory):
            d = tmp_path_factory.mktemp("data")
            assert d.is_dir() and d.name.startswith("data")
    """,
    "tmpdir": """
        def test_tmpdir(tmpdir):
            tmpdir.join("a.txt").write("y")
            assert tmpdir.join("a.txt").read() == "y"
    """,
    "tmpdir_factory": """
        def test_tmpdir_factory(tmpdir_factory):
            assert tmpdir_factory.mktemp("legacy").check(dir=True)
    """,
    "monkeypatch": """
        def test_monkeypatch(monkeypatch, tmp_path):
            monkeypatch.setattr(Settings, "value", 2)
            monkeypatch.setattr("test_builtins.Settings.value", 3)
            assert Settings.value == 3
            monkeypatch.setenv("SEM_VAR", "1")
            monkeypatch.delenv("SEM_ABSENT", raising=False)
            monkeypatch.setitem(TABLE, "k", "v")
            (tmp_path / "sem_extra_mod.py").write_text("X = 3\\n")
            monkeypatch.syspath_prepend(str(tmp_path))
            import sem_extra_mod
            assert sem_extra_mod.X == 3
            monkeypatch.chdir(tmp_path)
            assert pathlib.Path.cwd() == tmp_path

        def test_monkeypatch_was_undone():
            assert Settings.value == 1
            assert "SEM_VAR" not in os.environ
            assert TABLE == {}
    """,
    "capsys": """
        def test_capsys(capsys):
            print("out")
            print("err", file=sys.stderr)
            captured = capsys.readouterr()
            assert (captured.out, captured.err) == ("out\\n", "err\\n")
            with capsys.disabled():
                pass

        def test_capsys_sees_a_failure(capsys):
            print("shown")
            assert capsys.readouterr().out == "not shown\\n"
    """,
    "capsysbinary": """
        def test_capsysbinary(capsysbinary):
            print("bin")
            assert capsysbinary.readouterr().out == b"bin\\n"
    """,
    "capfd": """
        def test_capfd(capfd):
            os.write(1, b"fd1")
            os.write(2, b"fd2")
            assert tuple(capfd.readouterr()) == ("fd1", "fd2")
    """,
    "capfdbinary": """
        def test_capfdbinary(capfdbinary):
            os.write(1, b"\\x00\\x01")
            assert capfdbinary.readouterr().out == b"\\x00\\x01"
    """,
    "caplog": """
        def test_caplog(caplog):
            caplog.set_level(logging.INFO)
            logging.getLogger("sem").info("hello %s", "world")
            assert caplog.records[0].getMessage() == "hello world"
            assert "hello world" in caplog.text
            assert caplog.record_tuples == [("sem", logging.INFO, "hello world")]
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="sem"):
                logging.getLogger("sem").info("hidden")
            assert caplog.records == []
    """,
    "recwarn": """
        def test_recwarn(recwarn):
            warnings.warn("careful", UserWarning)
            assert len(recwarn) == 1
            assert str(recwarn.pop(UserWarning).message) == "careful"

        def test_pytest_warns_and_raises():
            with pytest.warns(DeprecationWarning, match="old"):
                warnings.warn("old api", DeprecationWarning)
            with pytest.raises(ValueError, match=r"bad \\d") as info:
                raise ValueError("bad 1")
            assert info.type is ValueError
    """,
    "pytestconfig": """
        def test_pytestconfig(pytestconfig):
            assert pytestconfig.rootpath == pathlib.Path(__file__).parent
            assert pytestconfig.getoption("verbose") == 0
    """,
    "request": """
        def test_request(request):
            assert request.node.name == "test_request"
    """,
    "record_property": """
        def test_record_property(record_property):
            record_property("answer", 42)
            record_property("text", 'a<b&"c"\\n\\x01')

        @pytest.fixture
        def late_property(request):
            yield
            request.node.user_properties.append(("late", "yes"))

        def test_property_in_teardown(late_property):
            pass
    """,
    "record_testsuite_property": """
        def test_record_testsuite_property(record_testsuite_property):
            record_testsuite_property("ARCH", "PPC")
            record_testsuite_property("n", 3)
            with pytest.raises(TypeError, match="name parameter needs to be a string, but int given"):
                record_testsuite_property(1, "x")
    """,
    "record_xml_attribute": """
        def test_record_xml_attribute(record_xml_attribute):
            record_xml_attribute("custom", "x")  # junit_family xunit2 (the default) leaves it out
    """,
    "doctest_namespace": """
        def test_doctest_namespace(doctest_namespace):
            doctest_namespace["x"] = 1
            assert doctest_namespace["x"] == 1
    """,
}

# The JUnit <property> elements these write (value: str(), then pytest's bin_xml_escape).
BUILTIN_PROPERTIES = {
    "record_property": {"test_builtins.py::test_record_property": [("answer", "42"), ("text", 'a<b&"c"\n#x01')],
                        "test_builtins.py::test_property_in_teardown": [("late", "yes")]},
    "record_xml_attribute": {"test_builtins.py::test_record_xml_attribute": []},
}
BUILTIN_SUITE_PROPERTIES = {"record_testsuite_property": [("ARCH", "PPC"), ("n", "3")]}

BUILTINS = Project("builtins", dx_args=ONE_WORKER, files={
    "test_builtins.py": textwrap.dedent("""
        import logging
        import os
        import pathlib
        import sys
        import warnings

        import pytest

        class Settings:
            value = 1

        TABLE = {}
    """) + "".join("\n" + textwrap.dedent(src) for src in BUILTIN_TESTS.values()),
}, semantics={
    name: Semantic({f"test_builtins.py::{fn}": ("failed" if fn.endswith("_a_failure") else "passed")
                    for fn in re.findall(r"^def (test_\w+)", textwrap.dedent(src), re.M)},
                   properties=BUILTIN_PROPERTIES.get(name, {}), suite_properties=BUILTIN_SUITE_PROPERTIES.get(name))
    for name, src in BUILTIN_TESTS.items()
})

# The warnings pytest's JUnit fixtures give (the projects here always write a JUnit file, of
# junit_family xunit2): with filterwarnings = error each fails its test at set-up.
JUNIT_FIXTURE_WARNINGS = Project("junit_fixture_warnings", files={
    "pytest.ini": "[pytest]\nfilterwarnings = error\n",
    "test_w.py": """
        def test_xml_attribute(record_xml_attribute):
            pass

        def test_property(record_property):
            pass

        def test_testsuite_property(record_testsuite_property):
            record_testsuite_property("ARCH", "PPC")
    """,
}, semantics={
    "experimental_and_xunit2_warnings": Semantic({
        "test_w.py::test_xml_attribute": "error",
        "test_w.py::test_property": "error",
        "test_w.py::test_testsuite_property": "passed",
    }, texts={"test_w.py::test_xml_attribute": ["record_xml_attribute is an experimental feature"],
              "test_w.py::test_property": ["record_property is incompatible with junit_family 'xunit2' (use "
                                           "'legacy' or 'xunit1')"]},
       suite_properties=[("ARCH", "PPC")]),
})

# ---------------------------------------------------------------------------------------------
# Parametrize: node ids exactly as pytest's
# ---------------------------------------------------------------------------------------------

PARAMETRIZE = Project("parametrize", files={
    "test_ids.py": """
        import enum
        import re

        import pytest

        class Color(enum.Enum):
            RED = 1

        class Thing:
            pass

        def helper():
            pass

        @pytest.mark.parametrize("x", [0, 2.5, -1, 10**20, float("inf"), 1j, None, True, "a b", "\\u00fc",
                                       "tab\\there", b"by", Thing(), Thing, helper, Color.RED, (1, 2),
                                       re.compile("ab+"), "a/b", "a::b"])
        def test_values(x):
            pass

        @pytest.mark.parametrize("x", [1, 1, 2, "a", "a", "b"])
        def test_duplicates(x):
            pass

        @pytest.mark.parametrize("x", [""])
        def test_empty_string(x):
            pass

        @pytest.mark.parametrize("a", [1])
        @pytest.mark.parametrize("b", ["", ""])
        def test_empty_combined(a, b):
            pass

        @pytest.mark.parametrize("x", [1, 2], ids=["", "two"])
        def test_empty_in_ids(x):
            pass

        @pytest.mark.parametrize("x", [str()])
        def test_empty_at_run_time(x):
            assert x == ""

        @pytest.mark.parametrize("a,b", [(1, 2), (3, "x")])
        def test_two_names(a, b):
            pass

        @pytest.mark.parametrize(("a", "b"), [[5, 6]])
        def test_names_as_tuple(a, b):
            pass

        @pytest.mark.parametrize("x", [1, 2])
        @pytest.mark.parametrize("y", ["p", "q"])
        def test_stacked(x, y):
            assert (x, y) != (2, "q")

        @pytest.mark.parametrize("x", [1, 2], ids=["first", "second"])
        def test_ids_list(x):
            pass

        @pytest.mark.parametrize("x", [1, 2, 3], ids=lambda v: f"n{v}" if v != 2 else None)
        def test_ids_function(x):
            pass

        @pytest.mark.parametrize("x", [
            pytest.param(1, id="one"),
            pytest.param(2, marks=pytest.mark.xfail(reason="two"), id="two"),
            pytest.param(3, marks=pytest.mark.skip(reason="three")),
            pytest.param(4, marks=[pytest.mark.xfail(strict=True)]),
            pytest.param(5, marks=pytest.mark.xfail),
        ])
        def test_pytest_param(x):
            assert x in (1, 5)

        @pytest.mark.parametrize("x", [])
        def test_empty_parameter_set(x):
            pass

        @pytest.mark.parametrize("n", [1, 2])
        class TestClassLevel:
            def test_m(self, n):
                assert n in (1, 2)

            @pytest.mark.parametrize("k", ["u"])
            def test_both(self, n, k):
                pass

        @pytest.fixture
        def doubled(request):
            return request.param * 2

        @pytest.mark.parametrize("doubled", [1, 2], indirect=True)
        def test_indirect(doubled):
            assert doubled in (2, 4)

        @pytest.mark.parametrize("doubled, raw", [(3, 3)], indirect=["doubled"])
        def test_indirect_list(doubled, raw):
            assert (doubled, raw) == (6, 3)

        @pytest.fixture
        def num():
            return 0

        @pytest.mark.parametrize("num", [7])
        def test_parametrize_overrides_fixture(num):
            assert num == 7
    """,
}, semantics={
    # Non-literal values get argname + index; classes, functions and enums their names; strings
    # are escaped to ASCII.
    "ids_of_values_and_objects": Semantic({f"test_ids.py::test_values[{v}]": "passed" for v in [
        "0", "2.5", "-1", "100000000000000000000", "inf", "1j", "None", "True", "a b", "\\xfc", "tab\\there", "by",
        "x12", "Thing", "helper", "Color.RED", "x16", "ab+", "a/b", "a::b"]}),
    # pytest >= 8: an id ending in a digit gets "_N" (pytest 7 wrote "10", "11").
    "duplicate_ids": Semantic({f"test_ids.py::test_duplicates[{v}]": "passed"
                               for v in ["1_0", "1_1", "2", "a0", "a1", "b"]}),
    "empty_string_id": Semantic({"test_ids.py::test_empty_string[]": "passed"}),
    # Empty ids are made unique and joined like any other; a value known only at run time too.
    "empty_ids_combined": Semantic({
        "test_ids.py::test_empty_combined[0-1]": "passed",
        "test_ids.py::test_empty_combined[1-1]": "passed",
        "test_ids.py::test_empty_in_ids[]": "passed",
        "test_ids.py::test_empty_in_ids[two]": "passed",
        "test_ids.py::test_empty_at_run_time[]": "passed",
    }),
    "several_argnames": Semantic({
        "test_ids.py::test_two_names[1-2]": "passed",
        "test_ids.py::test_two_names[3-x]": "passed",
        "test_ids.py::test_names_as_tuple[5-6]": "passed",
    }),
    "stacked": Semantic({
        "test_ids.py::test_stacked[p-1]": "passed",
        "test_ids.py::test_stacked[p-2]": "passed",
        "test_ids.py::test_stacked[q-1]": "passed",
        "test_ids.py::test_stacked[q-2]": "failed",
    }),
    "ids_list": Semantic({
        "test_ids.py::test_ids_list[first]": "passed",
        "test_ids.py::test_ids_list[second]": "passed",
    }),
    "ids_function": Semantic({
        "test_ids.py::test_ids_function[n1]": "passed",
        "test_ids.py::test_ids_function[2]": "passed",
        "test_ids.py::test_ids_function[n3]": "passed",
    }),
    "pytest_param_marks_and_ids": Semantic({
        "test_ids.py::test_pytest_param[one]": "passed",
        "test_ids.py::test_pytest_param[two]": "xfailed",
        "test_ids.py::test_pytest_param[3]": "skipped",
        "test_ids.py::test_pytest_param[4]": "xfailed",
        "test_ids.py::test_pytest_param[5]": "xpassed",
    }),
    # pytest 9 names the one test of an empty parameter set [NOTSET] and skips it.
    "empty_parameter_set": Semantic({"test_ids.py::test_empty_parameter_set[NOTSET]": "skipped"}),
    "class_level": Semantic({
        "test_ids.py::TestClassLevel::test_m[1]": "passed",
        "test_ids.py::TestClassLevel::test_m[2]": "passed",
        "test_ids.py::TestClassLevel::test_both[u-1]": "passed",
        "test_ids.py::TestClassLevel::test_both[u-2]": "passed",
    }),
    "indirect": Semantic({
        "test_ids.py::test_indirect[1]": "passed",
        "test_ids.py::test_indirect[2]": "passed",
        "test_ids.py::test_indirect_list[3-3]": "passed",
    }),
    "parametrize_overrides_a_fixture": Semantic({"test_ids.py::test_parametrize_overrides_fixture[7]": "passed"}),
})

# ---------------------------------------------------------------------------------------------
# Marks and run-time outcomes
# ---------------------------------------------------------------------------------------------

MARKS = Project("marks", files={
    "pytest.ini": "[pytest]\nfilterwarnings =\n    error::UserWarning\n",
    "test_marks.py": logged("""
        import os
        import sys
        import warnings

        import pytest

        @pytest.mark.skip(reason="never")
        def test_skip():
            assert False

        @pytest.mark.skip
        def test_skip_without_reason():
            assert False

        @pytest.mark.skipif("sys.platform.startswith('linux')", reason="a string condition, true")
        def test_skipif_string_true():
            assert False

        @pytest.mark.skipif("sys.version_info < (3, 0)", reason="a string condition, false")
        def test_skipif_string_false():
            pass

        @pytest.mark.skipif(True, reason="bool")
        def test_skipif_true():
            assert False

        @pytest.mark.skipif(False, reason="bool")
        def test_skipif_false():
            pass

        @pytest.mark.skipif(False, reason="first")
        @pytest.mark.skipif(True, reason="second")
        def test_skipif_any_of_two():
            assert False

        @pytest.mark.xfail
        def test_xfail_fails():
            assert False

        @pytest.mark.xfail(reason="passes anyway")
        def test_xfail_passes():
            pass

        @pytest.mark.xfail(strict=True)
        def test_xfail_strict_passes():
            pass

        @pytest.mark.xfail(strict=True)
        def test_xfail_strict_fails():
            assert False

        @pytest.mark.xfail(raises=TypeError)
        def test_xfail_raises_that():
            raise TypeError("expected")

        @pytest.mark.xfail(raises=TypeError)
        def test_xfail_raises_something_else():
            raise ValueError("unexpected")

        @pytest.mark.xfail(raises=(TypeError, KeyError))
        def test_xfail_raises_tuple():
            {}["missing"]

        @pytest.mark.xfail(run=False, reason="would crash")
        def test_xfail_run_false():
            log("ran")
            os._exit(1)

        @pytest.mark.xfail("sys.platform == 'no-such-platform'", reason="false condition")
        def test_xfail_condition_false():
            assert False

        @pytest.mark.xfail(sys.platform.startswith("linux"), reason="true condition")
        def test_xfail_condition_true():
            assert False

        @pytest.mark.skip(reason="the whole class")
        class TestSkippedClass:
            def test_a(self):
                assert False

            def test_b(self):
                assert False

        @pytest.mark.filterwarnings("error::RuntimeWarning")
        def test_filterwarnings_error():
            warnings.warn("now an error", RuntimeWarning)

        def test_ini_filterwarnings_error():
            warnings.warn("an error by the ini's filterwarnings", UserWarning)

        @pytest.mark.filterwarnings("ignore::UserWarning")
        def test_filterwarnings_ignore_overrides_ini():
            warnings.warn("ignored", UserWarning)
    """),
    "test_module_mark.py": """
        import pytest

        pytestmark = [pytest.mark.xfail(reason="the whole module")]

        def test_m1():
            assert False

        def test_m2():
            pass
    """,
}, semantics={
    "skip": Semantic({"test_marks.py::test_skip": "skipped", "test_marks.py::test_skip_without_reason": "skipped"}),
    "skipif_string_condition": Semantic({
        "test_marks.py::test_skipif_string_true": "skipped",
        "test_marks.py::test_skipif_string_false": "passed",
    }),
    "skipif_bool": Semantic({
        "test_marks.py::test_skipif_true": "skipped",
        "test_marks.py::test_skipif_false": "passed",
        "test_marks.py::test_skipif_any_of_two": "skipped",
    }),
    "xfail": Semantic({"test_marks.py::test_xfail_fails": "xfailed", "test_marks.py::test_xfail_passes": "xpassed"}),
    "xfail_strict": Semantic({
        "test_marks.py::test_xfail_strict_passes": "failed",
        "test_marks.py::test_xfail_strict_fails": "xfailed",
    }),
    "xfail_raises": Semantic({
        "test_marks.py::test_xfail_raises_that": "xfailed",
        "test_marks.py::test_xfail_raises_something_else": "failed",
        "test_marks.py::test_xfail_raises_tuple": "xfailed",
    }),
    "xfail_run_false": Semantic({"test_marks.py::test_xfail_run_false": "xfailed"}, log=[]),
    "xfail_condition": Semantic({
        "test_marks.py::test_xfail_condition_false": "failed",
        "test_marks.py::test_xfail_condition_true": "xfailed",
    }),
    "skip_on_a_class": Semantic({
        "test_marks.py::TestSkippedClass::test_a": "skipped",
        "test_marks.py::TestSkippedClass::test_b": "skipped",
    }),
    "pytestmark_of_a_module": Semantic({"test_module_mark.py::test_m1": "xfailed",
                                        "test_module_mark.py::test_m2": "xpassed"}),
    "filterwarnings_mark_and_ini": Semantic({
        "test_marks.py::test_filterwarnings_error": "failed",
        "test_marks.py::test_ini_filterwarnings_error": "failed",
        "test_marks.py::test_filterwarnings_ignore_overrides_ini": "passed",
    }),
})

XFAIL_STRICT_INI = Project("xfail_strict_ini", files={
    "pytest.ini": "[pytest]\nxfail_strict = true\n",
    "test_strict.py": """
        import pytest

        @pytest.mark.xfail
        def test_xpass_is_failure():
            pass

        @pytest.mark.xfail(strict=False)
        def test_xpass_explicitly_not_strict():
            pass

        @pytest.mark.xfail
        def test_fails():
            assert False
    """,
}, semantics={
    "xfail_strict_ini": Semantic({
        "test_strict.py::test_xpass_is_failure": "failed",
        "test_strict.py::test_xpass_explicitly_not_strict": "xpassed",
        "test_strict.py::test_fails": "xfailed",
    }),
})

RUNTIME = Project("runtime", files={
    "test_runtime.py": """
        import pytest

        def test_skip_call():
            pytest.skip("later")

        def test_fail_call():
            pytest.fail("nope")

        def test_fail_without_traceback():
            pytest.fail("quiet", pytrace=False)

        def test_xfail_call():
            pytest.xfail("known bug")
            assert False

        def test_importorskip_missing():
            pytest.importorskip("no_such_module_sem")

        def test_importorskip_present():
            json = pytest.importorskip("json")
            assert json.dumps(1) == "1"

        def test_importorskip_minversion():
            pytest.importorskip("pytest", minversion="999")

        class TestInClass:
            def test_skip_in_method(self):
                pytest.skip("method")
    """,
    "test_module_skip.py": """
        import pytest

        pytest.skip("the whole module", allow_module_level=True)

        def test_never():
            assert False
    """,
    "test_module_importorskip.py": """
        import pytest

        missing = pytest.importorskip("no_such_module_sem_two")

        def test_never():
            assert False
    """,
    "test_module_skipif_mark.py": """
        import pytest

        pytestmark = pytest.mark.skipif(True, reason="every test here")

        def test_one():
            assert False

        def test_two():
            assert False
    """,
}, semantics={
    "pytest_skip": Semantic({
        "test_runtime.py::test_skip_call": "skipped",
        "test_runtime.py::TestInClass::test_skip_in_method": "skipped",
    }),
    "pytest_skip_module_level": Semantic({
        "test_module_skip.py": "skipped",
        "test_module_skip.py::test_never": "absent",
    }),
    "pytest_fail": Semantic({
        "test_runtime.py::test_fail_call": "failed",
        "test_runtime.py::test_fail_without_traceback": "failed",
    }),
    "pytest_xfail": Semantic({"test_runtime.py::test_xfail_call": "xfailed"}),
    "importorskip": Semantic({
        "test_runtime.py::test_importorskip_missing": "skipped",
        "test_runtime.py::test_importorskip_present": "passed",
        "test_runtime.py::test_importorskip_minversion": "skipped",
    }),
    "importorskip_module_level": Semantic({
        "test_module_importorskip.py": "skipped",
        "test_module_importorskip.py::test_never": "absent",
    }),
    "pytestmark_skipif_module": Semantic({
        "test_module_skipif_mark.py::test_one": "skipped",
        "test_module_skipif_mark.py::test_two": "skipped",
    }),
})

# ---------------------------------------------------------------------------------------------
# unittest and xunit
# ---------------------------------------------------------------------------------------------

UNITTEST = Project("unittest", dx_args=ONE_WORKER, files={
    "test_ut.py": logged("""
        import unittest

        import pytest

        def setUpModule():
            log("setUpModule")

        def tearDownModule():
            log("tearDownModule")

        class TestOrder(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass")

            @classmethod
            def tearDownClass(cls):
                log("tearDownClass")

            def setUp(self):
                log(f"setUp {self._testMethodName}")

            def tearDown(self):
                log(f"tearDown {self._testMethodName}")

            def test_a(self):
                log("test_a")

            def test_b(self):
                log("test_b")
                self.assertEqual(1, 2)

        class TestSkips(unittest.TestCase):
            @unittest.skip("always")
            def test_skip(self):
                self.fail("unreachable")

            @unittest.skipIf(True, "condition true")
            def test_skip_if(self):
                self.fail("unreachable")

            @unittest.skipUnless(False, "condition false")
            def test_skip_unless(self):
                self.fail("unreachable")

            def test_skip_test(self):
                self.skipTest("at run time")

            @unittest.expectedFailure
            def test_expected_failure(self):
                self.assertEqual(1, 2)

            @unittest.expectedFailure
            def test_unexpected_success(self):
                pass

        @unittest.skip("the whole class")
        class TestSkippedClass(unittest.TestCase):
            def test_x(self):
                self.fail("unreachable")

        class TestSubTests(unittest.TestCase):
            def test_subtests_pass(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertLess(i, 3)

            def test_subtests_fail(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertNotEqual(i, 1)

        class TestSetUpClassFails(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise RuntimeError("no class today")

            def test_one(self):
                pass

            def test_two(self):
                pass

        class TestTearDownFails(unittest.TestCase):
            def tearDown(self):
                raise RuntimeError("teardown")

            def test_t(self):
                pass

        class TestWithPytestFeatures(unittest.TestCase):
            @pytest.fixture(autouse=True)
            def _inject(self, tmp_path):
                self.tmp = tmp_path

            def test_fixture_injected(self):
                self.assertTrue(self.tmp.is_dir())

            @pytest.mark.xfail(reason="a pytest mark on a method")
            def test_pytest_xfail(self):
                self.assertTrue(False)

            @pytest.mark.skip(reason="a pytest skip on a method")
            def test_pytest_skip(self):
                self.fail("unreachable")

            def test_assert_raises(self):
                with self.assertRaises(ZeroDivisionError):
                    1 / 0
    """),
}, semantics={
    "setup_teardown_class_module_in_order": Semantic({
        "test_ut.py::TestOrder::test_a": "passed",
        "test_ut.py::TestOrder::test_b": "failed",
    }, log=[
        "setUpModule", "setUpClass",
        "setUp test_a", "test_a", "tearDown test_a",
        "setUp test_b", "test_b", "tearDown test_b",
        "tearDownClass", "tearDownModule",
    ]),
    "skip_decorators_and_skipTest": Semantic({
        "test_ut.py::TestSkips::test_skip": "skipped",
        "test_ut.py::TestSkips::test_skip_if": "skipped",
        "test_ut.py::TestSkips::test_skip_unless": "skipped",
        "test_ut.py::TestSkips::test_skip_test": "skipped",
        "test_ut.py::TestSkippedClass::test_x": "skipped",
    }),
    "expectedFailure": Semantic({
        "test_ut.py::TestSkips::test_expected_failure": "xfailed",
        "test_ut.py::TestSkips::test_unexpected_success": "failed",
    }),
    # pytest 9 reports a failing subTest on its own (SUBFAILED, counted as failed) and the test
    # itself as passed (counted as passed); JUnit shows the test failed.
    "subTest": Semantic({
        "test_ut.py::TestSubTests::test_subtests_pass": "passed",
        "test_ut.py::TestSubTests::test_subtests_fail": "failed",
    }),
    "setUpClass_error": Semantic({
        "test_ut.py::TestSetUpClassFails::test_one": "error",
        "test_ut.py::TestSetUpClassFails::test_two": "error",
    }),
    "tearDown_error": Semantic({"test_ut.py::TestTearDownFails::test_t": "failed"}),
    "pytest_fixtures_and_marks_in_TestCase": Semantic({
        "test_ut.py::TestWithPytestFeatures::test_fixture_injected": "passed",
        "test_ut.py::TestWithPytestFeatures::test_pytest_xfail": "xfailed",
        "test_ut.py::TestWithPytestFeatures::test_pytest_skip": "skipped",
        "test_ut.py::TestWithPytestFeatures::test_assert_raises": "passed",
    }),
}, counts={"passed": 5, "failed": 4, "skipped": 6, "xfailed": 2, "error": 2})

XUNIT = Project("xunit", dx_args=ONE_WORKER, files={
    "test_xunit.py": logged("""
        def setup_module(module):
            log(f"setup_module {module.__name__}")

        def teardown_module(module):
            log("teardown_module")

        def setup_function(function):
            log(f"setup_function {function.__name__}")

        def teardown_function(function):
            log(f"teardown_function {function.__name__}")

        def test_f1():
            log("test_f1")

        def test_f2():
            log("test_f2")
            assert False

        class TestX:
            @classmethod
            def setup_class(cls):
                log("setup_class")

            @classmethod
            def teardown_class(cls):
                log("teardown_class")

            def setup_method(self, method):
                log(f"setup_method {method.__name__}")

            def teardown_method(self, method):
                log(f"teardown_method {method.__name__}")

            def test_m1(self):
                log("test_m1")

            def test_m2(self):
                log("test_m2")
    """),
    "test_xunit_noargs.py": logged("""
        def setup_module():
            log("setup_module noargs")

        def teardown_module():
            log("teardown_module noargs")

        def setup_function():
            log("setup_function noargs")

        def test_g():
            log("test_g")

        class TestFailingSetup:
            def setup_method(self):
                raise RuntimeError("setup_method fails")

            def teardown_method(self):
                log("teardown_method after failed setup")

            def test_h(self):
                log("never")
    """),
}, semantics={
    "module_function_class_method_in_order": Semantic({
        "test_xunit.py::test_f1": "passed",
        "test_xunit.py::test_f2": "failed",
        "test_xunit.py::TestX::test_m1": "passed",
        "test_xunit.py::TestX::test_m2": "passed",
        "test_xunit_noargs.py::test_g": "passed",
    }, log=[
        "setup_module test_xunit",
        "setup_function test_f1", "test_f1", "teardown_function test_f1",
        "setup_function test_f2", "test_f2", "teardown_function test_f2",
        "setup_class",
        "setup_method test_m1", "test_m1", "teardown_method test_m1",
        "setup_method test_m2", "test_m2", "teardown_method test_m2",
        "teardown_class", "teardown_module",
        "setup_module noargs", "setup_function noargs", "test_g",
        "teardown_module noargs",
    ]),
    # A failing setup_method is an error, and its teardown_method does not run.
    "failing_setup_method": Semantic({"test_xunit_noargs.py::TestFailingSetup::test_h": "error"}),
})

# ---------------------------------------------------------------------------------------------
# Assertion introspection
# ---------------------------------------------------------------------------------------------

ASSERT_TESTS = {
    "ints": ("a, b = 1, 2\nassert a == b", ["assert 1 == 2"]),
    "strings": ('left, right = "hello", "world"\nassert left == right',
                ["AssertionError: assert 'hello' == 'world'", "- world", "+ hello"]),
    "lists": ("assert [1, 2, 3] == [1, 2, 4]", ["assert [1, 2, 3] == [1, 2, 4]", "At index 2 diff: 3 != 4"]),
    "dicts": ('assert {"a": 1, "b": 2} == {"a": 1, "b": 3}',
              ["assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3}", "Omitting 1 identical items, use -vv to show",
               "Differing items:", "{'b': 2} != {'b': 3}"]),
    "sets": ("assert {1, 2} == {2, 3}",
             ["assert {1, 2} == {2, 3}", "Extra items in the left set:", "Extra items in the right set:"]),
    "message": ('x = 3\nassert x < 2, "x too big"', ["AssertionError: x too big", "assert 3 < 2"]),
    "call": ("assert four() == 5", ["assert 4 == 5", "+  where 4 = four()"]),
    "in": ("assert 4 in [1, 2, 3]", ["assert 4 in [1, 2, 3]"]),
    "conftest_helper_is_rewritten": ("check_positive(-1)", ["assert -1 > 0"]),
}

ASSERTS = Project("asserts", files={
    "conftest.py": """
        def check_positive(x):
            assert x > 0
    """,
    "test_asserts.py": "from conftest import check_positive\n\n\ndef four():\n    return 4\n"
    + "".join(f"\n\ndef test_{name}():\n" + textwrap.indent(body, "    ") + "\n"
              for name, (body, _) in ASSERT_TESTS.items()),
}, semantics={
    f"assert_{name}": Semantic({f"test_asserts.py::test_{name}": "failed"},
                               texts={f"test_asserts.py::test_{name}": lines})
    for name, (_, lines) in ASSERT_TESTS.items()
})

# ---------------------------------------------------------------------------------------------
# Configuration, hooks, collection errors
# ---------------------------------------------------------------------------------------------

CONFIG = Project("config", files={
    "pytest.ini": """
        [pytest]
        testpaths = tests
        pythonpath = src
        addopts = -k "not excluded"
        markers =
            registered: a registered mark
        filterwarnings =
            error::DeprecationWarning
            ignore:ignored by message:UserWarning
        python_files = test_*.py check_*.py
        python_functions = test_* check_*
        python_classes = Test* Check*
    """,
    "src/mylib.py": """
        def answer():
            return 42
    """,
    "tests/test_cfg.py": """
        import warnings

        import pytest

        import mylib

        def test_pythonpath():
            assert mylib.answer() == 42

        def test_excluded():
            assert False

        @pytest.mark.registered
        def test_registered_mark():
            pass

        def test_deprecation_is_an_error():
            warnings.warn("old", DeprecationWarning)

        @pytest.mark.filterwarnings("ignore::DeprecationWarning")
        def test_mark_overrides_ini():
            warnings.warn("old", DeprecationWarning)

        def test_ignored_by_message():
            warnings.warn("ignored by message here", UserWarning)
    """,
    "tests/check_more.py": """
        def check_function():
            pass

        class CheckThings:
            def check_method(self):
                pass
    """,
    "other/test_outside_testpaths.py": """
        def test_outside():
            assert False
    """,
}, semantics={
    "pythonpath": Semantic({"tests/test_cfg.py::test_pythonpath": "passed"}),
    "testpaths": Semantic({"other/test_outside_testpaths.py::test_outside": "absent"}),
    "addopts_k": Semantic({"tests/test_cfg.py::test_excluded": "absent"}),
    "registered_markers": Semantic({"tests/test_cfg.py::test_registered_mark": "passed"}),
    "filterwarnings_ini": Semantic({
        "tests/test_cfg.py::test_deprecation_is_an_error": "failed",
        "tests/test_cfg.py::test_mark_overrides_ini": "passed",
        "tests/test_cfg.py::test_ignored_by_message": "passed",
    }),
    "python_files_functions_classes": Semantic({
        "tests/check_more.py::check_function": "passed",
        "tests/check_more.py::CheckThings::check_method": "passed",
    }),
}, counts={"passed": 6, "failed": 1, "deselected": 1})

# pytest stops before running anything when a module fails to collect ("Interrupted: 1 error
# during collection", exit 2); --continue-on-collection-errors runs the rest. pytest 9 turns
# --strict-markers into the strict_markers ini value, which addopts cannot set: it is given on
# the command line.
STRICT_MARKERS = Project("strict_markers", args=("--strict-markers", "--continue-on-collection-errors"), files={
    "pytest.ini": """
        [pytest]
        markers =
            registered: a registered mark
    """,
    "test_registered.py": """
        import pytest

        @pytest.mark.registered
        def test_ok():
            pass
    """,
    "test_unregistered.py": """
        import pytest

        @pytest.mark.unregistered
        def test_x():
            pass
    """,
}, semantics={
    "strict_markers": Semantic({
        "test_registered.py::test_ok": "passed",
        "test_unregistered.py": "error",
        "test_unregistered.py::test_x": "absent",
    }),
})

HOOKS = Project("hooks", dx_args=ONE_WORKER, files={
    "sem_plugin.py": """
        import pytest

        @pytest.fixture
        def plugin_fixture():
            return "from plugin"
    """,
    "conftest.py": """
        import pytest

        pytest_plugins = ["sem_plugin"]

        def pytest_configure(config):
            config.addinivalue_line("markers", "needs_db: requires a database")
            config.sem_configured = True

        def pytest_generate_tests(metafunc):
            if "gen" in metafunc.fixturenames:
                metafunc.parametrize("gen", [1, 2, 3], ids=["g1", "g2", "g3"])

        def pytest_collection_modifyitems(config, items):
            for item in items:
                if "slow" in item.name:
                    item.add_marker(pytest.mark.skip(reason="slow, skipped by a hook"))
            dropped = [i for i in items if "drop" in i.name]
            config.hook.pytest_deselected(items=dropped)
            items[:] = [i for i in items if "drop" not in i.name]
            items.sort(key=lambda i: "first" not in i.name)  # stable: "first" tests move to the front

        def pytest_runtest_setup(item):
            if item.get_closest_marker("needs_db"):
                pytest.skip("no database")
    """,
    "test_hooks.py": logged("""
        import pytest

        def test_configured(pytestconfig):
            log("test_configured")
            assert pytestconfig.sem_configured

        def test_plugin_fixture(plugin_fixture):
            log("test_plugin_fixture")
            assert plugin_fixture == "from plugin"

        def test_generated(gen):
            log(f"test_generated {gen}")
            assert gen != 3

        def test_really_slow():
            assert False

        def test_drop_me():
            assert False

        @pytest.mark.needs_db
        def test_db():
            assert False

        def test_runs_first():
            log("test_runs_first")
    """),
}, semantics={
    "pytest_configure": Semantic({"test_hooks.py::test_configured": "passed"}),
    "pytest_plugins": Semantic({"test_hooks.py::test_plugin_fixture": "passed"}),
    "pytest_generate_tests": Semantic({
        "test_hooks.py::test_generated[g1]": "passed",
        "test_hooks.py::test_generated[g2]": "passed",
        "test_hooks.py::test_generated[g3]": "failed",
    }),
    "pytest_collection_modifyitems": Semantic({
        "test_hooks.py::test_really_slow": "skipped",
        "test_hooks.py::test_drop_me": "absent",
        "test_hooks.py::test_runs_first": "passed",
    }, log=[
        "test_runs_first", "test_configured", "test_plugin_fixture",
        "test_generated 1", "test_generated 2", "test_generated 3",
    ]),
    "pytest_runtest_setup": Semantic({"test_hooks.py::test_db": "skipped"}),
}, counts={"passed": 5, "failed": 1, "skipped": 2, "deselected": 1})

COLLECTION_ERRORS = Project("collection_errors", args=("--continue-on-collection-errors",), files={
    "test_good.py": """
        def test_ok():
            pass
    """,
    "test_import_error.py": """
        import no_such_module_sem

        def test_never():
            pass
    """,
    "test_raises_at_import.py": """
        raise RuntimeError("import-time failure")

        def test_never():
            pass
    """,
    "helper_broken.py": """
        value = undefined_name
    """,
    "test_broken_helper.py": """
        from helper_broken import value

        def test_never():
            pass
    """,
    "test_module_skip_not_allowed.py": """
        import pytest

        pytest.skip("outside a test without allow_module_level")

        def test_never():
            pass
    """,
    "test_param_name_error.py": """
        import pytest

        @pytest.mark.parametrize("x", undefined_values)
        def test_never(x):
            pass
    """,
    "sub/test_other_good.py": """
        def test_also_ok():
            pass
    """,
}, semantics={
    "import_error": Semantic({"test_import_error.py": "error", "test_import_error.py::test_never": "absent"}),
    "exception_at_import": Semantic({"test_raises_at_import.py": "error"}),
    "error_in_an_imported_helper": Semantic({"test_broken_helper.py": "error"}),
    "name_error_in_a_decorator": Semantic({"test_param_name_error.py": "error"}),
    "module_level_skip_without_allow_module_level": Semantic({"test_module_skip_not_allowed.py": "error"}),
    "the_other_modules_pass": Semantic({
        "test_good.py::test_ok": "passed",
        "sub/test_other_good.py::test_also_ok": "passed",
    }),
})

PROJECTS = [CONFTEST, SCOPES, FIXTURE_ERRORS, AUTOUSE_PARAMS, REQUEST, ADDOPTION, BUILTINS, JUNIT_FIXTURE_WARNINGS,
            PARAMETRIZE, MARKS,
            XFAIL_STRICT_INI, RUNTIME, UNITTEST, XUNIT, ASSERTS, CONFIG, STRICT_MARKERS, HOOKS, COLLECTION_ERRORS]


# ---------------------------------------------------------------------------------------------
# Running a project with both tools, reading the JUnit XML
# ---------------------------------------------------------------------------------------------

def junit_name(nodeid):
    """pytest's JUnit "classname::name" of a node id (its mangle_test_address)."""
    head, bracket, params = nodeid.partition("[")
    parts = head.split("::")
    parts[0] = re.sub(r"\.py$", "", parts[0]).replace("/", ".")
    return ".".join(parts[:-1]) + "::" + parts[-1] + bracket + params


def case_outcome(case):
    outcome = "passed"
    for child in case:
        if child.tag == "failure":
            outcome = "failed"
        elif child.tag == "error":
            outcome = "error"
        elif child.tag == "skipped":
            outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
    return outcome


def closing_counts(out):
    """Counts of pytest's closing line ("= 1 failed, 2 passed, 1 xpassed in 0.12s ="); dx-py prints the same."""
    for line in reversed(out.splitlines()):
        if re.search(r"\bin [0-9.]+s\b", line):
            counts = collections.Counter()
            for n, word in re.findall(r"(\d+) (\w+)", line):
                word = "error" if word == "errors" else word
                if word in COUNTED:
                    counts[word] += int(n)
            return counts
    return None


@dataclass
class Result:
    tool: str
    code: int
    out: str
    outcomes: dict   # JUnit name -> outcome
    cases: dict      # JUnit name -> [<testcase> elements]
    log: list
    suite_properties: list = field(default_factory=list)  # the <testsuite>'s own <property>s

    @property
    def counts(self):
        return closing_counts(self.out)

    def text(self, nodeid):
        """Message and body of the test's <failure>/<error> elements, "E " prefixes removed, line by line."""
        lines = []
        for case in self.cases.get(junit_name(nodeid), []):
            for child in case:
                if child.tag in ("failure", "error"):
                    for chunk in (child.get("message") or "", child.text or ""):
                        lines += [re.sub(r"^E\s+", "", ln).strip() for ln in chunk.splitlines()]
        return lines

    def properties(self, nodeid):
        return [(p.get("name"), p.get("value")) for case in self.cases.get(junit_name(nodeid), [])
                for p in case.iter("property")]

    def fail(self, what):
        hint = "the expectation is wrong" if self.tool == "pytest" else "dx-py differs from pytest"
        tail = "\n".join("    " + ln for ln in self.out.splitlines()[-40:])
        pytest.fail(f"{self.tool} ({hint}): {what}\n--- {self.tool}'s output (end):\n{tail}", pytrace=False)


def make(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    if not any((root / c).exists() for c in CONFIG_FILES):
        (root / "pytest.ini").write_text("[pytest]\n")  # the project is its own rootdir
    return root


def run(tool, root, args):
    xml = root.parent / f"{root.name}-{tool}.xml"
    log = root.parent / f"{root.name}-{tool}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(NO_COLOR="1", SEMANTICS_LOG=str(log))
    cmd = [*PYTEST, f"--junitxml={xml}", *args] if tool == "pytest" else [DX_PY, "test", f"--junit-xml={xml}", *args]
    try:
        p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        code, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        code, out = None, f"(killed after {TIMEOUT} s)\n{e.stdout or ''}{e.stderr or ''}"
    outcomes, cases = {}, collections.defaultdict(list)
    try:
        tree = ET.parse(xml)
    except (OSError, ET.ParseError):
        tree = None
    for case in tree.getroot().iter("testcase") if tree is not None else ():
        name = case.get("classname", "") + "::" + case.get("name", "")
        outcome = case_outcome(case)
        if name in outcomes and "error" in (outcome, outcomes[name]):
            outcome = "error"  # pytest writes a test twice when its teardown errors
        outcomes[name] = outcome
        cases[name].append(case)
    lines = log.read_text().splitlines() if log.exists() else []
    suite = [(p.get("name"), p.get("value")) for p in tree.getroot().iterfind("testsuite/properties/property")] \
        if tree is not None else []
    return Result(tool, code, out, outcomes, dict(cases), lines, suite)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """project -> (pytest's Result, dx-py's Result), each project run once per session."""
    done = {}

    def get(project):
        if project.name not in done:
            root = make(tmp_path_factory.mktemp(project.name, numbered=True), project.files)
            py = run("pytest", root, list(project.args))
            dx = None if PYTEST_ONLY else run("dx-py", root, [*project.args, *project.dx_args])
            done[project.name] = (py, dx)
        return [r for r in done[project.name] if r is not None]

    return get


def verify_semantic(r, sem):
    diff = []
    for nodeid, want in sem.outcomes.items():
        name = junit_name(nodeid)
        want = "passed" if want == "xpassed" else want
        got = r.outcomes.get(name, "absent")
        if got != want:
            diff.append(f"  {nodeid}: expected {want}, got {got}")
    if diff:
        r.fail("outcomes differ:\n" + "\n".join(diff))
    for nodeid, lines in sem.texts.items():
        got = r.text(nodeid)
        missing = [ln for ln in lines if not any(ln in g for g in got)]
        if missing:
            r.fail(f"{nodeid}: lines missing from the failure text: {missing}\n--- the failure text:\n"
                   + "\n".join(got))
    for nodeid, props in sem.properties.items():
        if r.properties(nodeid) != props:
            r.fail(f"{nodeid}: JUnit properties {r.properties(nodeid)} != {props}")
    if sem.suite_properties is not None and r.suite_properties != sem.suite_properties:
        r.fail(f"the testsuite's JUnit properties {r.suite_properties} != {sem.suite_properties}")
    if sem.log is not None and r.log != sem.log:
        r.fail(f"the log differs:\n  expected {sem.log}\n  got      {r.log}")


def verify_whole(r, project):
    expected = {junit_name(n): ("passed" if o == "xpassed" else o) for n, o in project.expected().items()}
    diff = [f"  {n}: expected {expected.get(n, 'absent')}, got {r.outcomes.get(n, 'absent')}"
            for n in sorted(set(expected) | set(r.outcomes)) if expected.get(n) != r.outcomes.get(n)]
    if diff:
        r.fail("outcomes differ (JUnit names):\n" + "\n".join(diff))
    counts = collections.Counter(project.counts if project.counts is not None else project.expected().values())
    if r.counts != counts:
        r.fail(f"closing counts {dict(r.counts or {})} != {dict(counts)}")
    code = 1 if {"failed", "error"} & set(counts) else 0
    if r.code != code:
        r.fail(f"exit code {r.code} != {code}")


@pytest.mark.parametrize("project,semantic", [pytest.param(p, s, id=f"{p.name}-{s}")
                                              for p in PROJECTS for s in p.semantics])
def test_semantic(runs, project, semantic):
    for r in runs(project):  # pytest first: it validates the expectation
        verify_semantic(r, project.semantics[semantic])


@pytest.mark.parametrize("project", [pytest.param(p, id=p.name) for p in PROJECTS])
def test_whole_project(runs, project):
    for r in runs(project):
        verify_whole(r, project)
