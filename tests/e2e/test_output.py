"""Output, help, usage errors and [tool.dx-py]: what a pytest user sees, on a terminal and off."""
import os
import pty
import re
import select
import subprocess
import time

from conftest import DX_PY

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

TESTS = {
    "test_a.py": "def test_one():\n    pass\n\ndef test_two():\n    pass\n",
    "test_b.py": "def test_bad():\n    assert 1 == 2\n",
}


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PY_COLORS", "CI", "COLUMNS")}
    env.update(extra)
    return env


def _run(root, *args, **env):
    p = subprocess.run([DX_PY, "test", *args], cwd=root, capture_output=True, text=True, timeout=60, env=_env(**env))
    return p.returncode, p.stdout, p.stderr


def _run_on_pty(root, *args, **env):
    """Runs dx-py with its stdout and stderr on a pseudo-terminal; returns (exit code, raw output)."""
    leader, follower = pty.openpty()
    p = subprocess.Popen([DX_PY, "test", *args], cwd=root, stdin=subprocess.DEVNULL, stdout=follower,
                         stderr=follower, env=_env(**env), close_fds=True)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if not ready:
            if p.poll() is not None:
                break
            continue
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return p.wait(timeout=10), b"".join(chunks).decode("utf-8", "replace")


# ---- usage errors -----------------------------------------------------------------------------

def test_unknown_flag_is_pytests_usage_error_with_a_suggestion(project):
    project.write(TESTS)
    r = project.run("--maxfial=2", "--colr", "yes")
    assert r.code == 4
    assert r.err.startswith("ERROR: usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]\n"), r.err
    assert "dx-py: error: unrecognized arguments: --maxfial=2 --colr\n" in r.err
    assert "  --maxfial: did you mean --maxfail?\n" in r.err
    assert "  --colr: did you mean --color?\n" in r.err
    assert "  inifile: None\n" in r.err and f"  rootdir: {project.root}\n" in r.err
    assert r.out == ""


def test_unknown_flag_far_from_any_gets_no_suggestion(project):
    project.write(dict(TESTS, **{"pytest.ini": "[pytest]\n"}))
    r = project.run("--frobnicate")
    assert r.code == 4
    assert "unrecognized arguments: --frobnicate" in r.err
    assert "did you mean" not in r.err
    assert f"  inifile: {project.root / 'pytest.ini'}\n" in r.err


def test_a_conftests_option_is_not_unknown(project):
    project.write(dict(TESTS, **{
        "conftest.py": "def pytest_addoption(parser):\n    parser.addoption('--stage', default='dev')\n",
        "test_b.py": "def test_stage(request):\n    assert request.config.getoption('--stage') == 'prod'\n",
    }))
    r = project.run("-n", "1", "--stage=prod")
    assert r.code == 0, r.out + r.err
    assert "3 passed" in r.out


def test_p_no_plugin_is_ignored_with_a_note(project):
    project.write({"test_a.py": TESTS["test_a.py"]})
    r = project.run("-n", "1", "-p", "no:randomly", "-v")
    assert r.code == 0, r.out + r.err
    assert "dx-py: note: -p no:randomly: dx-py loads no pytest plugins, so there is nothing to disable; ignored" \
        in r.err
    project.write({"test_b.py": TESTS["test_b.py"]})
    r = project.run("-n", "1", "-p", "no:randomly", "-p", "no:cacheprovider", "test_a.py")
    assert r.code == 0, r.out + r.err  # -p takes one name: test_a.py stays a path
    assert "2 passed in" in r.out


# ---- help -------------------------------------------------------------------------------------

def _help_sections(text):
    sections, name = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            name = line[:-1]
            sections[name] = []
        elif name and line.startswith("  -"):
            sections[name].append(line.split("  ", 2)[1].strip() if "  " in line[2:] else line.strip())
    return sections


