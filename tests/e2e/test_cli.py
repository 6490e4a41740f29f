"""Command-line behaviour a pytest user relies on: addopts, -p, flags given twice."""
import os
import subprocess
import sys


def _project(project, ini):
    return project.write({
        "pytest.ini": ini,
        "test_a.py": "def test_foo():\n    pass\n\ndef test_bar():\n    pass\n\ndef test_baz():\n    pass\n",
    })


def test_addopts_apply_and_unknown_plugin_options_are_dropped(project):
    _project(project, '[pytest]\naddopts = -v -p no:cacheprovider --cov src -ra --tb=short -k "foo or bar"\n')
    r = project.run("-n", "1")
    assert r.code == 0, r.out + r.err
    assert "test_a.py::test_foo PASSED" in r.out and "test_a.py::test_bar PASSED" in r.out
    assert "2 passed, 1 deselected" in r.out
    assert "addopts: ignoring --cov src (not a dx-py option)" in r.err  # -v shows the notes
    assert "--tb=short" not in r.err  # a dx-py option now: applied, not dropped


def test_command_line_overrides_addopts(project):
    _project(project, '[pytest]\naddopts = -k foo\n')
    r = project.run("-n", "1", "-k", "baz")
    assert r.code == 0, r.out + r.err
    assert "1 passed, 2 deselected" in r.out


def test_pytest_addopts_environment_variable(project):
    _project(project, "[pytest]\n")
    env_before = os.environ.get("PYTEST_ADDOPTS")
    os.environ["PYTEST_ADDOPTS"] = "-k bar"
    try:
        r = project.run("-n", "1")
    finally:
        if env_before is None:
            del os.environ["PYTEST_ADDOPTS"]
        else:
            os.environ["PYTEST_ADDOPTS"] = env_before
    assert r.code == 0, r.out + r.err
    assert "1 passed, 2 deselected" in r.out


def test_p_no_plugin_is_accepted_and_other_plugins_warn(project):
    _project(project, "[pytest]\n")
    r = project.run("-n", "1", "-p", "no:cacheprovider", "-p", "xdist")
    assert r.code == 0, r.out + r.err
    assert "3 passed" in r.out
    assert "-p xdist: dx-py does not load pytest plugins" in r.err
    assert "note: -p no:cacheprovider: dx-py loads no pytest plugins, so there is nothing to disable; ignored" in r.err
    # From addopts, where it is common, the note needs -v.
    project.write({"pytest.ini": "[pytest]\naddopts = -p no:cacheprovider\n"})
    quiet = project.run("-n", "1")
    assert quiet.code == 0 and "cacheprovider" not in quiet.err, quiet.err
    loud = project.run("-n", "1", "-v")
    assert "note: -p no:cacheprovider" in loud.err, loud.err


def test_co_is_collect_only_as_pytest(project):
    _project(project, "[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    pytest_ids = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q"],
                                cwd=project.root, capture_output=True, text=True, timeout=120, env=env)
    want = [line for line in pytest_ids.stdout.splitlines() if "::" in line]
    short = project.run("--co", "-q")
    long = project.run("--collect-only", "-q")
    assert short.code == long.code == pytest_ids.returncode == 0, short.out + short.err
    assert short.out == long.out
    assert [line for line in short.out.splitlines() if "::" in line] == want
