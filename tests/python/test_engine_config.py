"""The worker's Config (DXPY_CONFIG) as conftests see it: getoption, getini, addoption,
addini, addinivalue_line; and hook calling order."""
import pytest

from dx_py_test_runner.worker.config import Config, Parser
from dx_py_test_runner.worker.fixtures import FixtureManager
from dx_py_test_runner.worker.hooks import HookManager


def make(**data):
    data.setdefault("rootdir", "/r")
    return Config(data)


def test_builtin_options_and_their_flags():
    c = make(options={"verbose": 2, "keyword": "a and b", "markexpr": "slow"})
    assert c.getoption("verbose") == 2 and c.getoption("-v") == 2
    assert c.getoption("keyword") == "a and b" and c.getoption("-m") == "slow"
    assert c.option.runxfail is False and c.getoption("--tb") == "auto"
    with pytest.raises(ValueError, match="no option named 'nope'"):
        c.getoption("nope")
    assert c.getoption("nope", "dflt") == "dflt"


def test_conftest_options_defaults_and_command_line():
    c = make(args=["tests", "--env=prod", "-F", "--n", "4", "--tag", "a", "--tag", "b"])
    parser = Parser(c)
    parser.addoption("--env", default="dev")
    parser.getgroup("mine").addoption("-F", "--fast", action="store_true")
    parser.addoption("--n", type=int, default=1)
    parser.addoption("--tag", action="append", default=[])
    parser.addoption("--unused", action="store_false", dest="used")
    assert c.getoption("--env") == "prod" and c.getoption("env") == "prod" and c.option.env == "prod"
    assert c.getoption("--fast") is True and c.getoption("-F") is True
    assert c.getoption("n") == 4
    assert c.getoption("--tag") == ["a", "b"]
    assert c.getoption("--unused") is True and c.option.used is True


def test_ini_values_by_type():
    c = make(ini={"markers": ["slow: slow ones", "db"], "usefixtures": "a\n b", "addopts": "-q --tb=short",
                  "custom": "text", "xfail_strict": "true", "timeout": "5"},
             markers=["slow: slow ones", "db"], xfail_strict=True)
    assert "slow: slow ones" in c.getini("markers") and any(m.startswith("skip(") for m in c.getini("markers"))
    assert c.getini("usefixtures") == ["a", "b"]
    assert c.getini("addopts") == ["-q", "--tb=short"]
    assert c.getini("custom") == "text"
    assert c.getini("xfail_strict") is True
    assert c.getini("python_files") == ["test_*.py", "*_test.py"]
    with pytest.raises(ValueError, match="unknown configuration value"):
        c.getini("not_a_key")
    parser = Parser(c)
    parser.addini("timeout", "seconds", type="int", default=1)
    parser.addini("greeting", "hi", default="hello")
    parser.addini("paths_list", "", type="linelist")
    assert c.getini("timeout") == 5 and c.getini("greeting") == "hello" and c.getini("paths_list") == []
    c.addinivalue_line("markers", "new: a new one")
    assert "new: a new one" in c.getini("markers")


def test_strict_markers_comes_from_the_ini_or_strict():
    assert make().strict_markers is False
    assert make(ini={"strict_markers": "true"}).strict_markers is True
    assert make(strict=True).strict_markers is True


def test_hooks_run_in_pluggys_order_with_only_the_arguments_they_name():
    calls = []

    class First:
        @staticmethod
        def pytest_runtest_setup(item):
            calls.append(("first", item))

    First.pytest_runtest_setup.pytest_impl = {"tryfirst": True}

    class Early:
        @staticmethod
        def pytest_runtest_setup():
            calls.append(("early",))

    class Late:
        @staticmethod
        def pytest_runtest_setup(item):
            calls.append(("late", item))

    c = make()
    hooks = HookManager(c, FixtureManager(c))
    for name, plugin in (("first", First), ("early", Early), ("late", Late)):
        hooks.register_plugin(plugin, name)
    hooks.call("pytest_runtest_setup", item="it")
    assert calls == [("first", "it"), ("late", "it"), ("early",)]


def test_an_unsupported_hook_is_named_in_a_warning():
    class Plugin:
        @staticmethod
        def pytest_runtest_makereport(item, call):
            pass

        @staticmethod
        def pytest_report_header(config):
            pass

    from dx_py_test_runner.worker import hooks

    hooks.take_warnings()
    c = make()
    HookManager(c, FixtureManager(c)).register_plugin(Plugin, "myplugin")
    err = "\n".join(hooks.take_warnings())  # sent with the next result (main.py)
    assert "myplugin: hook pytest_runtest_makereport is not supported by the dx-py worker" in err
    assert "myplugin: hook pytest_report_header is not supported" in err
