"""Run-control flags with pytest's meaning (issue 8): -x/--maxfail, -s/--capture, --tb, -l,
--durations, --retries/--fail-on-flaky, and pytest's exit codes. Where a comparison makes
sense the same project runs under real pytest first, so the expectation is pytest's own
behaviour, then under dx-py."""
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import DX_PY

PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]


def run_pytest(project, *args):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PYTEST_ADDOPTS", None)
    # On CI ($CI, $BUILD_NUMBER) pytest's short summary keeps whole multi-line messages, and so
    # does dx-py's: both see the same environment (test_short_summary_messages_on_and_off_ci).
    p = subprocess.run([*PYTEST, *args], cwd=project.root, capture_output=True, text=True, timeout=120, env=env)
    return p.returncode, p.stdout


def counts(out):
    """The closing line's words: {"failed": 1, "passed": 2}."""
    last = out.rstrip().splitlines()[-1]
    return {w: int(n) for n, w in re.findall(r"(\d+) (\w+)", last.split(" in ")[0])}


def section(out, title):
    """The lines of `out` between the "= title =" separator and the next "=" separator."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(rf"=+ {re.escape(title)} =+", line))
    end = next(i for i in range(start + 1, len(lines)) if re.fullmatch(r"=+ .* =+", lines[i]))
    return lines[start + 1:end]


MANY = "".join(f"def test_after_{i}():\n    pass\n\n" for i in range(40))

STOP_PROJECT = {"test_stop.py": """
def test_first():
    pass

def test_second():
    assert 1 == 2

def test_third():
    assert 0, "third"

""" + MANY}


@pytest.mark.parametrize("args,failed", [(("-x",), 1), (("--maxfail", "2"), 2), (("--maxfail=2", "-x"), 1),
                                         (("-x", "--maxfail=2"), 2)])
def test_stop_after_failures_as_pytest(project, args, failed):
    project.write(STOP_PROJECT)
    code, out = run_pytest(project, *args)
    stop = f"stopping after {failed} failures"
    assert code == 1 and counts(out) == {"failed": failed, "passed": 1}, out
    pytest_stop_line = next(line for line in out.splitlines() if stop in line)
    # One worker: the batch of 43 tests was handed to it; none after the stop may report.
    r = project.run("-n", "1", *args)
    assert r.code == 1, r.out + r.err
    assert counts(r.out) == {"failed": failed, "passed": 1}, r.out
    assert pytest_stop_line in r.out.splitlines()
    assert "test_after_" not in r.out
    # pytest's order: short summary, then the stop line, then the counts.
    tail = r.out.rstrip().splitlines()
    last_failed = max(i for i, line in enumerate(tail) if line.startswith("FAILED "))
    assert tail[-2] == pytest_stop_line  # (on CI a message's further lines follow its FAILED line)
    assert last_failed < len(tail) - 2 and not any(line.startswith("=") for line in tail[last_failed:-2])


def test_stop_kills_busy_workers_and_leaves_nothing_running(project):
    """Tests already sent to other workers are cut off: no result after the stop, and
    their processes (and the children they started) are gone when dx-py exits."""
    project.write({
        # It fails once the slow tests run (and have started their children) elsewhere.
        "test_fail.py": """
            import glob, time

            def test_fails():
                deadline = time.monotonic() + 20
                while len(glob.glob("pids_*")) < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert False
        """,
        **{f"test_slow_{i}.py": f"""
            import os, subprocess, sys, time

            def test_slow():
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
                with open("pids_{i}", "w") as f:
                    f.write(f"{{os.getpid()}} {{child.pid}}")
                time.sleep(30)
        """ for i in range(3)},
    })
    # Three workers: the failure ends the run while the slow tests are running elsewhere.
    start = time.monotonic()
    r = project.run("-n", "3", "-x")
    took = time.monotonic() - start
    assert r.code == 1, r.out + r.err
    assert took < 25, took
    assert counts(r.out) == {"failed": 1}, r.out
    assert "stopping after 1 failures" in r.out
    pids = [int(p) for f in project.root.glob("pids_*") for p in f.read_text().split()]
    assert len(pids) >= 4, pids  # two slow tests and their children were running at the stop
    for pid in pids:
        for _ in range(50):
            if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"process {pid} outlived dx-py")


def test_maxfail_counts_setup_errors_not_xfail(project):
    project.write({"test_e.py": """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("setup")

        @pytest.mark.xfail
        def test_xfail():
            assert 0

        def test_error(broken):
            pass

        def test_never():
            pass
    """})
    code, out = run_pytest(project, "-x")
    assert code == 1 and counts(out) == {"xfailed": 1, "error": 1}, out
    r = project.run("-n", "1", "-x")
    assert r.code == 1 and counts(r.out) == {"xfailed": 1, "error": 1}, r.out
    assert "stopping after 1 failures" in r.out


def test_maxfail_invalid_is_usage_error(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    code, _ = run_pytest(project, "--maxfail=many")
    r = project.run("--maxfail=many")
    assert code == 4 and r.code == 4, r.out + r.err


TB_PROJECT = {"test_tb.py": """
    import pytest

    def helper(x):
        y = x + 1
        assert y == 3, "bad"

    def test_one():
        a = 1
        print("hello out")
        helper(a)

    @pytest.fixture
    def broken():
        raise ValueError("nope")

    def test_err(broken):
        pass

    def test_ok():
        pass