def test_help_has_pytests_groups_and_flag_names(project):
    p = subprocess.run([DX_PY, "test", "--help"], capture_output=True, text=True, env=_env())
    assert p.returncode == 0
    out = p.stdout
    assert out.startswith("usage: dx-py test [options] [file_or_dir] [file_or_dir] [...]\n")
    assert "\npositional arguments:\n  file_or_dir" in out
    sections = _help_sections(out)
    order = [s for s in sections if s != "positional arguments"]
    expected = ["general", "Reporting", "collection", "test session debugging and configuration",
                "distributed and subprocess testing"]
    assert order[:len(expected)] == expected, order
    assert "dx-py" in order
    # pytest's names for the flags, in pytest's groups.
    flat = {g: " ".join(v) for g, v in sections.items()}
    for group, flag in [("general", "-k EXPRESSION"), ("general", "-m MARKEXPR"), ("general", "--lf, --last-failed"),
                        ("general", "--ff, --failed-first"), ("general", "--strict-markers"),
                        ("Reporting", "-v, --verbose"), ("Reporting", "-q, --quiet"), ("Reporting", "--color=color"),
                        ("Reporting", "--junit-xml=path"), ("Reporting", "-r chars"),
                        ("collection", "--collect-only, --co"), ("collection", "--continue-on-collection-errors"),
                        ("test session debugging and configuration", "-c FILE, --config-file=FILE"),
                        ("test session debugging and configuration", "--rootdir=ROOTDIR"),
                        ("test session debugging and configuration", "-p name"),
                        ("test session debugging and configuration", "-h, --help"),
                        ("distributed and subprocess testing", "-n numprocesses, --numprocesses=numprocesses"),
                        ("dx-py", "--ci"), ("dx-py", "--python=PATH"), ("dx-py", "--affected-by=FILE")]:
        assert flag in flat[group], (group, flag, sections[group])
    # Every flag is listed once.
    every = [f for v in sections.values() for f in v]
    assert len(every) == len(set(every))
    assert "\nConfiguration: [tool.pytest.ini_options]" in out and "docs/cli.md" in out


# ---- colours ----------------------------------------------------------------------------------

def test_no_colour_when_not_a_terminal(project):
    project.write(TESTS)
    code, out, err = _run(project.root, "-n", "1")
    assert code == 1
    assert "\x1b" not in out + err
    assert "1 failed, 2 passed in " in out


def test_color_yes_gives_pytests_colours(project):
    project.write(TESTS)
    code, out, _ = _run(project.root, "-n", "1", "--color=yes")
    assert code == 1
    last = out.rstrip("\n").splitlines()[-1]
    # pytest's closing line: the main colour (red: something failed) around the counts, each
    # in its own colour, bold when it is the main colour.
    assert last.startswith("\x1b[31m=")
    assert "\x1b[31m\x1b[1m1 failed\x1b[0m" in last and "\x1b[32m2 passed\x1b[0m" in last
    assert "\x1b[36m\x1b[1m=" in out  # short test summary info: cyan, bold
    assert "\x1b[31mFAILED\x1b[0m test_b.py::\x1b[1mtest_bad\x1b[0m - assert 1 == 2" in out
    plain = ANSI.sub("", out)
    assert "test_b.py F" in plain and "1 failed, 2 passed in " in plain


def test_green_when_all_pass_and_environment_variables(project):
    project.write({"test_a.py": TESTS["test_a.py"]})
    code, out, _ = _run(project.root, "-n", "1", "--color=yes")
    assert code == 0
    assert out.rstrip("\n").splitlines()[-1].startswith("\x1b[32m=")
    assert "\x1b[32m\x1b[1m2 passed\x1b[0m" in out
    assert "\x1b[" in _run(project.root, "-n", "1", FORCE_COLOR="1")[1]
    assert "\x1b[" in _run(project.root, "-n", "1", PY_COLORS="1")[1]
    assert "\x1b[" not in _run(project.root, "-n", "1", "--color=no", FORCE_COLOR="1")[1]
    assert "\x1b[" not in _run(project.root, "-n", "1", "--ci", "--color=yes")[1]


def test_terminal_gets_colours_and_a_live_progress_bar(project):
    project.write(dict(TESTS, **{"test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(0.5)\n"}))
    code, raw = _run_on_pty(project.root, "-n", "1", LANG="C.UTF-8", TERM="xterm")
    assert code == 1, raw
    assert "\x1b[32m" in raw and "\x1b[31m" in raw  # colours
    assert "\x1b[1m" in raw
    # The bar: drawn below the output, erased (ESC [J) and drawn again in place.
    assert "\x1b[J" in raw and "\x1b[1A" in raw
    plain = ANSI.sub("", raw)
    assert "█" in plain and "/4" in plain
    assert "▸ test_slow.py::test_slow" in plain  # the running test
    # After the run the bar is gone: the last thing written is pytest's closing line.
    assert raw.rstrip().endswith("\x1b[0m") and "1 failed, 3 passed in " in plain.strip().splitlines()[-1]


