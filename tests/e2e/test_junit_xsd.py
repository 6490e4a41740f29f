"""The JUnit XML report and `dx-py merge-junit` against the JUnit XSD that pytest tests its
own report with (tests/junit-10.xsd, from pytest's sdist: testing/example_scripts/
junit-10.xsd, MIT, Copyright (c) 2014 Gregory Boissinot, the Jenkins xunit plugin's schema),
checked with xmllint (Debian's libxml2-utils); and the junit_* ini options."""
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import DX_PY

XSD = os.path.join(os.path.dirname(__file__), "..", "junit-10.xsd")
XMLLINT = shutil.which("xmllint")

HOSTILE = {
    "test_h.py": r'''
        import sys
        import pytest

        def test_pass_prints():
            print("out \x01 ]]> <&> \udcff")
            sys.stderr.write("err \x1b[31m red\n")

        def test_fail():
            assert "\x00]]>" == "\x7f<&>"

        @pytest.mark.parametrize("x", ["]]>", "\x08", "é", "\U0001F600"])
        def test_param(x):
            assert x != "é"

        def test_skip():
            pytest.skip("why ]]> \x0b")

        @pytest.mark.xfail(reason="<bad> & \x0c")
        def test_xfail():
            assert 0

        @pytest.fixture
        def broken():
            raise RuntimeError("setup ]]> \x02")

        def test_error(broken):
            pass

        # record_property's <properties> inside a testcase is not in the schema (pytest warns
        # that it is incompatible with xunit2): only the suite's properties here.
        def test_props(record_testsuite_property):
            record_testsuite_property("SUITE", "\x05 <x> ]]>")
    ''',
    "test_broken.py": "import no_such_module_at_all\n\ndef test_x():\n    pass\n",
    "pytest.ini": "[pytest]\njunit_logging = all\n",
}


def xmllint(path):
    if XMLLINT is None:
        pytest.fail("xmllint is missing: scripts/setup.sh installs libxml2-utils (scripts/apt-packages.txt)")
    p = subprocess.run([XMLLINT, "--noout", "--schema", XSD, str(path)], capture_output=True, text=True)
    return p.returncode, p.stderr


def test_report_with_hostile_text_validates_against_the_junit_xsd(project):
    project.write(HOSTILE)
    r = project.run("--junit-xml", "out/report.xml", "--continue-on-collection-errors")
    assert r.code == 1, r.out + r.err
    code, err = xmllint(project.root / "out" / "report.xml")
    assert code == 0, err
    root = ET.parse(project.root / "out" / "report.xml").getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("11", "2", "2", "2")
    outs = [e.text for e in root.iter("system-out")]
    assert any("out #x01 ]]> <&> " in t for t in outs)
    assert any("Captured Log" in t for t in outs)


def test_merged_shard_reports_validate_and_sum(project):
    project.write(HOSTILE | {f"test_more_{i}.py": f"def test_{i}():\n    print('x')\n" for i in range(5)})
    durations = project.root / ".dx-py" / "durations.json"
    for k in (1, 2, 3):
        # Each shard as a CI job without a cache: no durations (a run writes its own, which
        # would move the next shard's split).
        durations.unlink(missing_ok=True)
        project.run("--junit-xml", f"s{k}.xml", "--shard", f"{k}/3", "--continue-on-collection-errors")
    project.run("--junit-xml", "whole.xml", "--continue-on-collection-errors")
    m = subprocess.run([DX_PY, "merge-junit", "s1.xml", "s2.xml", "s3.xml", "-o", "all.xml"], cwd=project.root,
                       capture_output=True, text=True)
    assert m.returncode == 0, m.stderr
    code, err = xmllint(project.root / "all.xml")
    assert code == 0, err
    whole = ET.parse(project.root / "whole.xml").getroot().find("testsuite")
    merged = ET.parse(project.root / "all.xml").getroot().find("testsuite")
    for attr in ("tests", "failures", "errors", "skipped"):
        assert merged.get(attr) == whole.get(attr)
    times = sum(float(ET.parse(project.root / f"s{k}.xml").getroot().find("testsuite").get("time")) for k in (1, 2, 3))
    assert abs(float(merged.get("time")) - times) < 0.002
    names = lambda s: sorted((t.get("classname"), t.get("name")) for t in s.iter("testcase"))
    assert names(merged) == names(whole)


def test_merge_junit_bad_input(project):
    project.write({"bad.xml": "<testsuites><testsuite name='x' tests='1'>", "ok.xml": "<testsuite name='s' tests='0' errors='0' failures='0'/>"})
    m = subprocess.run([DX_PY, "merge-junit", "ok.xml", "bad.xml", "-o", "all.xml"], cwd=project.root,
                       capture_output=True, text=True)
    assert m.returncode == 1
    assert "bad.xml:1:" in m.stderr
    assert not (project.root / "all.xml").exists()
    m = subprocess.run([DX_PY, "merge-junit", "missing.xml", "-o", "all.xml"], cwd=project.root, capture_output=True, text=True)
    assert m.returncode == 4
    m = subprocess.run([DX_PY, "merge-junit", "ok.xml"], cwd=project.root, capture_output=True, text=True)
    assert m.returncode == 4


def run_with_ini(project, ini):
    project.write({
        "test_o.py": """
            import pytest

            def test_pass():
                print("hello")

            def test_fail():
                print("bye")
                assert 0

            def test_skip():
                print("s")
                pytest.skip("no")
        """,
        "pytest.ini": "[pytest]\n" + ini,
    })
    r = project.run("--junit-xml", "o.xml")
    return r, (project.root / "o.xml").read_text() if (project.root / "o.xml").exists() else ""


def test_junit_logging_off_by_default(project):
    r, xml = run_with_ini(project, "")
    assert "system-out" not in xml


def test_junit_logging_system_out_and_passing_tests(project):
    r, xml = run_with_ini(project, "junit_logging = system-out\njunit_log_passing_tests = false\n")
    root = ET.fromstring(xml)
    cases = {t.get("name"): t for t in root.iter("testcase")}
    assert cases["test_pass"].find("system-out") is None
    assert "bye" in cases["test_fail"].find("system-out").text
    assert len(cases["test_skip"].findall("system-out")) == 1
    r, xml = run_with_ini(project, "junit_logging = out-err\n")
    cases = {t.get("name"): t for t in ET.fromstring(xml).iter("testcase")}
    assert "hello" in cases["test_pass"].find("system-out").text
    assert cases["test_pass"].find("system-err") is not None
    assert len(cases["test_skip"].findall("system-out")) == 2  # as pytest: on the skip and at teardown


def test_junit_family_xunit1_and_bad_values(project):
    r, xml = run_with_ini(project, "junit_family = legacy\n")
    case = next(t for t in ET.fromstring(xml).iter("testcase") if t.get("name") == "test_pass")
    assert case.get("file") == "test_o.py"
    assert case.get("line") == "3"  # 0-based, as pytest's location
    r, _ = run_with_ini(project, "junit_family = xunit3\n")
    assert r.code == 4 and "junit_family" in r.err
    r, _ = run_with_ini(project, "junit_duration_report = wall\n")
    assert r.code == 4 and "junit_duration_report" in r.err
    r, xml = run_with_ini(project, "junit_duration_report = call\njunit_suite_name = mine\n")
    assert r.code == 1
    assert ET.fromstring(xml).find("testsuite").get("name") == "mine"
