"""The Python API of `import dx_py_test_runner as dx`: discover, run, graph, FixtureCache,
on small projects written for each test."""
import os
import subprocess
import sys
import textwrap

import pytest

import dx_py_test_runner as dx

PROJECT = {
    "app/__init__.py": "",
    "app/core.py": "def add(a, b):\n    return a + b\n",
    "app/other.py": "X = 1\n",
    "tests/test_core.py": """
        import pytest
        from app.core import add

        def test_add():
            assert add(1, 2) == 3

        @pytest.mark.parametrize("n", [1, 2])
        def test_param(n):
            assert n < 2

        class TestK:
            def test_skip(self):
                pytest.skip("not today")

        @pytest.mark.xfail
        def test_xfail():
            assert 0
    """,
    "tests/test_other.py": """
        from app.other import X

        def test_x():
            assert X == 1
    """,
}


@pytest.fixture
def root(tmp_path, monkeypatch):
    for rel, text in PROJECT.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_discover_lists_tests_without_importing(root):
    (root / "tests" / "test_boom.py").write_text("raise SystemExit('imported!')\n\ndef test_b():\n    pass\n")
    tests = dx.discover(["tests"])
    ids = [t.id.node_id for t in tests]
    assert ids == ["tests/test_boom.py::test_b", "tests/test_core.py::test_add", "tests/test_core.py::test_param[1]",
                   "tests/test_core.py::test_param[2]", "tests/test_core.py::TestK::test_skip",
                   "tests/test_core.py::test_xfail", "tests/test_other.py::test_x"]
    assert all(isinstance(t, dx.TestCase) for t in tests)
    assert [m.name for m in tests[5].markers] == ["xfail"]


def test_discover_filters_and_reports_errors(root):
    assert [t.id.name for t in dx.discover(["tests"], keyword="param and 2")] == ["test_param"]
    (root / "tests" / "test_bad.py").write_text("def test_(:\n")
    with pytest.raises(dx.CollectionError) as e:
        dx.discover(["tests"])
    assert "tests/test_bad.py" in str(e.value)
    assert len(e.value.tests) == 6
    assert len(dx.discover(["tests"], errors="ignore")) == 6
    with pytest.raises(ValueError, match="not_there"):
        dx.discover(["not_there"])


def test_run_gives_per_test_outcomes(root):
    result = dx.run(["tests"])
    assert result.exit_code == 1 and not result.ok
    outcomes = {t.node_id: t.outcome for t in result.tests}
    assert outcomes == {
        "tests/test_core.py::test_add": "passed",
        "tests/test_core.py::test_param[1]": "passed",
        "tests/test_core.py::test_param[2]": "failed",
        "tests/test_core.py::TestK::test_skip": "skipped",
        "tests/test_core.py::test_xfail": "xfailed",
        "tests/test_other.py::test_x": "passed",
    }
    assert "assert 2 < 2" in result["tests/test_core.py::test_param[2]"].details
    assert result["tests/test_core.py::TestK::test_skip"].message == "not today"
    assert "1 failed" in result.stdout
    assert [t.node_id for t in result.failed] == ["tests/test_core.py::test_param[2]"]


def test_run_passes_options(root):
    result = dx.run(["tests"], k="add or other", n=2)
    assert result.exit_code == 0
    assert sorted(t.node_id for t in result.tests) == ["tests/test_core.py::test_add", "tests/test_other.py::test_x"]
    assert dx.run(["tests"], cwd=root, args=["--no-such-option"]).exit_code == 4


def test_graph_affected(root):
    g = dx.graph(["tests"])
    assert os.path.realpath(g.rootdir) == os.path.realpath(str(root))
    affected = g.affected(["app/core.py"])
    assert affected.paths == ["tests/test_core.py"]
    assert affected[0].chain == ["app/core.py", "tests/test_core.py"]
    assert not affected.everything
    assert g.affected([str(root / "app" / "other.py")]).paths == ["tests/test_other.py"]
    assert "app/core.py" in g.dependencies("tests/test_core.py")
    assert g.test_files() == ["tests/test_core.py", "tests/test_other.py"]
    (root / "pytest.ini").write_text("[pytest]\n")
    assert dx.graph(["tests"]).affected(["pytest.ini"]).everything


def test_public_names_and_stubs():
    here = os.path.dirname(dx.__file__)
    for name in ("__init__.pyi", "_core.pyi", "_api.pyi", "py.typed"):
        assert os.path.exists(os.path.join(here, name)), name
    for name in dx.__all__:
        assert getattr(dx, name) is not None
    assert isinstance(dx.FixtureCache.for_rootdir("."), dx.FixtureCache)


def test_importing_the_package_loads_no_api_module():
    """A worker imports the package: the API's modules load only when used."""
    code = ("import sys, dx_py_test_runner; "
            "print(sorted(m for m in sys.modules if m.startswith('dx_py_test_runner.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "api" not in out and "fixture_cache" not in out  # ._api too
