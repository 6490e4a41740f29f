"""@dx.fixture(cache=True) across runs of the installed dx-py: the value persists in
.dx-py/fixtures until the fixture's source, a dependency's source or its param changes; one
computation per run with several workers; bad entries are computed again; --clear-cache."""
import os
import stat
import subprocess
import sys

import pytest

# `computed` appends one line per computation of a cached value to the file "computed" in
# the project: the tests count computations through it, across runs and workers.
CONFTEST = """
    import os
    import dx_py_test_runner as dx

    HERE = os.path.dirname(os.path.abspath(__file__))

    def computed(what):
        with open(os.path.join(HERE, "computed"), "a") as f:
            f.write(f"{what} {os.getpid()}\\n")

    @dx.fixture(scope="session")
    def base():
        return 10

    @dx.fixture(scope="session", cache=True)
    def data(base):
        computed("data")
        return {"values": list(range(base)), "blob": bytearray(b"x" * 100_000)}
"""

TEST_A = """
def test_a(data):
    assert data["values"] == list(range(10))
    assert len(data["blob"]) == 100_000
"""


def computations(project, what=None):
    path = project.root / "computed"
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines()]
    return [line for line in lines if what is None or line[0] == what]


def entries(project):
    folder = project.root / ".dx-py" / "fixtures"
    return sorted(folder.glob("*.dxfc")) if folder.exists() else []


def passed(r):
    assert r.code == 0, r.out + r.err
    return r


def test_value_persists_across_runs_in_a_private_folder(project):
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    passed(project.run())
    assert len(computations(project)) == 1
    [entry] = entries(project)
    assert entry.name.startswith("data-")
    folder = project.root / ".dx-py" / "fixtures"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    passed(project.run())
    passed(project.run("-n", "2"))
    assert len(computations(project)) == 1


def test_edits_elsewhere_keep_the_value(project):
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    passed(project.run())
    # Another test, another fixture, and the conftest's helper code below the fixtures.
    project.write({
        "test_a.py": TEST_A + "\ndef test_more(data):\n    assert data['values'][-1] == 9\n",
        "test_b.py": "import dx_py_test_runner as dx\n\n@dx.fixture\ndef other():\n    return 1\n\n"
                     "def test_b(other):\n    assert other == 1\n",
        "conftest.py": CONFTEST + "\n    def unrelated_helper():\n        return 42\n",
    })
    r = passed(project.run())
    assert "3 passed" in r.out
    assert len(computations(project)) == 1


def test_editing_the_fixture_or_a_dependency_computes_again(project):
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    passed(project.run())
    assert len(computations(project)) == 1
    project.write({"conftest.py": CONFTEST.replace('computed("data")', 'computed("data")  # edited')})
    passed(project.run())
    assert len(computations(project)) == 2
    passed(project.run())
    assert len(computations(project)) == 2
    # The dependency: still 10, but its source changed.
    project.write({"conftest.py": CONFTEST.replace('computed("data")', 'computed("data")  # edited')
                   .replace("return 10", "return 5 + 5")})
    passed(project.run())
    assert len(computations(project)) == 3


def test_each_param_is_an_entry_of_its_own(project):
    project.write({
        "conftest.py": CONFTEST + """
    @dx.fixture(params=[2, 3], cache=True)
    def squared(request):
        computed(f"squared{request.param}")
        return request.param ** 2
    """,
        "test_p.py": """
            def test_p(squared):
                assert squared in (4, 9)
        """,
    })
    r = passed(project.run("-v"))
    assert "test_p.py::test_p[2] PASSED" in r.out and "test_p.py::test_p[3] PASSED" in r.out
    passed(project.run())
    assert sorted(c[0] for c in computations(project)) == ["squared2", "squared3"]
    assert len(entries(project)) == 2


def test_several_workers_compute_a_session_value_once(project):
    slow = CONFTEST.replace('computed("data")', 'computed("data")\n        import time; time.sleep(1.0)')
    files = {"conftest.py": slow}
    for i in range(4):
        files[f"test_{i}.py"] = TEST_A.replace("test_a", f"test_{i}") + f"""
def test_{i}_pid():
    with open("pids", "a") as f:
        f.write(str(__import__("os").getpid()) + "\\n")
"""
    project.write(files)
    r = passed(project.run("-n", "2"))
    assert "8 passed" in r.out
    pids = set((project.root / "pids").read_text().split())
    assert len(pids) == 2, "both workers ran tests"
    assert len(computations(project, "data")) == 1