"""}


@pytest.mark.parametrize("style", ["auto", "long", "short", "line"])
@pytest.mark.parametrize("showlocals", [False, True])
def test_tb_style_sections_as_pytest(project, style, showlocals):
    project.write(TB_PROJECT)
    extra = ("-l",) if showlocals else ()
    code, out = run_pytest(project, f"--tb={style}", *extra)
    r = project.run("-n", "1", f"--tb={style}", *extra)
    assert code == r.code == 1, r.out + r.err
    assert titled(section(r.out, "FAILURES")) == titled(section(out, "FAILURES"))
    assert titled(section(r.out, "ERRORS")) == titled(section(out, "ERRORS"))
    assert section(r.out, "short test summary info") == section(out, "short test summary info")


MULTILINE_PROJECT = {"test_m.py": """
def f():
    return 1

def test_rewritten():
    assert f() == 2

def test_raised():
    raise ValueError("line one\\nline two")

def test_failed():
    import pytest
    pytest.fail("first\\nsecond", pytrace=False)
"""}


@pytest.mark.parametrize("on_ci,verbose", [(False, ()), (True, ()), (False, ("-vv",))])
def test_short_summary_messages_on_and_off_ci(project, on_ci, verbose):
    """pytest prints a failure's whole message in the short summary on CI and with -vv, its
    first line otherwise."""
    project.write(MULTILINE_PROJECT)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "BUILD_NUMBER", "PYTEST_ADDOPTS")}
    env.update(NO_COLOR="1", **({"CI": "true"} if on_ci else {}))
    ran = [subprocess.run(cmd + [*verbose], cwd=project.root, capture_output=True, text=True, timeout=120,
                          env=env) for cmd in (PYTEST, [DX_PY, "test", "-n", "1"])]
    want, got = (section(p.stdout, "short test summary info") for p in ran)
    assert got == want, ran[1].stdout
    assert ("line two" in want) == (on_ci or bool(verbose))


def titled(lines):
    """Without the blank line pytest prints under a report's "___ title ___" when the first
    entry is in long form: dx-py's console does not print it (a difference of the default
    layout, not of --tb)."""
    return [line for i, line in enumerate(lines)
            if not (line == "" and i and re.fullmatch(r"_+ .* _+", lines[i - 1]))]


def test_tb_no_shows_no_sections_as_pytest(project):
    project.write(TB_PROJECT)
    code, out = run_pytest(project, "--tb=no")
    r = project.run("-n", "1", "--tb=no")
    assert code == r.code == 1
    for title in ("FAILURES", "ERRORS"):
        assert f" {title} " not in out and f" {title} " not in r.out
    assert section(r.out, "short test summary info") == section(out, "short test summary info")


def test_tb_native_is_pythons_traceback(project):
    project.write(TB_PROJECT)
    r = project.run("-n", "1", "--tb=native")
    assert r.code == 1
    failures = "\n".join(section(r.out, "FAILURES"))
    assert "Traceback (most recent call last):" in failures
    assert 'line 11, in test_one' in failures and 'line 6, in helper' in failures
    assert "AssertionError: bad" in failures
    assert "dx_py_test_runner" not in failures  # the worker's own frames are left out


def test_tb_unknown_style_is_usage_error(project):
    project.write(TB_PROJECT)
    code, _ = run_pytest(project, "--tb=fancy")
    r = project.run("--tb=fancy")
    assert code == r.code == 4, r.err


CAPTURE_PROJECT = {"test_cap.py": """
    import os

    def test_prints():
        print("printed-by-the-test")
        os.write(1, b"written-to-fd-1\\n")

    def test_capsys_still_works(capsys):
        print("seen by capsys")
        assert capsys.readouterr().out == "seen by capsys\\n"

    def test_capfd_still_works(capfd):
        os.write(1, b"seen by capfd\\n")
        assert capfd.readouterr().out == "seen by capfd\\n"

    def test_fails():
        print("output-of-a-failure")
        assert 0
