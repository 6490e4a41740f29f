"""--lf, --ff and --lfnf across runs, and the store they read, `.dx-py/lastfailed`, as pytest's
cacheprovider keeps `cache/lastfailed` (the status lines are pytest 9's)."""
import os
import subprocess

import pytest

from conftest import DX_PY

TWO_FILES = {
    "test_a.py": """
        def test_fail():
            assert 0

        def test_pass():
            pass
    """,
    "test_b.py": """
        def test_ok():
            pass
    """,
}

HEADER = "dx-py lastfailed 1\n"


def stored(project):
    """The node ids in the store, or None when it is not a whole file of its format."""
    path = project.root / ".dx-py" / "lastfailed"
    if not path.exists():
        return set()
    lines = path.read_text().splitlines()
    if not lines or lines[0] + "\n" != HEADER or lines[-1] != f"end {len(lines) - 2}":
        return None
    return set(lines[1:-1])


def ran(r):
    """The node ids a -v run reported, in the order of its lines."""
    words = ("PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS", "CRASHED", "TIMEOUT")
    return [line.split()[0] for line in r.out.splitlines()
            if "::" in line and len(line.split()) >= 2 and line.split()[1] in words]


def test_lf_runs_only_the_last_failures_until_they_pass(project):
    project.write(TWO_FILES)
    first = project.run()
    assert first.code == 1
    assert stored(project) == {"test_a.py::test_fail"}

    again = project.run("--lf", "-v")
    assert again.code == 1, again.out + again.err
    assert "collected 1 item\nrun-last-failure: rerun previous 1 failure (skipped 1 file)\n" in again.out
    assert ran(again) == ["test_a.py::test_fail"]
    assert "1 failed in " in again.out

    # Fixed: --lf runs it once more, and then nothing is known to fail.
    project.write({"test_a.py": """
        def test_fail():
            assert 1 == 1  # fixed

        def test_pass():
            pass
    """})
    fixed = project.run("--lf", "-v")
    assert fixed.code == 0, fixed.out + fixed.err
    assert ran(fixed) == ["test_a.py::test_fail"]
    assert stored(project) == set()
    assert (project.root / ".dx-py" / "lastfailed").read_text() == HEADER + "end 0\n"

    after = project.run("--lf", "-v")
    assert after.code == 0
    assert "collected 3 items\nrun-last-failure: no previously failed tests, not deselecting items.\n" in after.out
    assert sorted(ran(after)) == ["test_a.py::test_fail", "test_a.py::test_pass", "test_b.py::test_ok"]


def test_lf_with_paths_and_keywords_as_pytest(project):
    project.write(TWO_FILES)
    project.run()
    named = project.run("--lf", "test_a.py")  # the rest of a named file is deselected
    assert "collected 2 items / 1 deselected / 1 selected\nrun-last-failure: rerun previous 1 failure\n" in named.out
    assert "1 failed, 1 deselected in " in named.out

    elsewhere = project.run("--lf", "test_b.py")
    assert elsewhere.code == 0
    assert "run-last-failure: 1 known failures not in selected tests\n" in elsewhere.out
    assert "1 passed in " in elsewhere.out

    keyword = project.run("--lf", "-k", "pass")  # -k first, then --lf
    assert keyword.code == 5
    assert ("collected 1 item / 1 deselected / 0 selected\n"
            "run-last-failure: 1 known failures not in selected tests (skipped 1 file)\n") in keyword.out
    assert stored(project) == {"test_a.py::test_fail"}  # not run: kept

    listed = project.run("--lf", "--collect-only", "-q")
    assert listed.out.splitlines()[0] == "test_a.py::test_fail"
    assert "1 test collected" in listed.out


