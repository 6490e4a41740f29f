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
