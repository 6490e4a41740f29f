"""The worker's loop: receive a test, run it, send its result, until told to stop.

The orchestrator starts `python -m dx_py_test_runner.worker` with

    fd 1, fd 2          two memfds, for the worker's whole life: the captured output
                        (capture.py); the orchestrator reads their tail after a crash
    DXPY_CHANNEL_FDS    "3,4,5": the shared-memory channel (memory, inbound and outbound
                        wake-up sockets; src/dxpy/protocol/channel.h)
    DXPY_WORKER_ID      this worker's number, echoed in Hello
    DXPY_ORCHESTRATOR_PID  the orchestrator's pid: a test's KeyboardInterrupt stops the run (interrupt.py)
    DXPY_ROOTDIR        the run's rootdir
    DXPY_PRELOAD        comma-separated modules to import before the first test
    DXPY_MAX_OUTPUT     bytes of output kept per stream per test (4 MiB)
    DXPY_CONFIG         the run's configuration as JSON (config.py)

and the worker answers with Hello, then the TestResults of each Test, in order: one, or
several for a test that expands at run time (all but the last flagged more_results).
Shutdown, or the orchestrator going away, ends it with exit code 0 after the session's
fixtures are finalized. The orchestrator enforces timeouts (it kills the worker); nothing
here watches the clock.
"""
import faulthandler
import os
import sys

from .. import _core
from . import builtin_fixtures, heap, hooks
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
            hooks.warn(f"cannot preload {name!r}: {type(e).__name__}: {e}")


def _int_env(name, default):
    text = os.environ.get(name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        hooks.warn(f"{name}={text!r} is not a number; using {default}")
        return default


def _cut(text, limit=_RESEND_CHARS):
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters not kept ...]\n{text[-half:]}"