"""}


@pytest.mark.parametrize("flag", ["-s", "--capture=no"])
def test_no_capture_output_goes_to_the_terminal(project, flag):
    project.write(CAPTURE_PROJECT)
    code, out = run_pytest(project, flag)
    assert code == 1 and "printed-by-the-test" in out and "Captured stdout" not in out
    r = project.run("-n", "1", flag)
    assert r.code == 1, r.out + r.err
    assert counts(r.out) == counts(out) == {"failed": 1, "passed": 3}
    assert "printed-by-the-test" in r.out and "written-to-fd-1" in r.out
    assert r.out.index("collected 4 items") < r.out.index("printed-by-the-test")  # the header first
    assert "output-of-a-failure" in r.out and "Captured stdout" not in r.out
    assert "seen by capsys" not in r.out and "seen by capfd" not in r.out


def test_default_capture_keeps_output_in_the_report(project):
    project.write(CAPTURE_PROJECT)
    r = project.run("-n", "1", "--capture=fd")
    assert r.code == 1
    assert "printed-by-the-test" not in r.out
    assert "Captured stdout call" in r.out and "output-of-a-failure" in r.out


DURATIONS_PROJECT = {"test_d.py": """
    import time
    import pytest

    @pytest.fixture
    def slow_setup():
        time.sleep(0.12)
        yield
        time.sleep(0.06)

    def test_slow_call():
        time.sleep(0.25)

    def test_slow_setup(slow_setup):
        pass

    def test_fast():
        pass
"""}

DURATION_LINE = re.compile(r"(\d+\.\d\d)s (setup|call|teardown) +(\S+)")


def durations_of(out, title):
    return [(when, node, float(secs)) for secs, when, node in
            (DURATION_LINE.fullmatch(line).groups() for line in section(out, title) if DURATION_LINE.fullmatch(line))]


def test_durations_as_pytest(project):
    project.write(DURATIONS_PROJECT)
    code, out = run_pytest(project, "--durations=3")
    r = project.run("-n", "1", "--durations=3")
    assert code == r.code == 0, r.out + r.err
    want = [(when, node) for when, node, _ in durations_of(out, "slowest 3 durations")]
    got = durations_of(r.out, "slowest 3 durations")
    assert [(when, node) for when, node, _ in got] == want == [
        ("call", "test_d.py::test_slow_call"), ("setup", "test_d.py::test_slow_setup"),
        ("teardown", "test_d.py::test_slow_setup")]
    assert got[0][2] >= 0.25 and 0.12 <= got[1][2] < 0.25
    # The section comes before the short summary's place, the counts last.
    assert r.out.index("slowest 3 durations") < r.out.rindex("3 passed")


def test_durations_zero_lists_all_and_hides_short_ones_as_pytest(project):
    project.write(DURATIONS_PROJECT)
    code, out = run_pytest(project, "--durations=0")
    r = project.run("-n", "1", "--durations=0")
    assert code == r.code == 0
    hidden = re.compile(r"\((\d+) durations < 0\.005s hidden\.  Use -vv to show these durations\.\)")
    assert hidden.search(out) and hidden.search(r.out), r.out
    assert hidden.search(r.out).group(1) == hidden.search(out).group(1)
    r = project.run("-n", "1", "--durations=0", "--durations-min=0.1")
    lines = section(r.out, "slowest durations")
    assert [line.split()[1] for line in lines if DURATION_LINE.fullmatch(line)] == ["call", "setup"]
    assert "(7 durations < 0.1s hidden.)" in lines


FLAKY_PROJECT = {"test_f.py": """
    import os

    def test_flaky():
        n = int(os.environ.get("FLAKY_RUNS", "1"))
        path = "flaky_count"
        seen = int(open(path).read()) if os.path.exists(path) else 0
        open(path, "w").write(str(seen + 1))
        assert seen + 1 >= n, f"run {seen + 1}"

    def test_ok():
        pass
