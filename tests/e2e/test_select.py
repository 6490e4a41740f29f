"""Selection as pytest does it: configuration files, testpaths, python_files, -k, -m,
node ids, glob patterns, and usage errors with exit code 4."""

SUITE = {
    "tests/test_a.py": """
        import pytest

        def test_alpha():
            pass

        @pytest.mark.slow
        def test_beta():
            pass

        class TestGroup:
            @pytest.mark.slow
            @pytest.mark.net
            def test_gamma(self):
                pass

            def test_delta(self):
                pass
    """,
    "other/check_b.py": "def test_other():\n    pass\n",
}


def ids(run):
    return [line for line in run.out.splitlines() if "::" in line]


def test_keyword_expression(project):
    project.write(SUITE)
    r = project.run("--collect-only", "-q", "-k", "group and not gamma", "tests")
    assert ids(r) == ["tests/test_a.py::TestGroup::test_delta"]
    assert "1/4 tests collected (3 deselected)" in r.out


def test_mark_expression_and_deselected_in_summary(project):
    project.write(SUITE)
    r = project.run("-m", "slow and not net", "tests")
    assert r.code == 0
    assert "collected 4 items / 3 deselected / 1 selected" in r.out
    assert "1 passed, 3 deselected in " in r.out


def test_an_empty_parameter_id_is_selected_by_its_node_id(project):
    # parametrize("x", ["", "a"]) is test_x[] and test_x[a] in pytest.
    project.write({"test_e.py": """
        import pytest

        @pytest.mark.parametrize("x", ["", "a"])
        def test_x(x):
            pass
    """})
    assert ids(project.run("--collect-only", "-q", "test_e.py::test_x[]")) == ["test_e.py::test_x[]"]
    assert ids(project.run("--collect-only", "-q", "test_e.py::test_x")) == ["test_e.py::test_x[]",
                                                                            "test_e.py::test_x[a]"]
    assert ids(project.run("--collect-only", "-q", "-k", "test_x[]")) == ["test_e.py::test_x[]"]
    r = project.run("-v", "test_e.py::test_x[]")
    assert r.code == 0
    assert "test_e.py::test_x[] PASSED" in r.out and "1 passed in " in r.out


def test_bad_expression_is_a_usage_error(project):
    project.write(SUITE)
    r = project.run("-k", "alpha and")
    assert r.code == 4
    assert "Wrong expression passed to '-k'" in r.err


def test_missing_path_is_a_usage_error(project):
    project.write(SUITE)
    r = project.run("tests/nope.py")
    assert r.code == 4
    assert "file or directory not found: tests/nope.py" in r.err


def test_config_python_files_and_testpaths(project):
    project.write(dict(SUITE, **{"pytest.ini": "[pytest]\ntestpaths = other\npython_files = check_*.py\n"}))
    r = project.run("--collect-only", "-q")
    assert ids(r) == ["other/check_b.py::test_other"]
    tree = project.run("--collect-only")
    assert "configfile: pytest.ini" in tree.out


def test_pyproject_python_functions_and_classes(project):
    project.write({
        "pyproject.toml": '[tool.pytest.ini_options]\npython_functions = ["check_*"]\npython_classes = ["*Suite"]\n',
        "test_c.py": "def check_one():\n    pass\n\ndef test_not():\n    pass\n\nclass MySuite:\n    def check_two(self):\n        pass\n",
    })
    r = project.run("--collect-only", "-q")
    assert ids(r) == ["test_c.py::check_one", "test_c.py::MySuite::check_two"]


def test_glob_pattern_selects_matching_node_ids(project):
    project.write(SUITE)
    r = project.run("--collect-only", "-q", "tests/*::TestGroup::*")
    assert ids(r) == ["tests/test_a.py::TestGroup::test_gamma", "tests/test_a.py::TestGroup::test_delta"]


def test_broken_config_is_a_usage_error_naming_the_file(project):
    project.write(dict(SUITE, **{"pyproject.toml": "[tool.pytest.ini_options\ntestpaths = 1\n"}))
    r = project.run("--collect-only")
    assert r.code == 4
    assert "pyproject.toml" in r.err


def test_inheritance_across_files(project):
    project.write({
        "tests/__init__.py": "",
        "tests/base.py": "class BaseChecks:\n    def test_shared(self):\n        pass\n",
        "tests/test_impl.py": "from .base import BaseChecks as Base\n\nclass TestImpl(Base):\n    def test_own(self):\n        pass\n",
    })
    r = project.run("--collect-only", "-q")
    assert ids(r) == ["tests/test_impl.py::TestImpl::test_shared", "tests/test_impl.py::TestImpl::test_own"]


def test_editing_a_base_class_in_another_file_refreshes_its_subclasses(project):
    project.write({
        "tests/__init__.py": "",
        "tests/base.py": "class BaseChecks:\n    def test_shared(self):\n        pass\n",
        "tests/test_impl.py": "from tests.base import BaseChecks\n\nclass TestImpl(BaseChecks):\n    pass\n",
    })
    first = project.run("--collect-only", "-q")
    assert ids(first) == ["tests/test_impl.py::TestImpl::test_shared"]
    project.write({"tests/base.py": "class BaseChecks:\n    def test_shared(self):\n        pass\n\n"
                                    "    def test_added(self):\n        pass\n"})
    second = project.run("--collect-only", "-q")
    assert ids(second) == ["tests/test_impl.py::TestImpl::test_shared", "tests/test_impl.py::TestImpl::test_added"]
    third = project.run("--collect-only", "-v")
    assert "1 files from the index, 0 re-hashed, 0 parsed" in third.err


def test_a_run_on_part_of_the_tree_keeps_the_rest_of_the_index(project):
    project.write({"a/test_a.py": "def test_a():\n    pass\n", "b/test_b.py": "def test_b():\n    pass\n"})
    project.run("--collect-only")
    project.run("--collect-only", "a")
    r = project.run("--collect-only", "-v")
    assert "2 files from the index, 0 re-hashed, 0 parsed" in r.err
