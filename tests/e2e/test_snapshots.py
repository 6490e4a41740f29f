"""Snapshot testing end to end: dx.snapshot() and the snapshot fixture, written, matched,
a mismatch's diff, --update-snapshots, unused entries on full runs only, --ci, and several
workers and runs writing one .snap file."""
import os
import re
import subprocess

from conftest import DX_PY

TESTS = '''
import dx_py_test_runner as dx

def test_one():
    dx.snapshot({"b": [1, 2], "a": "x"})

def test_two(snapshot):
    assert {"k": {3, 1}} == snapshot
    assert "second" == snapshot(name="named")
'''


def snap_text(project, rel="tests/__snapshots__/test_m.snap"):
    return (project.root / rel).read_text()


def closing(out):
    return out.strip().splitlines()[-1]


def test_first_run_writes_then_matches(project):
    project.write({"pytest.ini": "[pytest]\n", "tests/test_m.py": TESTS})
    r = project.run("-q")
    assert r.code == 0, r.out + r.err
    assert re.search(r"2 passed, 3 snapshots written in", closing(r.out)), r.out
    text = snap_text(project)
    assert text.splitlines()[1:] == [
        "== tests/test_m.py::test_one | 1", "  {", "    'a': 'x',", "    'b': [", "      1,", "      2,", "    ],", "  }",
        "== tests/test_m.py::test_two | 1", "  {", "    'k': {", "      1,", "      3,", "    },", "  }",
        "== tests/test_m.py::test_two | named", "  'second'"]
    assert (project.root / ".dx-py" / "snapshots.idx").exists()
    again = project.run("-q")
    assert again.code == 0 and re.search(r"2 passed in", closing(again.out)), again.out
    assert snap_text(project) == text
    assert list((project.root / ".dx-py" / "snapshot-runs").iterdir()) == []  # records removed


def test_mismatch_fails_with_a_unified_diff_and_update_accepts_it(project):
    project.write({"pytest.ini": "[pytest]\n", "tests/test_m.py": TESTS})
    assert project.run("-q").code == 0
    project.write({"tests/test_m.py": TESTS.replace('"a": "x"', '"a": "y"').replace('"second"', '"2nd"')})
    r = project.run()
    assert r.code == 1, r.out
    assert "-  'a': 'x'," in r.out and "+  'a': 'y'," in r.out, r.out
    assert "snapshot '1' of tests/test_m.py::test_one does not match" in r.out
    assert "-'second'" in r.out and "+'2nd'" in r.out  # the fixture's == explained by the same diff
    assert re.search(r"2 failed in", closing(r.out)), r.out
    u = project.run("-q", "--update-snapshots")
    assert u.code == 0 and "2 snapshots updated" in closing(u.out), u.out
    assert "'a': 'y'" in snap_text(project)
    ok = project.run("-q")
    assert ok.code == 0 and "snapshot" not in closing(ok.out), ok.out


def test_unused_entries_are_reported_on_full_runs_and_deleted_with_update(project):
    project.write({"pytest.ini": "[pytest]\n", "tests/test_m.py": TESTS,
                   "tests/test_other.py": "import dx_py_test_runner as dx\ndef test_o():\n    dx.snapshot(1)\n"})
    assert project.run("-q").code == 0
    project.write({"tests/test_m.py": TESTS.split("def test_two")[0]})  # test_two is gone
    os.remove(project.root / "tests" / "test_other.py")  # and a whole module
    r = project.run("-q")
    assert r.code == 0, r.out
    assert "tests/__snapshots__/test_m.snap: tests/test_m.py::test_two | named" in r.out
    assert "tests/__snapshots__/test_other.snap: tests/test_other.py::test_o | 1" in r.out
    assert "3 snapshots unused" in closing(r.out), r.out
    assert "test_two" in snap_text(project)  # only reported
    # A partial run neither reports nor deletes, even with -u.
    p = project.run("-q", "-u", "tests/test_m.py::test_one")
    assert p.code == 0 and "unused" not in p.out and "deleted" not in p.out, p.out
    assert "test_two" in snap_text(project)
    k = project.run("-q", "-u", "-k", "one")
    assert "deleted" not in k.out and "test_two" in snap_text(project)
    d = project.run("-q", "-u")
    assert d.code == 0 and "3 snapshots deleted" in closing(d.out), d.out
    assert "test_two" not in snap_text(project) and "test_one" in snap_text(project)
    assert not (project.root / "tests" / "__snapshots__" / "test_other.snap").exists()
    assert "unused" not in project.run("-q").out


