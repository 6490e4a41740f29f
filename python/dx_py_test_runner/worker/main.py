"""The worker's loop: receive a test, run it, send its result, until told to stop.

The orchestrator starts `python -m dx_py_test_runner.worker` with

    fd 1, fd 2          two memfds, for the worker's whole life: the captured output
                        (capture.py); the orchestrator reads their tail after a crash
    DXPY_CHANNEL_FDS    "3,4,5": the shared-memory channel (memory, inbound and outbound
                        wake-up sockets; src/dxpy/protocol/channel.h)
    DXPY_WORKER_ID      this worker's number, echoed in Hello
    DXPY_ROOTDIR        the run's rootdir
    DXPY_PRELOAD        comma-separated modules to import before the first test
    DXPY_MAX_OUTPUT     bytes of output kept per stream per test (4 MiB)

and the worker answers with Hello, then one TestResult per Test, in order. Shutdown, or
the orchestrator going away, ends it with exit code 0. The orchestrator enforces
timeouts (it kills the worker); nothing here watches the clock.
"""
import faulthandler
import os
import sys

from .. import _core
from .runner import DEFAULT_MAX_OUTPUT, Runner

# A result whose payload would exceed the channel's limit goes again with every text cut
# to this many characters (at most 4 bytes of UTF-8 each).
_RESEND_CHARS = 2 << 20


def _warn(text):
    try:
        sys.stderr.write(f"dx-py worker: {text}\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - a warning must never end the worker
        pass


def _utf8_stdio():
    """Captured output is decoded as UTF-8, as pytest's capture encodes it."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8":
            try:
                stream.reconfigure(encoding="utf-8")
            except (AttributeError, ValueError):
                pass


def _preload(names):
    for name in filter(None, (n.strip() for n in names.split(","))):
        try:
            __import__(name)
        except BaseException as e:  # noqa: BLE001 - a preload may raise anything, SystemExit too
            _warn(f"cannot preload {name!r}: {type(e).__name__}: {e}")


def _int_env(name, default):
    text = os.environ.get(name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        _warn(f"{name}={text!r} is not a number; using {default}")
        return default


def _cut(text):
    if len(text) <= _RESEND_CHARS:
        return text
    half = _RESEND_CHARS // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters not kept ...]\n{text[-half:]}"


def _send_result(channel, msg, result, truncated):
    try:
        channel.send_result(msg.sequence, msg.worker_id, result, truncated)
    except _core.ProtocolError:  # over the payload limit: cut every text and say so
        result.message = _cut(result.message)
        result.traceback = _cut(result.traceback)
        result.stdout = _cut(result.stdout)
        result.stderr = _cut(result.stderr)
        channel.send_result(msg.sequence, msg.worker_id, result, True)


def _exit_now(code):
    """Ends the process without interpreter shutdown: the orchestrator is gone, and a
    thread a test left running must not keep an orphan alive."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


def _shutdown():
    """The end of the run: atexit handlers run (coverage and the like write their data),
    then the process ends without the interpreter's slow teardown of every module the
    tests imported (tens of ms, which the orchestrator would wait for)."""
    import atexit

    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - a handler's failure is printed by atexit itself
        pass
    _exit_now(0)


def main():
    faulthandler.enable(all_threads=True)  # fd 2: a segfault's traceback lands in the stderr memfd
    fds = os.environ.get("DXPY_CHANNEL_FDS")
    if not fds:
        print("dx_py_test_runner.worker is started by dx-py, not by hand", file=sys.stderr)
        return 2
    _utf8_stdio()
    try:
        for fd in fds.split(","):
            os.set_inheritable(int(fd), False)  # not into the subprocesses tests start
        channel = _core.WorkerChannel.attach(fds)
    except (OSError, ValueError) as e:  # ChannelClosed and ProtocolError among them
        print(f"dx-py worker: cannot attach to the orchestrator's channel: {e}", file=sys.stderr)
        return 2
    worker_id = _int_env("DXPY_WORKER_ID", 0)
    max_output = _int_env("DXPY_MAX_OUTPUT", DEFAULT_MAX_OUTPUT)
    _preload(os.environ.get("DXPY_PRELOAD", ""))
    runner = Runner(rootdir=os.environ.get("DXPY_ROOTDIR") or os.getcwd(), max_output=max_output)
    try:
        channel.send_hello(os.getpid(), worker_id, "%d.%d.%d" % sys.version_info[:3])
    except _core.ChannelClosed:
        _exit_now(0)
    return _loop(channel, runner)


def _loop(channel, runner):
    receive = channel.receive
    run = runner.run
    TestMessage = _core.TestMessage
    ShutdownMessage = _core.ShutdownMessage
    ChannelClosed = _core.ChannelClosed
    while True:
        try:
            msg = receive()
            kind = type(msg)
            if kind is TestMessage:
                result, truncated = run(msg.test)
                _send_result(channel, msg, result, truncated)
            elif kind is ShutdownMessage:
                _shutdown()
            else:
                _warn(f"ignoring an unexpected message: {getattr(msg, 'type', msg)!r}")
        except ChannelClosed:  # the orchestrator is gone or closed its end
            _exit_now(0)
        except _core.ProtocolError as e:  # undecodable message or corrupt ring: a bug to show
            _warn(f"protocol error (malformed message or corrupt channel): {e}")
            _exit_now(3)
        except KeyboardInterrupt:
            # SIGINT outside a test: the orchestrator decides when the worker stops.
            continue
