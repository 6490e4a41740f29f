"""The template process: forks fresh workers in milliseconds (src/dxpy/pool/template.h).

The orchestrator starts `python -m dx_py_test_runner.worker` with DXPY_TEMPLATE=FD (its end
of a SOCK_SEQPACKET control socket) and DXPY_TEMPLATE_PRELOAD (comma-separated modules the
orchestrator knows are not the project's: what the conftests import from outside it). This
process imports the worker runtime and those modules, reports what it holds, then forks a
worker per request. The child is what `python -m dx_py_test_runner.worker` would be at its
start, with the imports already done: it takes its descriptors (1 to 5) from the request and
runs main.main().

What it holds is reported, so that the orchestrator starts a new template when one of
those changes: every file under the rootdir it imported ("f" + path; none as a rule, but an
installed project or a PYTHONPATH entry inside the rootdir is possible) and the top-level
name of every module it imported ("n" + name: a project file added under such a name would
shadow it in a fresh worker).

Never a thread here: fork copies only the calling thread, so a preload that started one
makes the template refuse to fork (the orchestrator then starts workers the usual way).
"""
import os
import signal
import socket
import sys

_MAX_PACKET = 64 * 1024
_PR_SET_PDEATHSIG = 1


def _preload(names):
    import importlib

    for name in filter(None, (n.strip() for n in names.split(","))):
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - not importable here: the worker will say so itself
            pass


def _held(rootdir):
    """(files under rootdir, top-level names) of every module imported. The files are named
    from `rootdir` as given (the orchestrator's spelling, which inotify's paths use), also
    when they were imported through a symlink or from a folder reached through one."""
    real_root = os.path.realpath(rootdir) if rootdir else None
    files, names = set(), set()

    def add(path):
        if real_root and isinstance(path, str):
            real = os.path.realpath(path)
            if real.startswith(real_root + os.sep):
                files.add(os.path.join(rootdir, os.path.relpath(real, real_root)))

    for name, mod in list(sys.modules.items()):
        names.add(name.partition(".")[0])
        add(getattr(mod, "__file__", None))
        for p in getattr(mod, "__path__", None) or ():  # a package's folder, a namespace portion
            add(p)
    return sorted(files), sorted(names)


def _python_threads():
    import threading

    return threading.active_count()


def _set_pdeathsig():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def _child(ctl, fds, worker_id, template_pid, main):
    """In the forked worker: becomes the worker the orchestrator asked for. Never returns."""
    code = 1
    try:
        ctl.close()
        if not _set_pdeathsig() or os.getppid() != template_pid:
            os._exit(127)  # the template (and so the orchestrator) is already gone
        try:
            os.setpgid(0, 0)
        except OSError:
            pass  # the template already made it
        for target, fd in zip((1, 2, 3, 4, 5), fds):
            os.dup2(fd, target, inheritable=target < 3)
        for fd in fds:
            if fd > 5:
                os.close(fd)
        os.environ["DXPY_WORKER_ID"] = str(worker_id)
        os.environ["DXPY_TEMPLATE_PID"] = str(template_pid)  # interrupt.py: our parent
        os.environ.pop("DXPY_TEMPLATE", None)
        os.environ.pop("DXPY_TEMPLATE_PRELOAD", None)
        sys.argv[:] = [os.path.join(os.path.dirname(__file__), "__main__.py")]
        code = main.main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - as an uncaught exception ends a spawned worker
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code if isinstance(code, int) else 0)


def _send(ctl, text):
    ctl.send(text.encode("utf-8", "surrogateescape"))


def serve(fd):
    ctl = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)
    template_pid = os.getpid()
    from . import main

    try:  # what a worker imports on its way to the first test
        from . import rewrite  # noqa: F401
    except ImportError:
        pass
    import importlib.metadata  # noqa: F401 - hooks' plugin entry points
    import importlib.util  # noqa: F401
    import inspect  # noqa: F401
    import pathlib  # noqa: F401
    import warnings  # noqa: F401

    try:  # fills importlib.metadata's path cache (checked against each folder's mtime)
        importlib.metadata.entry_points(group="pytest11")
    except Exception:  # noqa: BLE001 - metadata of broken installs: the worker says so
        pass
    _preload(os.environ.get("DXPY_TEMPLATE_PRELOAD", ""))
    files, names = _held(os.environ.get("DXPY_ROOTDIR", ""))
    for f in files:
        _send(ctl, "f" + f)
    for n in names:
        _send(ctl, "n" + n)
    if "threading" in sys.modules and _python_threads() > 1:
        _send(ctl, "error a preloaded module started a thread: the template cannot fork")
    else:
        _send(ctl, "ready")
    children = set()
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, _MAX_PACKET, 8)
        except OSError:
            break
        if not msg:
            break
        words = msg.decode("utf-8", "replace").split()
        if words[:1] == ["fork"] and not _python_threads_ok():
            reply = "error a thread is running in the template: it cannot fork"
        elif words[:1] == ["fork"] and len(words) == 2 and len(fds) == 5:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            pid = os.fork()
            if pid == 0:
                _child(ctl, fds, int(words[1]), template_pid, main)
            try:
                os.setpgid(pid, pid)  # before anyone signals the group
            except OSError:
                pass
            children.add(pid)
            reply = f"pid {pid}"
        elif words[:1] == ["reap"] and len(words) == 2 and int(words[1]) in children:
            pid = int(words[1])
            while True:
                try:
                    _, status = os.waitpid(pid, 0)
                    break
                except ChildProcessError:
                    status = -1
                    break
                except InterruptedError:
                    continue
            children.discard(pid)
            reply = f"status {status}"
        else:
            reply = "error bad request: " + msg[:80].decode("utf-8", "replace")
        for f in fds:
            os.close(f)
        _send(ctl, reply)
    # The orchestrator is done with us: no child outlives the template.
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
    return 0


def _python_threads_ok():
    return "threading" not in sys.modules or _python_threads() == 1