def test_failed_and_skipped_tests_keep_their_entries(project):
    project.write({"pytest.ini": "[pytest]\n", "test_k.py": '''
import dx_py_test_runner as dx
import pytest, os

def test_a():
    if os.environ.get("FAIL_EARLY"):
        assert False
    dx.snapshot("a")

def test_b():
    if os.environ.get("FAIL_EARLY"):
        pytest.skip("later")
    dx.snapshot("b")
'''})
    assert project.run("-q").code == 0
    os.environ["FAIL_EARLY"] = "1"
    try:
        r = project.run("-q")
    finally:
        del os.environ["FAIL_EARLY"]
    assert r.code == 1 and "unused" not in r.out, r.out


def test_ci_refuses_to_write_a_missing_snapshot(project):
    project.write({"pytest.ini": "[pytest]\n", "tests/test_m.py": TESTS})
    r = project.run("-q", "--ci")
    assert r.code == 1, r.out
    assert "does not exist" in r.out and "--ci never writes snapshots" in r.out
    assert not (project.root / "tests" / "__snapshots__" / "test_m.snap").exists()
    assert project.run("-q").code == 0  # written outside CI
    ok = project.run("-q", "--ci")
    assert ok.code == 0, ok.out


def test_ci_fails_a_full_run_with_unused_snapshots_and_never_deletes_them(project):
    project.write({"pytest.ini": "[pytest]\n", "tests/test_m.py": TESTS})
    assert project.run("-q").code == 0
    project.write({"tests/test_m.py": TESTS.split("def test_two")[0]})  # test_two's two entries unused
    before = snap_text(project)
    r = project.run("-q", "--ci")
    assert r.code == 1, r.out
    assert "unused snapshots (--ci fails on them" in r.out, r.out
    assert "tests/__snapshots__/test_m.snap: tests/test_m.py::test_two | named" in r.out
    assert re.search(r"1 passed, 2 snapshots unused in", closing(r.out)), r.out
    assert snap_text(project) == before  # reported, never deleted
    # A partial run cannot tell unused entries: it passes.
    part = project.run("-q", "--ci", "-k", "one")
    assert part.code == 0 and "unused" not in part.out, part.out
    # Without --ci unused entries are only reported.
    assert project.run("-q").code == 0
    # -u cannot be combined with --ci: a usage error, as pytest's, and nothing written.
    u = project.run("-q", "--ci", "-u")
    assert u.code == 4 and "cannot be combined with --ci" in u.err, u.out + u.err
    assert snap_text(project) == before
    assert project.run("-q", "-u").code == 0
    ok = project.run("-q", "--ci")
    assert ok.code == 0 and "unused" not in ok.out, ok.out


def test_a_hand_edited_snap_file_is_read_again(project):
    project.write({"pytest.ini": "[pytest]\n", "test_h.py": "import dx_py_test_runner as dx\n"
                                                             "def test_h():\n    dx.snapshot('v1')\n"})
    assert project.run("-q").code == 0
    path = project.root / "__snapshots__" / "test_h.snap"
    path.write_text(path.read_text().replace("'v1'", "'v2'"))
    r = project.run("-q")
    assert r.code == 1 and "-'v2'" in r.out and "+'v1'" in r.out, r.out
    path.write_text("garbage\n")
    bad = project.run("-q")
    assert bad.code == 1 and "test_h.snap" in bad.out and "line 1" in bad.out, bad.out


MANY = "import time\nimport dx_py_test_runner as dx\n" + "".join(
    f"def test_{i}():\n    time.sleep(0.02)\n    dx.snapshot({i})\n" for i in range(40))


