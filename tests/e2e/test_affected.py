"""--affected-by and --changed: only the tests an edit can break, through the import graph."""
import os
import shutil
import subprocess

import pytest

FILES = {
    "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
    "pkg/__init__.py": "",
    "pkg/a.py": "def one():\n    return 1\n",
    "pkg/b.py": "from pkg import a\n\ndef two():\n    return a.one() + 1\n",
    "pkg/lazy.py": "def three():\n    import importlib\n    return importlib.import_module('pkg.a').one() + 2\n",
    "tests/test_a.py": "from pkg.a import one\n\ndef test_one():\n    assert one() == 1\n",
    "tests/test_b.py": "import pkg.b\n\ndef test_two():\n    assert pkg.b.two() == 2\n",
    "tests/test_lazy.py": "def test_three():\n    from pkg import lazy\n    assert lazy.three() == 3\n",
    "tests/test_plain.py": "def test_alone():\n    assert True\n",
    "tests/data/table.json": "{}\n",
}


def ids(run):
    return sorted(line for line in run.out.splitlines() if "::" in line)


def test_affected_by_selects_the_dependents_of_a_file(project):
    p = project.write(FILES)
    got = p.run("--affected-by", "pkg/a.py", "--collect-only", "-q")
    assert got.code == 0, got.out + got.err
    # test_lazy imports pkg.lazy inside a function, which imports pkg.a through importlib.
    assert ids(got) == ["tests/test_a.py::test_one", "tests/test_b.py::test_two", "tests/test_lazy.py::test_three"]
    assert "3/4 tests collected (1 deselected)" in got.out
    got = p.run("--affected-by", "pkg/b.py", "--collect-only", "-q")
    assert ids(got) == ["tests/test_b.py::test_two"]
    ran = p.run("--affected-by", "pkg/b.py")
    assert ran.code == 0 and "1 passed, 3 deselected" in ran.out, ran.out


def test_affected_by_explains_each_selection_under_v(project):
    p = project.write(FILES)
    got = p.run("--affected-by", "pkg/a.py", "--collect-only", "-v")
    assert "affected: pkg/a.py -> pkg/b.py -> tests/test_b.py" in got.err, got.err


def test_conftest_config_and_data_files(project):
    p = project.write({**FILES, "tests/conftest.py": "import pytest\n"})
    everything = ["tests/test_a.py::test_one", "tests/test_b.py::test_two", "tests/test_lazy.py::test_three",
                  "tests/test_plain.py::test_alone"]
    assert ids(p.run("--affected-by", "tests/conftest.py", "--collect-only", "-q")) == everything
    assert ids(p.run("--affected-by", "pyproject.toml", "--collect-only", "-q")) == everything
    # A data file the graph cannot place: the tests of its folder and below, never nothing.
    assert ids(p.run("--affected-by", "tests/data/table.json", "--collect-only", "-q")) == everything


def test_the_last_failures_come_along(project):
    p = project.write({**FILES, "tests/test_plain.py": "def test_alone():\n    assert False\n"})
    first = p.run()
    assert first.code == 1
    got = p.run("--affected-by", "pkg/b.py", "--collect-only", "-q")
    assert ids(got) == ["tests/test_b.py::test_two", "tests/test_plain.py::test_alone"]


def test_an_edit_is_seen_at_the_next_run(project):
    p = project.write(FILES)
    assert ids(p.run("--affected-by", "pkg/a.py", "--collect-only", "-q"))[0] == "tests/test_a.py::test_one"
    # test_plain starts to import pkg.a: the cached graph is brought up to date.
    (p.root / "tests" / "test_plain.py").write_text("import pkg.a\n\ndef test_alone():\n    assert pkg.a.one()\n")
    assert "tests/test_plain.py::test_alone" in ids(p.run("--affected-by", "pkg/a.py", "--collect-only", "-q"))
    # A corrupt graph file is rebuilt, never a crash.
    (p.root / ".dx-py" / "graph.dxig").write_bytes(b"garbage")
    got = p.run("--affected-by", "pkg/b.py", "--collect-only", "-v")
    assert got.code == 0 and "<Function test_two>" in got.out and "test_one" not in got.out, got.out + got.err
    assert "graph.dxig" in got.err and "rebuilt" in got.err
    assert ids(p.run("--affected-by", "pkg/b.py", "--collect-only", "-q")) == ["tests/test_b.py::test_two"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_selects_what_git_reports(project):
    p = project.write(FILES)

    def git(*args):
        subprocess.run(["git", *args], cwd=p.root, check=True, capture_output=True,
                       env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                                GIT_COMMITTER_EMAIL="t@t"))

    git("init", "-q")
    (p.root / ".gitignore").write_text(".dx-py/\n")
    # No commit yet: every file is new, so every test is affected.
    assert len(ids(p.run("--changed", "--collect-only", "-q"))) == 4
    git("add", "-A")
    assert len(ids(p.run("--changed", "--collect-only", "-q"))) == 4
    git("commit", "-qm", "start")
    assert ids(p.run("--changed", "--collect-only", "-q")) == []
    (p.root / "pkg" / "b.py").write_text("from pkg import a\n\ndef two():\n    return 1 + a.one()\n")
    assert ids(p.run("--changed", "--collect-only", "-q")) == ["tests/test_b.py::test_two"]
    # An untracked test file is a change too; a REF compares with that commit.
    (p.root / "tests" / "test_new.py").write_text("def test_new():\n    pass\n")
    assert ids(p.run("--changed", "--collect-only", "-q")) == ["tests/test_b.py::test_two",
                                                                "tests/test_new.py::test_new"]
    git("add", "-A")
    git("commit", "-qm", "edit")
    assert ids(p.run("--changed", "HEAD~1", "--collect-only", "-q")) == ["tests/test_b.py::test_two",
                                                                          "tests/test_new.py::test_new"]


def test_changed_outside_a_repository_is_a_usage_error(project):
    p = project.write(FILES)
    got = p.run("--changed", "--collect-only", "-q")
    assert got.code == 4
    assert "not in a git repository" in got.err