def test_terminal_with_no_color_has_the_bar_without_colours(project):
    project.write(dict(TESTS, **{"test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(0.5)\n"}))
    code, raw = _run_on_pty(project.root, "-n", "1", NO_COLOR="1", LANG="C", TERM="xterm")
    assert code == 1
    assert not re.search(r"\x1b\[(3\d|1)m", raw), raw  # no colour, no bold
    assert "\x1b[J" in raw
    plain = ANSI.sub("", raw)
    assert "[-----" in plain and "> test_slow.py::test_slow" in plain  # a C locale: an ASCII bar
    assert "█" not in plain and "▸" not in plain
    assert "1 failed, 3 passed in " in plain


def test_ci_on_a_terminal_is_plain_lines(project):
    project.write(TESTS)
    code, raw = _run_on_pty(project.root, "-n", "1", "--ci", TERM="xterm")
    assert code == 1
    assert "\x1b" not in raw
    assert "test_a.py .." in raw and "1 failed, 2 passed in " in raw
    code, raw = _run_on_pty(project.root, "-n", "1", CI="true", TERM="xterm")
    assert "\x1b[J" not in raw and "\x1b[1A" not in raw  # $CI: no live bar (colours stay)


def test_width_follows_columns(project):
    project.write({"test_a.py": TESTS["test_a.py"]})
    code, out, _ = _run(project.root, "-n", "1", COLUMNS="100")
    assert code == 0
    lines = out.splitlines()
    assert len(lines[0]) == 100  # === test session starts ===
    progress = next(line for line in lines if line.startswith("test_a.py"))
    assert len(progress) == 99 and progress.endswith("[100%]")  # pytest: one short of the width


# ---- [tool.dx-py] -----------------------------------------------------------------------------

def test_tool_dx_py_unknown_key_is_a_usage_error(project):
    project.write(dict(TESTS, **{"pyproject.toml": "[tool.dx-py]\nsnapshot-dir = 'snaps'\n"}))
    r = project.run()
    assert r.code == 4
    assert f"{project.root / 'pyproject.toml'}: [tool.dx-py] unknown key 'snapshot-dir' (did you mean 'snapshot_dir'?)" \
        in r.err
    assert "passed" not in r.out


def test_tool_dx_py_wrong_type_is_a_usage_error(project):
    project.write(dict(TESTS, **{"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n\n"
                                                    "[tool.dx-py]\nworkers = 'four'\n"}))
    r = project.run()
    assert r.code == 4
    assert f"{project.root / 'pyproject.toml'}: [tool.dx-py] workers must be a positive integer or \"auto\", " \
           "got a string: 'four'" in r.err
    project.write({"pyproject.toml": "[tool.dx-py]\ntimeout = '30s'\n"})
    r = project.run()
    assert r.code == 4 and "[tool.dx-py] timeout must be a number of seconds" in r.err