def test_two_workers_write_into_one_snap_file(project):
    project.write({"pytest.ini": "[pytest]\n", "test_many.py": MANY})
    r = project.run("-q", "-n", "2")
    assert r.code == 0 and "40 snapshots written" in closing(r.out), r.out
    assert snap_text(project, "__snapshots__/test_many.snap").count("\n== ") == 40
    assert "40 passed in" in closing(project.run("-q", "-n", "2").out)


def test_two_runs_at_once_write_into_one_snap_file(project):
    project.write({"pytest.ini": "[pytest]\n", "test_many.py": MANY})
    env = dict(os.environ, NO_COLOR="1")
    runs = [subprocess.Popen([DX_PY, "test", "-q", "-n", "1", "-k", expr], cwd=project.root, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for expr in ("test_1 or test_2 or test_3", "not (test_1 or test_2 or test_3)")]
    outs = [p.communicate(timeout=120) for p in runs]
    assert all(p.returncode == 0 for p in runs), outs
    text = snap_text(project, "__snapshots__/test_many.snap")
    assert text.count("\n== ") == 40
    assert "40 passed in" in closing(project.run("-q").out)


def test_entries_written_in_a_run_are_held_per_module_and_all_land(project):
    # Workers hold the entries they write into one .snap file and write them together when
    # their checks move on to the next module and at their end: every entry of every module
    # lands, and a second check of a name written moments before compares with that value.
    modules = {f"tests/test_w{m}.py": "import dx_py_test_runner as dx\n" + "".join(
        f"def test_{i}():\n    dx.snapshot({{'m': {m}, 'i': {i}}})\n" for i in range(15)) for m in range(4)}
    modules["tests/test_twice.py"] = ("import dx_py_test_runner as dx\n"
                                      "def test_twice():\n    dx.snapshot('first', name='x')\n"
                                      "    dx.snapshot('second', name='x')\n")
    project.write({"pytest.ini": "[pytest]\n", **modules})
    r = project.run("-q", "-n", "2")
    assert r.code == 1, r.out
    assert "60 passed" in closing(r.out) and "1 failed" in closing(r.out) and "61 snapshots written" in closing(r.out), r.out
    assert "-'first'" in r.out and "+'second'" in r.out, r.out
    for m in range(4):
        text = snap_text(project, f"tests/__snapshots__/test_w{m}.snap")
        assert text.count("\n== ") == 15 and f"'m': {m}," in text, text
    again = project.run("-q", "-n", "2", "-k", "not test_twice")
    assert again.code == 0 and re.search(r"^60 passed, 1 deselected in", closing(again.out)), again.out


def test_a_snapshots_folder_symlinked_outside_the_project_is_never_read_or_written(project, tmp_path_factory):
    """docs/security.md: a cloned project's __snapshots__ symlink must not make a run (or -u,
    or the unused-entry cleanup) read, write or delete files elsewhere."""
    outside = tmp_path_factory.mktemp("outside")  # not under project.root
    planted = "== tests/test_m.py::test_one | 1\n  'secret'\n== tests/test_m.py::gone | 1\n  'x'\n"
    (outside / "test_m.snap").write_text(planted)
    project.write({"pytest.ini": "[pytest]\n", "tests/test_m.py": TESTS})
    os.symlink(outside, project.root / "tests" / "__snapshots__")
    for args in (["-v"], ["-v", "-u"]):
        r = project.run(*args)
        assert r.code == 1, r.out + r.err
        assert "tests/test_m.py::test_one FAILED" in r.out and "tests/test_m.py::test_two FAILED" in r.out, r.out
        assert "refused snapshot path tests/__snapshots__/test_m.snap" in r.out, r.out
        assert "outside the rootdir" in r.out, r.out
    assert (outside / "test_m.snap").read_text() == planted
    assert sorted(os.listdir(outside)) == ["test_m.snap"]
    # Inside the project, a symlinked folder is fine.
    os.remove(project.root / "tests" / "__snapshots__")
    (project.root / "snaps").mkdir()
    os.symlink("../snaps", project.root / "tests" / "__snapshots__")
    r = project.run("-q")
    assert r.code == 0, r.out + r.err
    assert (project.root / "snaps" / "test_m.snap").exists()
