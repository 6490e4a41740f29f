"""Undoing what a test left behind in the process: the working directory, the
environment, sys.path, sys.stdout/sys.stderr, the warning filters and a few signal
handlers.

A worker runs thousands of tests, so restore() runs after every one: each check is a
comparison that costs well under a microsecond when nothing changed, and only what
changed is put back.

The snapshot is taken at startup (after the preloads) and again after each test module
is imported: what a module does at import time (sys.path.insert, os.environ.setdefault,
a signal handler) stays for all of its tests, as it does under pytest.
"""
import os
import signal
import sys
import warnings

# signal.getsignal() turns its answer into a Handlers enum, which costs 2 us a call: the C
# function under it answers in 15 ns, with SIG_DFL and SIG_IGN as the ints 0 and 1.
try:
    import _signal
except ImportError:  # pragma: no cover - CPython has it; elsewhere the wrapper will do
    _signal = signal

_SIGNALS = tuple(
    int(getattr(signal, name))
    for name in ("SIGINT", "SIGTERM", "SIGALRM", "SIGCHLD", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGPIPE")
    if hasattr(signal, name)
)

# The bytes-level mapping behind os.environ: comparing it is one dict comparison in C, where
# comparing os.environ itself would encode every key and value in Python.
_environ_data = getattr(os.environ, "_data", None)


class State:
    def __init__(self):
        self.snapshot()

    def snapshot(self):
        self._cwd = os.getcwd()
        # The bytes mapping is copied in C; the str one is made only if a test changed it.
        self._env_data = dict(_environ_data) if _environ_data is not None else None
        self._env = dict(os.environ) if _environ_data is None else None
        self._path = list(sys.path)
        self._stdout = sys.stdout
        self._stderr = sys.stderr
        self._signals = [(sig, _signal.getsignal(sig)) for sig in _SIGNALS]
        filters = warnings.filters
        self._wf_obj = filters
        self._wf_copy = list(filters)
        self._wf_len = len(filters)
        self._wf_first = filters[0] if filters else None

    def restore(self):
        """Puts back whatever differs from the snapshot."""
        try:
            if os.getcwd() != self._cwd:
                os.chdir(self._cwd)
        except OSError:  # the test removed the folder it went into
            os.chdir(self._cwd)
        if (_environ_data != self._env_data) if _environ_data is not None else (os.environ != self._env):
            self._restore_environ()
        if sys.path != self._path:
            sys.path[:] = self._path
        if sys.stdout is not self._stdout:
            sys.stdout = self._stdout
        if sys.stderr is not self._stderr:
            sys.stderr = self._stderr
        filters = warnings.filters
        if filters is not self._wf_obj or len(filters) != self._wf_len or (
                filters and filters[0] is not self._wf_first):
            self._restore_warnings()
        getsignal = _signal.getsignal
        for sig, handler in self._signals:
            if getsignal(sig) is not handler:
                self._restore_signal(sig, handler)

    def _restore_environ(self):
        env = self._env
        if env is None:
            decodekey, decodevalue = os.environ.decodekey, os.environ.decodevalue
            env = self._env = {decodekey(k): decodevalue(v) for k, v in self._env_data.items()}
        os.environ.clear()
        os.environ.update(env)

    def _restore_warnings(self):
        """A test that changed the warning filters (warnings.simplefilter("error")) without
        putting them back: pytest runs each test inside catch_warnings()."""
        warnings.filters = self._wf_obj
        self._wf_obj[:] = self._wf_copy
        mutated = getattr(warnings, "_filters_mutated", None)
        if mutated is not None:
            mutated()

    @staticmethod
    def _restore_signal(sig, handler):
        if sig == signal.SIGALRM:
            # A handler for SIGALRM means a timer may still be armed: stop it before the
            # default action (terminate) can kill the worker in a later test.
            signal.setitimer(signal.ITIMER_REAL, 0)
        if handler is None:  # installed from C before the snapshot: cannot be put back
            return
        try:
            _signal.signal(sig, handler)
        except (OSError, ValueError, TypeError):
            pass
