"""--shard K/N and .dx-py/durations.json: on small projects and on real suites (toolz and
simplejson, copied out of the venv as bench/agreement.py does), the shards are disjoint,
their union is the unsharded run, the split is the same on every run, and the durations
file keeps every shard's entries."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import DX_PY

WORDS = ("PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS", "CRASHED", "TIMEOUT")


def outcomes(r):
    """{node id: outcome} from a -v run's lines."""
    out = {}
    for line in r.out.splitlines():
        m = re.match(r"^(\S+::\S.*?) (" + "|".join(WORDS) + r")\b", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def collected(r):
    return [line for line in r.out.splitlines() if "::" in line]


FILES = {
    f"tests/test_{i}.py": "".join(f"def test_{j}():\n    pass\n" for j in range(i + 1)) for i in range(6)
} | {
    "tests/test_fail.py": "def test_bad():\n    assert 0\n\ndef test_ok():\n    pass\n",
}


def test_shards_are_disjoint_and_their_union_is_the_whole_run(project):
    project.write(FILES)
    whole = project.run("-v", "-n", "1")
    assert whole.code == 1
    everything = outcomes(whole)
    assert len(everything) == 23
    union = {}
    digests = set()
    durations = project.root / ".dx-py" / "durations.json"
    for k in (1, 2, 3):
        durations.unlink(missing_ok=True)  # each shard as a CI job without a cache
        part = project.run("-v", "-n", "1", "--shard", f"{k}/3")
        m = re.search(r"dx-py: shard (\d)/3: (\d+) of 23 tests \(durations known for 0\); split digest ([0-9a-f]{16})",
                      part.err)
        assert m and int(m.group(1)) == k, part.err
        digests.add(m.group(3))
        got = outcomes(part)
        assert got, part.out
        assert not set(got) & set(union), "a test ran in two shards"
        union |= got
        assert f"{23 - len(got)} deselected" in part.out
    assert union == everything
    assert len(digests) == 1  # every job computed the same split


def test_without_durations_files_stay_whole_and_count_by_their_tests(project):
    project.write(FILES)
    shards = []
    for k in (1, 2):
        r = project.run("--collect-only", "-q", "--shard", f"{k}/2")
        assert r.code == 0, r.out + r.err
        shards.append(collected(r))
    files = [{line.split("::")[0] for line in s} for s in shards]
    assert not files[0] & files[1]
    # 23 tests in files of 1..6 and 2: longest first gives 12 and 11.
    assert sorted(len(s) for s in shards) == [11, 12]
    again = project.run("--collect-only", "-q", "--shard", "1/2")
    assert collected(again) == shards[0]


def test_durations_json_balances_and_keeps_every_shards_entries(project):
    project.write({
        "test_slow.py": "import time\n\ndef test_a():\n    time.sleep(0.4)\n\ndef test_b():\n    time.sleep(0.4)\n",
        "test_mid.py": "import time\n\ndef test_c():\n    time.sleep(0.3)\n",
        "test_many.py": "".join(f"def test_{j}():\n    pass\n" for j in range(20)),
    })
    r = project.run("-n", "1", "--shard", "1/2")
    r2 = project.run("-n", "1", "--shard", "2/2")
    assert r.code == 0 and r2.code == 0
    stored = json.loads((project.root / ".dx-py" / "durations.json").read_text())
    # Both jobs' slow tests are there: the second did not drop the first's.
    assert {"test_slow.py::test_a", "test_slow.py::test_b", "test_mid.py::test_c"} <= set(stored)
    assert 0.3 <= stored["test_slow.py::test_a"] < 5
    assert not (project.root / ".dx-py" / "durations").exists()
    # Known durations: test_slow.py (0.8 s) weighs more than a shard's share (~0.56 s), so it is
    # split per test; each shard gets one 0.4 s test, and test_c and the fast ones balance.
    parts = [collected(project.run("--collect-only", "-q", "--shard", f"{k}/2")) for k in (1, 2)]
    slow = [sum(1 for line in p if line.startswith("test_slow.py::")) for p in parts]
    assert slow == [1, 1]
    assert sorted(parts[0] + parts[1]) == sorted(collected(project.run("--collect-only", "-q")))


def test_damaged_durations_file_is_a_cache_miss(project):
    project.write(FILES)
    (project.root / ".dx-py").mkdir()
    (project.root / ".dx-py" / "durations.json").write_text('{"tests/test_1.py::test_0": 1.5, "tests/')
    r = project.run("--collect-only", "-q", "--shard", "2/2")
    assert r.code == 0
    assert len(collected(r)) in (11, 12)


@pytest.mark.parametrize("value", ["0/2", "3/2", "2", "a/b", "1/0", "-1/2", ""])
def test_bad_shard_is_a_usage_error(project, value):
    project.write(FILES)
    r = project.run("--shard", value)
    assert r.code == 4
    assert "--shard" in r.err
    assert "Traceback" not in r.err


def test_collection_error_goes_to_one_shard(project):
    # A syntax error: a collection error found before the run (statically).
    project.write(FILES | {"tests/test_broken.py": "def test_x(:\n    pass\n"})
    with_error = []
    for k in (1, 2):
        r = project.run("--shard", f"{k}/2", "--continue-on-collection-errors")
        assert r.code in (0, 1), r.out + r.err
        if "test_broken.py" in r.out:
            with_error.append(k)
            assert r.code == 1
            assert "1 error" in r.out
    assert len(with_error) == 1
    # Without --continue-on-collection-errors only the shard with the error stops on it.
    codes = sorted(project.run("--shard", f"{k}/2").code for k in (1, 2))
    assert 2 in codes and codes != [2, 2]


def copy_suite(name, dest):
    spec = importlib.util.find_spec(name)
    if spec is None:
        pytest.skip(f"{name} is not installed")
    root = dest / name
    shutil.copytree(os.path.dirname(spec.origin), root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def junit_outcomes(path):
    out = {}
    for tc in ET.parse(path).getroot().iter("testcase"):
        kinds = [c.tag for c in tc if c.tag in ("failure", "error", "skipped")]
        out[(tc.get("classname"), tc.get("name"))] = kinds[0] if kinds else "passed"
    return out


@pytest.mark.parametrize("suite", ["toolz", "simplejson"])
def test_real_suite_shards_union_equals_the_unsharded_run(tmp_path, suite):
    root = copy_suite(suite, tmp_path)

    def run(*args):
        p = subprocess.run([DX_PY, "test", "-n", "2", "-q", *args, suite], cwd=root, capture_output=True, text=True,
                           timeout=600, env=dict(os.environ, NO_COLOR="1"))
        assert p.returncode in (0, 1), p.stdout[-2000:] + p.stderr[-2000:]
        return p

    durations = root / ".dx-py" / "durations.json"

    def restore(snapshot):
        # Every shard starts from the same durations file, as CI jobs restoring one cache do:
        # a run rewrites it, which would move the next shard's split.
        shutil.copy(snapshot, durations)

    run("--junit-xml", str(tmp_path / "whole.xml"))
    whole = junit_outcomes(tmp_path / "whole.xml")
    assert len(whole) > 100
    shutil.copy(durations, tmp_path / "d1.json")
    union = {}
    for k in (1, 2, 3):
        restore(tmp_path / "d1.json")
        run("--shard", f"{k}/3", "--junit-xml", str(tmp_path / f"s{k}.xml"))
        part = junit_outcomes(tmp_path / f"s{k}.xml")
        assert part
        assert not set(part) & set(union)
        union |= part
    assert union == whole
    merged = subprocess.run([DX_PY, "merge-junit", *(str(tmp_path / f"s{k}.xml") for k in (1, 2, 3)), "-o",
                             str(tmp_path / "all.xml")], capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr
    assert junit_outcomes(tmp_path / "all.xml") == whole
    suite_of = lambda p: ET.parse(p).getroot().find("testsuite")
    for attr in ("tests", "failures", "errors", "skipped"):
        assert suite_of(tmp_path / "all.xml").get(attr) == suite_of(tmp_path / "whole.xml").get(attr)
    # Again from the durations the shards left (each merged its own into the file).
    shutil.copy(durations, tmp_path / "d2.json")
    again = {}
    for k in (1, 2, 3):
        restore(tmp_path / "d2.json")
        run("--shard", f"{k}/3", "--junit-xml", str(tmp_path / f"r{k}.xml"))
        part = junit_outcomes(tmp_path / f"r{k}.xml")
        assert not set(part) & set(again)
        again |= part
    assert again == whole