def _send_result(channel, msg, result, truncated, more=False):
    if builtin_fixtures.SUITE_PROPERTIES:  # recorded while this test ran
        result.suite_properties = builtin_fixtures.take_suite_properties()
    if hooks.PENDING:  # warnings since the last result: they travel with this one
        result.worker_warnings = hooks.take_warnings()
    try:
        channel.send_result(msg.sequence, msg.worker_id, result, truncated, more)
    except _core.ProtocolError:  # over the payload limit: cut every text and say so
        result.message = _cut(result.message)
        result.traceback = _cut(result.traceback)
        result.stdout = _cut(result.stdout)
        result.stderr = _cut(result.stderr)
        # Properties are short as a rule; when they are what overflows, each field keeps as
        # much room as one text above (the first pairs, each name and value a share of it).
        for field in ("properties", "suite_properties"):
            pairs = getattr(result, field)[:_RESEND_CHARS // 128]
            if pairs:
                share = max(_RESEND_CHARS // (2 * len(pairs)), 64)
                setattr(result, field, [(_cut(n, share), _cut(v, share)) for n, v in pairs])
        channel.send_result(msg.sequence, msg.worker_id, result, True, more)


def _exit_now(code):
    """Ends the process without interpreter shutdown: the orchestrator is gone, and a
    thread a test left running must not keep an orphan alive."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


_runner = None


def _session_teardown():
    """Session-scoped fixtures and pytest_unconfigure, before the process goes (once)."""
    global _runner
    runner, _runner = _runner, None
    if runner is None:
        return
    try:
        runner.capture.begin()
        runner.shutdown()
    except BaseException as e:  # noqa: BLE001 - the end of the worker must not fail here
        _warn(f"session teardown failed: {type(e).__name__}: {e}")


def _shutdown():
    """The end of the run: session fixtures are finalized, atexit handlers run (coverage and
    the like write their data), then the process ends without the interpreter's slow
    teardown of every module the tests imported (tens of ms, which the orchestrator would
    wait for)."""
    import atexit

    _session_teardown()
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
    _profile(os.environ.get("DXPY_WORKER_PROFILE"))
    worker_id = _int_env("DXPY_WORKER_ID", 0)
    max_output = _int_env("DXPY_MAX_OUTPUT", DEFAULT_MAX_OUTPUT)
    _preload(os.environ.get("DXPY_PRELOAD", ""))
    from . import config as _config

    config = _config.load()
    _install_rewrite(config)
    global _runner
    try:
        runner = Runner(rootdir=os.environ.get("DXPY_ROOTDIR") or os.getcwd(), max_output=max_output,
                        config=config, worker_id=worker_id)
    except BaseException as e:  # noqa: BLE001 - a conftest plugin or the config: say why, then stop
        _warn(f"cannot start: {type(e).__name__}: {e}")
        raise
    _runner = runner
    try:
        channel.send_hello(os.getpid(), worker_id, "%d.%d.%d" % sys.version_info[:3])
    except _core.ChannelClosed:
        _exit_now(0)
    return _loop(channel, runner)


def _profile(prefix):
    """DXPY_WORKER_PROFILE=PREFIX (for developing dx-py): each worker runs under cProfile and
    writes PREFIX.<pid> at the end of the run (read it with pstats)."""
    if not prefix:
        return
    import atexit
    import cProfile

    profiler = cProfile.Profile()
    atexit.register(lambda: (profiler.disable(), profiler.dump_stats(f"{prefix}.{os.getpid()}")))
    profiler.enable()


def _install_rewrite(config):
    """Assertion rewriting (rewrite.py, when present) for test modules and conftests."""
    try:
        from . import rewrite
    except ImportError:
        rewrite = None
    if rewrite is not None:
        try:
            rewrite.install(config._data)
        except Exception as e:  # noqa: BLE001 - plain asserts still work without it
            hooks.warn(f"assertion rewriting is off: {type(e).__name__}: {e}")


class _Raise:
    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error


class _Next:
    """The message after the current one, taken from the channel without waiting when a test
    needs to know whether the next test leaves its module or class (fixture teardown)."""

    __slots__ = ("channel", "pending", "TestMessage", "ShutdownMessage")

    def __init__(self, channel):
        self.channel = channel
        self.pending = None
        self.TestMessage = _core.TestMessage
        self.ShutdownMessage = _core.ShutdownMessage

    def peek(self):
        """The next TestMessage, a ShutdownMessage, or None when nothing is waiting."""
        if self.pending is None:
            try:
                self.pending = self.channel.receive(0)
            except (_core.ChannelClosed, _core.ProtocolError) as e:
                self.pending = _Raise(e)  # the loop raises it when it takes the message
                return None
        pending = self.pending
        if type(pending) is self.TestMessage or type(pending) is self.ShutdownMessage:
            return pending
        return None


def _int_option(config, name):
    try:
        return max(int(getattr(config.option, name, 0) or 0), 0)
    except (AttributeError, TypeError, ValueError):
        return 0


_BAD = (_core.TestStatus.failed, _core.TestStatus.error)


def _run_with_retries(run, msg, emit, retries):
    """--retries N: a test whose results include a failure or an error runs again, up to N
    more times; only the last run's results are sent. One that failed and then passed is
    sent as passed with the message "flaky: ..." (report/sink.h), its first failure kept
    as the traceback."""
    first_failure = None
    for attempt in range(retries + 1):
        held = []
        result, truncated = run(msg.test, lambda r, t: held.append((r, t)), msg.last_of_module)
        bad = result.status in _BAD or any(r.status in _BAD for r, _ in held)
        if not bad or attempt == retries:
            break
        if first_failure is None:
            failed = result if result.status in _BAD else next(r for r, _ in held if r.status in _BAD)
            first_failure = failed.traceback or failed.message
    if attempt and not bad:
        result.message = f"flaky: passed on run {attempt + 1} of {retries + 1}"
        result.traceback = first_failure or ""
        # JUnit: a passed testcase with a property that says so (pytest-rerunfailures' kind of note).
        result.properties = list(result.properties) + [("dx-py.flaky", result.message[len("flaky: "):])]
    for r, t in held:
        emit(r, t)
    return result, truncated


def _loop(channel, runner):
    receive = channel.receive
    run = runner.run
    TestMessage = _core.TestMessage
    ShutdownMessage = _core.ShutdownMessage
    ChannelClosed = _core.ChannelClosed
    nxt = _Next(channel)
    runner.peek = nxt.peek
    retries = _int_option(runner.config, "reruns")
    freezer = heap.Freezer(heap.wanted(getattr(runner.config, "_data", None)))
    while True:
        try:
            msg = nxt.pending
            if msg is not None:
                nxt.pending = None
                if type(msg) is _Raise:
                    raise msg.error
            else:
                msg = receive()
            kind = type(msg)
            if kind is TestMessage:
                def emit(result, truncated, msg=msg):
                    _send_result(channel, msg, result, truncated, True)

                if retries:
                    result, truncated = _run_with_retries(run, msg, emit, retries)
                else:
                    result, truncated = run(msg.test, emit, msg.last_of_module)
                _send_result(channel, msg, result, truncated)
                freezer.after_test()
            elif kind is ShutdownMessage:
                _shutdown()
            else:
                hooks.warn(f"ignoring an unexpected message: {getattr(msg, 'type', msg)!r}")
        except ChannelClosed:  # the orchestrator is gone or closed its end
            _session_teardown()
            _exit_now(0)
        except _core.ProtocolError as e:  # undecodable message or corrupt ring: a bug to show
            _warn(f"protocol error (malformed message or corrupt channel): {e}")
            _exit_now(3)
        except KeyboardInterrupt:
            # SIGINT outside a test: the orchestrator decides when the worker stops.
            continue
