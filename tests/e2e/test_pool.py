"""The worker pool: -n, preloads, durations, and a worker whose channel goes away."""
import json
import os


def test_preload_modules_are_imported_before_the_first_test(project):
    project.write({
        "pyproject.toml": '[tool.dx-py]\npreload = ["heavy_preload"]\n',
        "heavy_preload.py": "import os\nLOADED_BY = os.getpid()\n",
        "test_p.py": """
            import os, sys

            def test_preloaded():
                mod = sys.modules.get("heavy_preload")
                assert mod is not None and mod.LOADED_BY == os.getpid()
        """,
    })
    r = project.run("-n", "1")
    assert r.code == 0, r.out + r.err
    assert "1 passed" in r.out


def test_a_failing_preload_is_a_warning_not_a_failure(project):
    project.write({
        "pyproject.toml": '[tool.dx-py]\npreload = ["no_such_module_here"]\n',
        "test_p.py": "def test_ok():\n    pass\n",
    })
    r = project.run("-n", "1")
    assert r.code == 0, r.out + r.err
    assert "1 passed" in r.out


def test_n_workers_each_run_a_share(project):
    files = {}
    for i in range(4):
        files[f"test_m{i}.py"] = "".join(
            f"import os, time\ndef test_{j}():\n    time.sleep(0.05)\n    print('PID', os.getpid())\n    assert 0\n"
            for j in range(3)
        )
    project.write(files)
    r = project.run("-n", "2")
    assert r.code == 1
    assert "12 failed" in r.out
    pids = {line.split()[1] for line in r.out.splitlines() if line.startswith("PID ")}
    assert len(pids) == 2, pids


def test_bad_n_is_a_usage_error(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    r = project.run("-n", "two")
    assert r.code == 4
    assert "numprocesses" in r.err


def test_slow_test_durations_are_remembered(project):
    project.write({"test_d.py": "import time\ndef test_slow():\n    time.sleep(0.02)\n\ndef test_fast():\n    pass\n"})
    r = project.run("-n", "1")
    assert r.code == 0, r.out + r.err
    lines = json.loads((project.root / ".dx-py" / "durations.json").read_text())
    assert "test_d.py::test_slow" in lines and lines["test_d.py::test_slow"] >= 0.02
    assert "test_d.py::test_fast" not in lines  # too fast to matter for ordering


def test_a_test_that_closes_the_channel_is_crashed_and_the_rest_run(project):
    project.write({"test_c.py": """
        import os

        def test_before():
            pass

        def test_closes_channel():
            for fd in (3, 4, 5):
                try:
                    os.close(fd)
                except OSError:
                    pass

        def test_after():
            pass
    """})
    r = project.run("-n", "1", "-v")
    # Its result still travels through the shared ring (the sockets only wake the other
    # side), so it may pass; if the worker is lost first it is crashed. Either way every
    # test has exactly one result, and the others pass.
    assert "test_c.py::test_before PASSED" in r.out
    assert "test_c.py::test_after PASSED" in r.out
    lines = [l for l in r.out.splitlines() if l.startswith("test_c.py::test_closes_channel ")]
    assert len(lines) == 1 and (" PASSED " in lines[0] or " CRASHED " in lines[0]), r.out
    assert "3 passed in" in r.out or "2 passed, 1 crashed in" in r.out
    assert r.code == (0 if "3 passed in" in r.out else 1)


def test_worker_interpreter_that_does_not_start_is_an_internal_error(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    r = project.run("--python", "/bin/false")
    assert r.code == 3
    assert "did not start" in r.err