"""}


def run_flaky(project, runs, *args):
    (project.root / "flaky_count").unlink(missing_ok=True)
    os.environ["FLAKY_RUNS"] = str(runs)
    try:
        return project.run("-n", "1", *args)
    finally:
        del os.environ["FLAKY_RUNS"]


def test_retries_report_a_flaky_test_and_exit_zero(project):
    project.write(FLAKY_PROJECT)
    r = run_flaky(project, 2, "--retries", "2", "--junit-xml=out.xml")
    assert r.code == 0, r.out + r.err
    assert counts(r.out) == {"passed": 1, "flaky": 1}
    assert "test_f.py R." in r.out
    case = ET.parse(project.root / "out.xml").find(".//testcase[@name='test_flaky']")
    assert case is not None and case.find("failure") is None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props == {"dx-py.flaky": "passed on run 2 of 3"}
    assert (project.root / "flaky_count").read_text() == "2"
    r = run_flaky(project, 2, "--retries=2", "--fail-on-flaky", "-v")
    assert r.code == 1 and "test_f.py::test_flaky FLAKY" in r.out


def test_retries_give_up_after_n_and_fail(project):
    project.write(FLAKY_PROJECT)
    r = run_flaky(project, 5, "--retries", "2")
    assert r.code == 1
    assert counts(r.out) == {"failed": 1, "passed": 1}
    assert (project.root / "flaky_count").read_text() == "3"  # the first run and two retries
    assert "AssertionError: run 3" in r.out
    r = run_flaky(project, 2)  # no retries: as pytest
    assert r.code == 1 and counts(r.out) == {"failed": 1, "passed": 1}


def test_retries_default_from_tool_dx_py(project):
    project.write({**FLAKY_PROJECT, "pyproject.toml": "[tool.dx-py]\nretries = 1\n"})
    r = run_flaky(project, 2)
    assert r.code == 0 and counts(r.out) == {"passed": 1, "flaky": 1}, r.out
    r = run_flaky(project, 2, "--retries=0")
    assert r.code == 1
    project.write({"pyproject.toml": "[tool.dx-py]\nretries = \"two\"\n"})
    r = run_flaky(project, 2)
    assert r.code == 4 and "retries" in r.err


@pytest.mark.parametrize("name,files,args,code", [
    ("ok", {"test_a.py": "def test_a():\n    pass\n"}, (), 0),
    ("failed", {"test_a.py": "def test_a():\n    assert 0\n"}, (), 1),
    ("interrupted", {"test_a.py": "def test_a(:\n    pass\n"}, (), 2),
    ("usage", {"test_a.py": "def test_a():\n    pass\n"}, ("--tb=bogus",), 4),
    ("no tests", {"test_a.py": "x = 1\n"}, (), 5),
    ("all deselected", {"test_a.py": "def test_a():\n    pass\n"}, ("-k", "nothing"), 5),
])
def test_exit_codes_as_pytest(project, name, files, args, code):
    project.write(files)
    got, out = run_pytest(project, *args)
    assert got == code, out
    r = project.run(*args)
    assert r.code == code, r.out + r.err


def test_exit_code_internal_error(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    r = project.run("--python", str(project.root / "no-such-python"))
    assert r.code == 3, r.out + r.err
    assert "cannot start a worker" in r.err or "did not start" in r.err


def test_capture_sys_takes_python_output_only_as_pytest(project):
    project.write(CAPTURE_PROJECT)
    code, out = run_pytest(project, "--capture=sys")
    r = project.run("-n", "1", "--capture=sys")
    assert code == r.code == 1, r.out + r.err
    assert counts(r.out) == counts(out)
    for text in (out, r.out):
        assert "written-to-fd-1" in text  # fd-level writes are not captured
        assert "printed-by-the-test" not in text
        assert section(text, "FAILURES")[-1] == "output-of-a-failure"  # the captured print of the failure


def test_capture_tee_sys_shows_and_keeps_as_pytest(project):
    project.write(CAPTURE_PROJECT)
    code, out = run_pytest(project, "--capture=tee-sys")
    r = project.run("-n", "1", "--capture=tee-sys")
    assert code == r.code == 1, r.out + r.err
    for text in (out, r.out):
        assert "printed-by-the-test" in text
        # On the terminal, and in the report (the traceback's source line aside).
        assert text.count("output-of-a-failure") - text.count('print("output-of-a-failure")') == 2