def test_ff_runs_the_last_failures_first(project):
    # One worker and a log file: the order the tests ran in. The slow module goes first
    # by durations; the failures go ahead of it with --ff, and first within their module.
    project.write({
        "conftest.py": """
            import os

            def log(name):
                with open(os.path.join(os.path.dirname(__file__), "order.log"), "a") as f:
                    f.write(name + "\\n")
        """,
        "test_0_slow.py": """
            import time
            from conftest import log

            def test_slow():
                log("slow")
                time.sleep(0.3)
        """,
        "test_a.py": """
            from conftest import log

            def test_a_pass():
                log("a_pass")

            def test_a_fail():
                log("a_fail")
                assert 0
        """,
        "test_b.py": """
            from conftest import log

            def test_b_pass():
                log("b_pass")

            def test_b_fail():
                log("b_fail")
                assert 0
        """,
    })
    log = project.root / "order.log"
    project.run("-n", "1")
    assert stored(project) == {"test_a.py::test_a_fail", "test_b.py::test_b_fail"}
    log.unlink()
    plain = project.run("-n", "1")
    assert log.read_text().split()[0] == "slow"  # longest first, from .dx-py/durations.json
    log.unlink()
    assert "run-last-failure" not in plain.out

    r = project.run("-n", "1", "--ff")
    assert r.code == 1
    assert "collected 5 items\nrun-last-failure: rerun previous 2 failures first\n" in r.out
    order = log.read_text().split()
    assert order[0] in ("a_fail", "b_fail")
    assert order.index("a_fail") < order.index("a_pass") and order.index("b_fail") < order.index("b_pass")
    assert order.index("slow") > max(order.index("a_fail"), order.index("b_fail"))
    assert sorted(order) == ["a_fail", "a_pass", "b_fail", "b_pass", "slow"]


def test_lfnf_none_runs_nothing_without_failures(project):
    project.write({"test_ok.py": "def test_ok():\n    pass\n"})
    r = project.run("--lf", "--lfnf", "none")
    assert r.code == 5
    assert "collected 1 item / 1 deselected / 0 selected\n" in r.out
    assert "run-last-failure: no previously failed tests, deselecting all items.\n" in r.out
    assert project.run("--lf", "--last-failed-no-failures", "all").code == 0
    bad = project.run("--lfnf", "some")
    assert bad.code == 4


@pytest.mark.parametrize("damage", ["garbage", "truncated", "pytest-json", "empty", "count"])
def test_a_damaged_store_is_ignored_and_rewritten(project, damage):
    project.write(TWO_FILES)
    project.run()
    path = project.root / ".dx-py" / "lastfailed"
    whole = path.read_bytes()
    path.write_bytes({
        "garbage": b"\x00\xff\xfe not a store \x01",
        "truncated": whole[:-4],
        "pytest-json": b'{"test_a.py::test_fail": true}',
        "empty": b"",
        "count": whole.replace(b"end 1", b"end 7"),
    }[damage])
    r = project.run("--lf", "-v")
    assert r.code == 1, r.out + r.err
    assert "run-last-failure: no previously failed tests, not deselecting items." in r.out
    assert "lastfailed is damaged" in r.err
    assert len(ran(r)) == 3
    assert stored(project) == {"test_a.py::test_fail"}  # rewritten whole by the run


def test_tests_that_no_longer_exist(project):
    project.write({
        "test_a.py": "def test_gone():\n    assert 0\n\ndef test_stays():\n    assert 0\n",
        "test_old.py": "def test_old():\n    assert 0\n",
        "test_b.py": "def test_ok():\n    pass\n",
    })
    project.run()
    assert stored(project) == {"test_a.py::test_gone", "test_a.py::test_stays", "test_old.py::test_old"}
    # A failing test renamed, and a file removed: their entries can match nothing.
    project.write({"test_a.py": "def test_renamed():\n    assert 0\n\ndef test_stays():\n    assert 0\n\n"})
    (project.root / "test_old.py").unlink()
    r = project.run("--lf", "-v")
    assert "run-last-failure: rerun previous 1 failure (skipped 1 file)" in r.out
    assert ran(r) == ["test_a.py::test_stays"]
    assert stored(project) == {"test_a.py::test_stays"}  # the stale entries left

    # A parameter that is gone, of a function still there (pytest keeps such an entry).
    project.write({"test_p.py": """
        import pytest

        @pytest.mark.parametrize("i", [1, 2, 3])
        def test_p(i):
            assert i != 2
    """})
    project.run("test_p.py")
    assert stored(project) == {"test_a.py::test_stays", "test_p.py::test_p[2]"}
    project.write({"test_p.py": """
        import pytest

        @pytest.mark.parametrize("i", [1, 3, 4])
        def test_p(i):
            assert i != 2
    """})
    r = project.run("--lf", "test_p.py", "-v")
    assert r.code == 0
    assert sorted(ran(r)) == ["test_p.py::test_p[1]", "test_p.py::test_p[3]", "test_p.py::test_p[4]"]
    assert stored(project) == {"test_a.py::test_stays"}


