"""The engine inside the real worker process, over the channel: several results for one
test case (run-time parametrize), capsys/capfd on the fd-level capture, module fixtures
torn down when the next test leaves the module, session fixtures at shutdown."""
import json
import os

from test_worker_channel import RECEIVE_MS, S, case, spawn, write  # noqa: F401 - spawn is a fixture


def run_all(worker, cases):
    """Every result message for `cases` (a case may give several), in order."""
    sequences = [worker.send(c) for c in cases]
    messages = []
    pending = set(sequences)
    while pending:
        m = worker.receive()
        messages.append(m)
        if not m.more_results:
            pending.discard(m.sequence)
    return messages


def test_runtime_parametrize_sends_more_results_then_the_last(spawn, tmp_path):
    mod = write(tmp_path, "test_rt.py", """
        import pytest
        @pytest.mark.parametrize("x", [object(), "b", 3])
        def test_p(x):
            assert x != 3
    """)
    c = case(mod, "test_p")
    c.expand_at_runtime = True
    w = spawn()
    msgs = run_all(w, [c])
    assert [(m.result.id.param, m.result.status, m.more_results) for m in msgs] == [
        ("x0", S.passed, True), ("b", S.passed, True), ("3", S.failed, False)]
    assert len({m.sequence for m in msgs}) == 1


def test_an_empty_id_at_run_time_keeps_its_brackets(spawn, tmp_path):
    mod = write(tmp_path, "test_empty.py", """
        import pytest
        @pytest.mark.parametrize("x", [str(), "b"])
        def test_p(x):
            pass
    """)
    c = case(mod, "test_p")
    c.expand_at_runtime = True
    w = spawn()
    assert [(m.result.id.node_id, m.result.status) for m in run_all(w, [c])] == [
        ("test_empty.py::test_p[]", S.passed), ("test_empty.py::test_p[b]", S.passed)]
    # Statically expanded ("x", [""]): the case names the empty id, and that instance runs.
    one = case(mod, "test_p")
    one.id.param = ""
    (m,) = run_all(w, [one])
    assert (m.result.id.node_id, m.result.status) == ("test_empty.py::test_p[]", S.passed)


JUNIT_PROPS = """
    import pytest

    class Shown:
        def __str__(self):
            return "shown"

    class Unprintable:
        def __str__(self):
            raise RuntimeError("no")

    @pytest.fixture
    def late(request):
        yield
        request.node.user_properties.append(("late", Shown()))

    def test_p(record_property, late):
        record_property("answer", 42)
        record_property(7, None)
        record_property("odd", Unprintable())

    def test_suite(record_testsuite_property):
        record_testsuite_property("ARCH", "PPC")
        record_testsuite_property("n", 3)

    def test_plain():
        pass
"""


def test_junit_properties_travel_with_the_result(spawn, tmp_path):
    mod = write(tmp_path, "test_props.py", JUNIT_PROPS)
    w = spawn(env={"DXPY_CONFIG": json.dumps({"rootdir": str(tmp_path), "options": {"junitxml": "out.xml"}})})
    p, suite, plain = w.run(case(mod, "test_p"), case(mod, "test_suite"), case(mod, "test_plain"))
    assert [m.result.status for m in (p, suite, plain)] == [S.passed] * 3, p.result.traceback
    # str() of every name and value, in the order recorded, the fixture's teardown included.
    assert p.result.properties == [("answer", "42"), ("7", "None"), ("odd", "<unprintable Unprintable object>"),
                                   ("late", "shown")]
    assert p.result.suite_properties == []
    assert suite.result.suite_properties == [("ARCH", "PPC"), ("n", "3")] and suite.result.properties == []
    assert plain.result.suite_properties == []  # sent once


def test_suite_properties_are_kept_only_for_a_junit_file(spawn, tmp_path):
    mod = write(tmp_path, "test_props.py", JUNIT_PROPS)
    w = spawn(env={"DXPY_CONFIG": json.dumps({"rootdir": str(tmp_path)})})
    p, suite = w.run(case(mod, "test_p"), case(mod, "test_suite"))
    assert (p.result.status, suite.result.status) == (S.passed, S.passed)
    assert len(p.result.properties) == 4  # pytest keeps user_properties either way
    assert suite.result.suite_properties == []


def test_capsys_and_capfd_read_the_worker_capture(spawn, tmp_path):
    mod = write(tmp_path, "test_cap.py", """
        import os, sys
        def test_capsys(capsys):
            print("before")
            sys.stderr.write("err")
            out, err = capsys.readouterr()
            assert (out, err) == ("before\\n", "err")
            print("after")
        def test_capfd(capfd):
            os.write(1, b"fd")
            print("py", end="")
            assert capfd.readouterr().out == "fdpy"
        def test_capsysbinary(capsysbinary):
            print("b")
            assert capsysbinary.readouterr().out == b"b\\n"
    """)
    w = spawn()
    msgs = w.run(case(mod, "test_capsys"), case(mod, "test_capfd"), case(mod, "test_capsysbinary"))
    assert [m.result.status for m in msgs] == [S.passed] * 3, [m.result.traceback for m in msgs]
    assert (msgs[0].result.stdout, msgs[0].result.stderr) == ("after\n", "")  # read once, not reported again


def test_module_fixture_ends_with_its_module_and_session_fixture_at_shutdown(spawn, tmp_path):
    log = tmp_path / "log.txt"
    first = write(tmp_path, "test_first.py", f"""
        import pytest
        def log(m):
            open({str(log)!r}, "a").write(m + "\\n")
        @pytest.fixture(scope="session")
        def sess():
            log("sess-up"); yield; log("sess-down")
        @pytest.fixture(scope="module")
        def mod(sess):
            log("mod-up"); yield; log("mod-down")
        def test_a(mod): log("a")
        def test_b(mod): log("b")
    """)
    second = write(tmp_path, "test_second.py", "def test_c():\n    pass\n")
    w = spawn(env={"DXPY_CONFIG": json.dumps({"rootdir": str(tmp_path)})})
    w.channel.send_test(1, case(first, "test_a"), worker_id=7)
    w.channel.send_test(2, case(first, "test_b"), worker_id=7, last_of_module=True)
    w.channel.send_test(3, case(second, "test_c"), worker_id=7, last_of_module=True)
    msgs = [w.receive() for _ in range(3)]
    assert [m.result.status for m in msgs] == [S.passed] * 3, [m.result.traceback for m in msgs]
    assert log.read_text().split() == ["sess-up", "mod-up", "a", "b", "mod-down"]
    w.channel.send_shutdown()
    assert w.process.wait(RECEIVE_MS) == 0
    assert log.read_text().split() == ["sess-up", "mod-up", "a", "b", "mod-down", "sess-down"]
    assert os.path.exists(log)