def test_tool_dx_py_workers_apply_and_n_overrides(project):
    files = {f"test_{i}.py": "def test_x():\n    pass\n" for i in range(3)}
    project.write(dict(files, **{"pyproject.toml": "[tool.dx-py]\nworkers = 1\n"}))
    r = project.run()
    assert r.code == 0, r.out + r.err
    assert "test_0.py ." in r.out  # one worker: pytest's layout, a line per file
    r = project.run("-n", "2")
    assert r.code == 0, r.out + r.err
    assert "test_0.py" not in r.out and "..." in r.out  # several: pytest-xdist's row of letters
    project.write({"pyproject.toml": "[tool.dx-py]\nworkers = 2\n"})
    r = project.run()
    assert "test_0.py" not in r.out
    # -n auto on the command line beats the file too (here: one core, so pytest's layout).
    r = subprocess.run(["taskset", "-c", "0", DX_PY, "test", "-n", "auto"], cwd=project.root, capture_output=True,
                       text=True, timeout=60, env=_env(NO_COLOR="1"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "test_0.py ." in r.stdout


def test_tool_dx_py_timeout_applies_and_the_flag_overrides(project):
    project.write({
        "pyproject.toml": "[tool.dx-py]\ntimeout = 0.5\n",
        "test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(3)\n",
    })
    r = project.run("-n", "1")
    assert r.code == 1, r.out + r.err
    assert "1 timeout in " in r.out
    r = project.run("-n", "1", "--timeout", "10")
    assert r.code == 0, r.out + r.err
    assert "1 passed" in r.out


CACHE_PROJECT = {
    "pyproject.toml": "[tool.dx-py]\ncache_dir = 'build/dx-cache'\n",
    "conftest.py": "import dx_py_test_runner as dx\n\n"
                   "@dx.fixture(cache=True)\ndef data():\n    return list(range(10))\n",
    "tests/test_c.py": "import os\nimport dx_py_test_runner as dx\n\n"
                       "def test_cached(data):\n    assert data[-1] == 9\n\n"
                       "def test_snap():\n    dx.snapshot({'k': 1})\n\n"
                       "def test_flips():\n    assert not os.environ.get('FAIL_ONCE')\n",
}


def test_tool_dx_py_cache_dir_holds_every_cache(project):
    project.write(CACHE_PROJECT)
    env = _env(NO_COLOR="1", FAIL_ONCE="1")
    r = subprocess.run([DX_PY, "test", "-q", "-n", "1"], cwd=project.root, capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    cache = project.root / "build" / "dx-cache"
    names = sorted(p.name for p in cache.iterdir())
    for name in ("index.dxti", "lastfailed", "snapshots.idx", "fixtures"):
        assert name in names, names
    assert (cache.stat().st_mode & 0o777) == 0o700
    assert list((cache / "fixtures").glob("data-*.dxfc"))
    assert not (project.root / ".dx-py").exists()
    # --lf reads the last failures from there.
    lf = project.run("--lf", "-q")
    assert lf.code == 0 and re.search(r"^1 passed in", lf.out, re.M), lf.out + lf.err
    # --clear-cache clears the fixture cache of that folder.
    c = project.run("--clear-cache", "-v")
    assert c.code == 0 and "1 fixture cache entries removed" in c.err, c.err
    assert not (project.root / ".dx-py").exists()
    # The snapshot written there is matched against on the next run: nothing written again.
    again = project.run("-q")
    assert again.code == 0 and "written" not in again.out.strip().splitlines()[-1], again.out


def test_tool_dx_py_snapshot_dir_holds_the_snap_files(project):
    project.write({
        "pyproject.toml": "[tool.dx-py]\nsnapshot_dir = 'snaps'\n",
        "test_top.py": "import dx_py_test_runner as dx\n\ndef test_t():\n    dx.snapshot('top')\n",
        "tests/test_m.py": "import dx_py_test_runner as dx\n\ndef test_m():\n    dx.snapshot(1)\n\n"
                           "def test_gone():\n    dx.snapshot(2)\n",
    })
    r = project.run("-q")
    assert r.code == 0 and "3 snapshots written" in r.out, r.out + r.err
    assert "'top'" in (project.root / "snaps" / "test_top.snap").read_text()
    assert "test_gone" in (project.root / "snaps" / "tests" / "test_m.snap").read_text()
    assert not list(project.root.rglob("__snapshots__"))
    again = project.run("-q")
    assert again.code == 0 and "written" not in again.out, again.out
    # Unused entries are found there too.
    project.write({"tests/test_m.py": "import dx_py_test_runner as dx\n\ndef test_m():\n    dx.snapshot(1)\n"})
    u = project.run("-q")
    assert "snaps/tests/test_m.snap: tests/test_m.py::test_gone | 1" in u.out, u.out
    assert project.run("-q", "-u").code == 0
    assert "test_gone" not in (project.root / "snaps" / "tests" / "test_m.snap").read_text()
    # A folder outside the rootdir is refused.
    project.write({"pyproject.toml": "[tool.dx-py]\nsnapshot_dir = '../elsewhere'\n"})
    bad = project.run("-q")
    assert bad.code == 4 and "snapshot_dir must be a folder inside the rootdir" in bad.err, bad.err