def test_runtime_parameters_run_again_by_their_function(project):
    project.write({"test_r.py": """
        import pytest

        VALUES = list(range(3))

        @pytest.mark.parametrize("i", VALUES)
        def test_r(i):
            assert i != 1

        def test_other():
            pass
    """})
    project.run()
    assert stored(project) == {"test_r.py::test_r[1]"}
    r = project.run("--lf", "-v")
    assert r.code == 1
    assert sorted(ran(r)) == ["test_r.py::test_r[0]", "test_r.py::test_r[1]", "test_r.py::test_r[2]"]
    assert stored(project) == {"test_r.py::test_r[1]"}


def test_collection_error_keeps_the_module_until_it_collects(project):
    project.write({
        "test_c.py": "def test_x():\n    pass\n\ndef test_y(:\n    pass\n",
        "test_ok.py": "def test_ok():\n    pass\n",
    })
    r = project.run()
    assert r.code == 2
    assert stored(project) == {"test_c.py"}
    still = project.run("--lf")
    assert still.code == 2
    assert "run-last-failure: 1 known failures not in selected tests" in still.out
    assert stored(project) == {"test_c.py"}
    project.write({"test_c.py": "def test_x():\n    pass\n\ndef test_y():\n    assert 0\n"})
    fixed = project.run("--lf", "-v")
    assert "collected 3 items / 1 deselected / 2 selected\nrun-last-failure: rerun previous 2 failures\n" in fixed.out
    assert sorted(ran(fixed)) == ["test_c.py::test_x", "test_c.py::test_y"]
    assert stored(project) == {"test_c.py::test_y"}


def test_errors_crashes_and_timeouts_are_failures(project):
    project.write({"test_f.py": """
        import os
        import time
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("setup")

        def test_error(broken):
            pass

        def test_crash():
            os._exit(3)

        def test_hang():
            time.sleep(60)

        def test_teardown_error(request):
            request.addfinalizer(lambda: 1 / 0)

        @pytest.mark.xfail
        def test_xfail():
            assert 0

        def test_skip():
            pytest.skip("no")
    """})
    r = project.run("--timeout", "1")
    assert r.code == 1
    assert stored(project) == {"test_f.py::test_error", "test_f.py::test_crash", "test_f.py::test_hang",
                               "test_f.py::test_teardown_error"}


def test_concurrent_runs_keep_both_results(project):
    project.write({
        "test_a.py": "import time\n\ndef test_a():\n    time.sleep(0.3)\n    assert 0\n",
        "test_b.py": "import time\n\ndef test_b():\n    time.sleep(0.3)\n    assert 0\n",
    })
    project.run("--collect-only")  # the index, once
    env = dict(os.environ, NO_COLOR="1")
    runs = [subprocess.Popen([DX_PY, "test", f], cwd=project.root, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env) for f in ("test_a.py", "test_b.py")]
    assert [p.wait(timeout=60) for p in runs] == [1, 1]
    assert stored(project) == {"test_a.py::test_a", "test_b.py::test_b"}


def test_tests_see_the_flags_through_getoption(project):
    project.write({"test_opts.py": """
        def test_flags(request):
            c = request.config
            print("FLAGS", c.getoption("lf"), c.getoption("--ff"), c.getoption("last_failed_no_failures"))
            assert 0
    """})
    r = project.run("-n", "1")
    assert "FLAGS False False all" in r.out, r.out
    r = project.run("--lf", "--lfnf", "none", "-n", "1")  # the failure of the first run runs again
    assert "FLAGS True False none" in r.out, r.out
    r = project.run("--ff", "-n", "1")
    assert "FLAGS False True all" in r.out, r.out