def test_an_unpicklable_value_errors_at_setup_naming_the_fixture(project):
    project.write({
        "conftest.py": CONFTEST + """
    @dx.fixture(cache=True)
    def handle():
        import threading
        return threading.Lock()
    """,
        "test_u.py": """
            def test_u(handle):
                pass

            def test_fine(data):
                pass
        """,
    })
    r = project.run()
    assert r.code == 1, r.out + r.err
    assert "1 passed, 1 error" in r.out
    assert "ERROR at setup of test_u" in r.out
    assert "fixture 'handle' is cached (dx.fixture(cache=True)) but its value cannot be pickled" in r.out


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip-pickle"])
def test_a_damaged_entry_is_computed_again(project, damage):
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    passed(project.run())
    [entry] = entries(project)
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"\x00garbage" * 20)
    else:
        data[120] ^= 0xFF  # inside the pickle stream (after the 96-byte header and the table)
    entry.write_bytes(bytes(data))
    passed(project.run())
    assert len(computations(project)) == 2
    passed(project.run())
    assert len(computations(project)) == 2  # the entry was written again


def test_clear_cache_computes_again(project):
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    passed(project.run())
    assert entries(project)
    r = passed(project.run("--clear-cache", "-v"))
    assert "1 fixture cache entries removed" in r.err
    assert len(computations(project)) == 2
    passed(project.run())
    assert len(computations(project)) == 2


def test_clear_cache_without_a_cache_is_fine(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    r = passed(project.run("--clear-cache"))
    assert "1 passed" in r.out


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_an_entry_writable_by_others_is_ignored_with_a_warning(project, mode):
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    passed(project.run())
    [entry] = entries(project)
    os.chmod(entry, mode)
    passed(project.run())
    assert len(computations(project)) == 2  # not loaded: computed (and written back private)
    [entry] = entries(project)
    assert stat.S_IMODE(entry.stat().st_mode) & 0o022 == 0
    # The warning itself: with filterwarnings=error it fails the setup, naming the entry.
    os.chmod(entry, mode)
    project.write({"pytest.ini": "[pytest]\nfilterwarnings =\n    error::dx_py_test_runner.FixtureCacheWarning\n"})
    r = project.run()
    assert r.code == 1
    assert "is not owned by you or is writable by others: ignored" in r.out


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_an_entry_owned_by_another_user_or_a_symlink_is_never_unpickled(project, tmp_path):
    """docs/security.md: another user's entry could hold any pickle, i.e. any code."""
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    passed(project.run())
    [entry] = entries(project)
    os.chown(entry, 65534, 65534)  # nobody, with the private mode the writer gave it
    assert stat.S_IMODE(entry.stat().st_mode) & 0o022 == 0
    passed(project.run())
    assert len(computations(project)) == 2  # not loaded: computed again
    [entry] = entries(project)
    assert entry.stat().st_uid == os.geteuid()  # written back as the user's own
    # The warning (dx-py prints no warnings summary): made an error, it names the entry.
    os.chown(entry, 65534, 65534)
    project.write({"pytest.ini": "[pytest]\nfilterwarnings =\n    error::dx_py_test_runner.FixtureCacheWarning\n"})
    r = project.run()
    assert r.code == 1 and "is not owned by you or is writable by others: ignored" in r.out, r.out
    os.remove(project.root / "pytest.ini")
    passed(project.run())
    assert len(computations(project)) == 3
    [entry] = entries(project)
    # A symlink to a valid entry elsewhere is not followed (O_NOFOLLOW) either.
    elsewhere = tmp_path / "entry.dxfc"
    os.rename(entry, elsewhere)
    os.symlink(elsewhere, entry)
    passed(project.run())
    assert len(computations(project)) == 4


def test_pytest_and_dx_py_share_the_cache(project):
    """Under real pytest dx.fixture is pytest.fixture; cache=True works there too."""
    project.write({"conftest.py": CONFTEST, "test_a.py": TEST_A})
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project.root,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(computations(project)) == 1
    passed(project.run())
    assert len(computations(project)) == 1


def test_a_yield_fixture_cannot_be_cached(project):
    project.write({
        "conftest.py": """
            import dx_py_test_runner as dx

            @dx.fixture(cache=True)
            def res():
                yield 1
        """,
        "test_y.py": "def test_y(res):\n    pass\n",
    })
    r = project.run()
    assert r.code != 0
    assert "cache=True needs a fixture that returns its value" in r.out + r.err
