"""The .dxti index as a user meets it: reused when nothing changed, re-hashed when only
touched, re-parsed when edited, and rebuilt (with a note under -v) when corrupt."""
import os

from conftest import DX_PY


def collection_line(run):
    return next(line for line in run.err.splitlines() if line.startswith("dx-py: collection:"))


def test_index_is_written_reused_and_refreshed(project):
    project.write({"tests/test_a.py": "def test_a():\n    pass\n", "tests/test_b.py": "def test_b():\n    pass\n"})
    first = project.run("-v", "--collect-only")
    assert "0 files from the index, 0 re-hashed, 2 parsed; index written" in collection_line(first)
    index = project.root / ".dx-py" / "index.dxti"
    assert index.exists()
    assert (os.stat(project.root / ".dx-py").st_mode & 0o777) == 0o700

    again = project.run("-v", "--collect-only")
    assert "2 files from the index, 0 re-hashed, 0 parsed" in collection_line(again)

    # Touched but identical: re-hashed, not re-parsed.
    os.utime(project.root / "tests/test_a.py", ns=(1, 1))
    touched = project.run("-v", "--collect-only")
    assert "1 files from the index, 1 re-hashed, 0 parsed" in collection_line(touched)

    # Edited: re-parsed, and the new test is listed.
    project.write({"tests/test_b.py": "def test_b():\n    pass\n\ndef test_b2():\n    pass\n"})
    edited = project.run("-v", "--collect-only")
    assert "1 parsed" in collection_line(edited)
    assert "<Function test_b2>" in edited.out


def test_corrupt_index_is_ignored_rebuilt_and_reported(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    project.run("--collect-only")
    index = project.root / ".dx-py" / "index.dxti"
    data = bytearray(index.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index.write_bytes(bytes(data))
    r = project.run("-v", "--collect-only")
    assert r.code == 0
    assert "<Function test_a>" in r.out
    assert "ignored" in r.err and "rebuilding" in r.err
    assert "index written" in collection_line(r)


def test_index_of_another_format_version_is_rebuilt(project):
    # What an index written by an older dx-py looks like to this one: its version field (u16
    # at offset 4) differs, and nothing else is read.
    project.write({"test_a.py": "import pytest\n\n@pytest.mark.parametrize('x', [''])\ndef test_a(x):\n    pass\n"})
    project.run("--collect-only")
    index = project.root / ".dx-py" / "index.dxti"
    data = bytearray(index.read_bytes())
    version = int.from_bytes(data[4:6], "little")
    data[4:6] = (version - 1).to_bytes(2, "little")
    index.write_bytes(bytes(data))
    r = project.run("-v", "--collect-only")
    assert r.code == 0
    assert f"index version {version - 1}, this dx-py reads {version}" in r.err and "rebuilding" in r.err
    assert "<Function test_a[]>" in r.out
    assert "index written" in collection_line(r)
    assert project.run("--collect-only", "-q").out.splitlines()[0] == "test_a.py::test_a[]"


def test_truncated_and_foreign_indexes_never_give_a_wrong_list(project):
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    project.run("--collect-only")
    index = project.root / ".dx-py" / "index.dxti"
    for payload in (index.read_bytes()[:10], b"", b"DXTI" + b"\0" * 200):
        index.write_bytes(payload)
        r = project.run("--collect-only", "-q")
        assert r.code == 0
        assert r.out.splitlines()[0] == "test_a.py::test_a"


def test_unusable_cache_folder_means_no_cache_not_failure(project):
    project.write({"test_a.py": "def test_a():\n    pass\n", ".dx-py": "not a folder"})
    r = project.run("-v")
    assert r.code == 0
    assert "no cache" in r.err
    assert "1 passed" in r.out


def test_index_from_another_root_is_rebuilt(project, tmp_path_factory):
    import shutil
    project.write({"test_a.py": "def test_a():\n    pass\n"})
    project.run("--collect-only")
    other = tmp_path_factory.mktemp("moved")
    shutil.copytree(project.root, other / "proj")
    import subprocess
    r = subprocess.run([DX_PY, "test", "--collect-only", "-v"], cwd=other / "proj", capture_output=True, text=True)
    assert r.returncode == 0
    assert "<Function test_a>" in r.stdout
    assert "ignored" in r.stderr and "rebuilding" in r.stderr


def test_two_runs_at_once_both_complete_and_leave_a_valid_index(project):
    import subprocess
    project.write({f"tests/test_m{i}.py": f"def test_{i}():\n    pass\n" for i in range(200)})
    procs = [subprocess.Popen([DX_PY, "test", "--collect-only", "-q"], cwd=project.root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "200 tests collected" in out
    after = project.run("--collect-only", "-v")
    assert "200 files from the index, 0 re-hashed, 0 parsed" in collection_line(after)


def test_listing_from_the_index_matches_a_fresh_collection(project):
    project.write({
        "tests/__init__.py": "",
        "tests/base.py": "class Base:\n    def test_inherited(self):\n        pass\n",
        "tests/test_x.py": "import pytest\nfrom .base import Base\n\nclass TestX(Base):\n    def test_own(self):\n        pass\n\n"
                           "@pytest.mark.parametrize('v', [1, 'a', ''])\ndef test_p(v):\n    pass\n",
        "tests/test_y.py": "def test_y():\n    pass\n",
    })
    cold = project.run("--collect-only", "-q")
    warm = project.run("--collect-only", "-q")
    assert cold.out.splitlines()[:-1] == warm.out.splitlines()[:-1]
    assert warm.out.splitlines()[:6] == ["tests/test_x.py::TestX::test_inherited", "tests/test_x.py::TestX::test_own",
                                         "tests/test_x.py::test_p[1]", "tests/test_x.py::test_p[a]",
                                         "tests/test_x.py::test_p[]", "tests/test_y.py::test_y"]
    counts = project.run("--collect-only", "-qq")
    assert counts.out.splitlines()[:2] == ["tests/test_x.py: 5", "tests/test_y.py: 1"]
