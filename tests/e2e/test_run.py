import os
import subprocess

import pytest

from conftest import DX_PY

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_version():
    out = subprocess.run([DX_PY, "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith("dx-py 0.")


def test_example_project_passes():
    p = subprocess.run([DX_PY, "test"], cwd=os.path.join(REPO, "examples", "basic"), capture_output=True,
                       text=True, env=dict(os.environ, NO_COLOR="1"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "collected 9 items" in p.stdout
    assert p.stdout.rstrip().splitlines()[-1].startswith("=")
    assert "6 passed, 2 skipped, 1 xfailed in " in p.stdout


def test_failure_is_reported_with_traceback_and_output(project):
    project.write({"tests/test_a.py": """
        def test_ok():
            pass

        def test_bad():
            print("some output")
            x = 1
            assert x == 2
    """})
    r = project.run("-n", "1")  # one worker: pytest's progress layout, a line per file
    assert r.code == 1
    assert "tests/test_a.py .F" in r.out
    assert "FAILED tests/test_a.py::test_bad - assert 1 == 2" in r.out  # pytest's rewritten assert
    assert "Captured stdout call" in r.out and "some output" in r.out
    assert "1 failed, 1 passed in " in r.out


def test_syntax_error_is_a_collection_error_and_the_rest_runs(project):
    project.write({
        "test_good.py": "def test_fine():\n    pass\n",
        "test_broken.py": "def test_x():\n    pass\n\ndef test_y(:\n    pass\n",
    })
    r = project.run("--continue-on-collection-errors")
    assert r.code == 1
    assert "ERROR collecting test_broken.py" in r.out
    assert "test_broken.py:4" in r.out
    assert "1 passed, 1 error in " in r.out


def test_segfault_is_crashed_and_other_results_survive(project):
    project.write({"test_crash.py": """
        import ctypes

        def test_before():
            pass

        def test_segfault():
            ctypes.string_at(0)

        def test_after():
            pass
    """})
    r = project.run()
    assert r.code == 1
    assert "CRASHED test_crash.py::test_segfault - worker crashed while running this test: signal 11 (SIGSEGV)" in r.out
    assert "1 passed" not in r.out and "2 passed, 1 crashed in " in r.out


def test_os_exit_is_crashed_with_its_code(project):
    project.write({"test_exit.py": """
        import os

        def test_exit():
            os._exit(3)

        def test_next():
            pass
    """})
    r = project.run()
    assert r.code == 1
    assert "exit code 3" in r.out
    assert "1 passed, 1 crashed in " in r.out


def test_classes_unittest_skip_and_xfail_outcomes(project):
    project.write({"test_kinds.py": """
        import unittest
        import pytest

        class TestPlain:
            def test_m(self):
                assert isinstance(self, TestPlain)

        class Case(unittest.TestCase):
            def test_u(self):
                self.assertEqual(1, 1)

            def test_u_fails(self):
                self.assertEqual(1, 2)

        def test_skip_call():
            pytest.skip("not today")

        @pytest.mark.xfail(strict=True)
        def test_strict_xpass():
            pass

        def test_runtime_xfail():
            pytest.xfail("known")
    """})
    r = project.run("-v")
    assert "test_kinds.py::TestPlain::test_m PASSED" in r.out
    assert "test_kinds.py::Case::test_u PASSED" in r.out
    assert "test_kinds.py::Case::test_u_fails FAILED" in r.out
    assert "test_kinds.py::test_skip_call SKIPPED" in r.out
    assert "test_kinds.py::test_strict_xpass FAILED" in r.out
    assert "test_kinds.py::test_runtime_xfail XFAIL" in r.out
    assert r.code == 1


def test_node_id_selection(project):
    project.write({"test_sel.py": """
        def test_one():
            pass

        def test_two():
            pass

        class TestC:
            def test_three(self):
                pass
    """})
    r = project.run("test_sel.py::test_two", "test_sel.py::TestC")
    assert r.code == 0
    assert "collected 2 items" in r.out


def test_collect_only_prints_node_ids(project):
    project.write({"pkg/test_c.py": "def test_a():\n    pass\n\nclass TestK:\n    def test_b(self):\n        pass\n"})
    r = project.run("--collect-only", "-q")
    assert r.code == 0
    assert r.out.splitlines()[:2] == ["pkg/test_c.py::test_a", "pkg/test_c.py::TestK::test_b"]
    assert "2 tests collected in " in r.out


def test_collect_only_tree_and_counts_like_pytest(project):
    project.write({
        "pkg/__init__.py": "",
        "pkg/test_p.py": "import unittest\n\nclass Case(unittest.TestCase):\n    def test_u(self):\n        pass\n",
        "tests/test_t.py": "class TestK:\n    def test_b(self):\n        pass\n",
    })
    tree = project.run("--collect-only")
    assert tree.code == 0
    body = tree.out.split("collected 2 items\n\n", 1)[1]
    assert body.splitlines()[:9] == [
        f"<Dir {project.root.name}>",
        "  <Package pkg>",
        "    <Module test_p.py>",
        "      <UnitTestCase Case>",
        "        <TestCaseFunction test_u>",
        "  <Dir tests>",
        "    <Module test_t.py>",
        "      <Class TestK>",
        "        <Function test_b>",
    ]
    assert " 2 tests collected in " in tree.out.splitlines()[-1]
    counts = project.run("--collect-only", "-qq")
    assert counts.out.splitlines() == ["pkg/test_p.py: 1", "tests/test_t.py: 1"]


def test_no_tests_is_exit_5(project):
    project.write({"helper.py": "x = 1\n"})
    r = project.run()
    assert r.code == 5
    assert "no tests ran in " in r.out


def test_unknown_flag_is_a_usage_error(project):
    r = project.run("--no-such-flag")
    assert r.code == 4
    assert "usage:" in r.err


def test_help_lists_every_flag_of_the_plan_and_none_as_not_yet():
    out = subprocess.run([DX_PY, "test", "--help"], capture_output=True, text=True).stdout
    for flag in ("--collect-only", "-k", "--junit-xml", "--watch", "--update-snapshots", "--shard", "--retries",
                 "--clear-cache", "--ci", "--maxfail", "--durations", "--tb"):
        assert flag in out
    assert "(not yet)" not in out


def test_import_error_is_reported_as_error(project):
    project.write({"test_imp.py": "import no_such_module_xyz\n\ndef test_a():\n    pass\n"})
    r = project.run()
    assert r.code == 1
    assert "ModuleNotFoundError" in r.out


def test_missing_interpreter_is_an_internal_error(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    r = project.run("--python", "/nonexistent/python3")
    assert r.code == 3
    assert "/nonexistent/python3" in r.err


def test_collection_error_stops_the_run_as_in_pytest(project):
    project.write({
        "test_good.py": "def test_fine():\n    pass\n",
        "test_broken.py": "def test_y(:\n    pass\n",
    })
    r = project.run()
    assert r.code == 2
    assert "ERROR collecting test_broken.py" in r.out
    assert "Interrupted: 1 error during collection" in r.out
    assert "1 error in " in r.out and "passed" not in r.out


def test_an_option_of_a_conftest_is_accepted_and_unknown_ones_are_not(project):
    project.write({
        "conftest.py": """
            def pytest_addoption(parser):
                parser.addoption("--runslow", action="store_true", default=False)
        """,
        "test_a.py": "def test_a():\n    pass\n",
    })
    assert project.run("--runslow").code == 0
    r = project.run("--runfast")
    assert r.code == 4
    assert "unrecognized arguments: --runfast" in r.err


GC_PROJECT = {
    "tests/test_gc.py": """
        import gc
        import os
        import weakref

        def test_first():
            pass

        def test_frozen_after_the_first_test():
            print("FROZEN", gc.get_freeze_count() > 0)

        def test_new_garbage_is_still_collected():
            class Node:
                pass

            n = Node()
            n.self = n
            ref = weakref.ref(n)
            del n
            gc.collect()
            assert ref() is None
    """,
}


@pytest.mark.parametrize("how, frozen", [("default", True), ("config", False), ("env", False)])
def test_imported_objects_are_frozen_after_the_first_test_unless_turned_off(project, how, frozen):
    files = dict(GC_PROJECT)
    if how == "config":
        files["pyproject.toml"] = "[tool.dx-py]\ngc_freeze = false\n"
    project.write(files)
    env = {"DXPY_GC_FREEZE": "0"} if how == "env" else {}
    p = subprocess.run([DX_PY, "test", "-n", "1", "-s"], cwd=project.root, capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR="1", **env), timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"FROZEN {frozen}" in p.stdout
    assert "3 passed" in p.stdout


def test_worker_warnings_are_printed_once_after_the_run_not_in_a_tests_output(project):
    """An unsupported conftest hook is named in a warning on every run, passing or not, once
    however many workers found it; it is not part of any test's captured output or JUnit."""
    project.write({
        "conftest.py": """
            def pytest_runtest_makereport(item, call):
                pass
        """,
        "test_a.py": "def test_ok():\n    pass\n\ndef test_bad():\n    assert 0\n",
        "test_b.py": "def test_ok():\n    pass\n",
    })
    warning = "hook pytest_runtest_makereport is not supported by the dx-py worker; not run"
    for workers in ("1", "2"):
        r = project.run("-n", workers, "--junit-xml=report.xml")
        assert r.code == 1, r.out + r.err
        assert r.err.count(warning) == 1, r.err
        assert f"dx-py: warning: {project.root / 'conftest.py'}: {warning}" in r.err
        assert warning not in r.out  # not in test_bad's "Captured stderr"
        junit = (project.root / "report.xml").read_text()
        assert warning not in junit
    p = project.run("-n", "1", "test_b.py")  # a passing run says it too
    assert p.code == 0 and p.err.count(warning) == 1
