"""Per-test capture of stdout and stderr at the file-descriptor level.

The orchestrator gives the worker two memfds as fd 1 and fd 2 for its whole life (so
output from C code and subprocesses is captured too, and the orchestrator can read the
tail after a crash). Nothing is dup2()ed around a test: after it, whatever the files hold
is the test's output, and the files are emptied for the next one. A test that printed
nothing costs one fstat() per stream.

A test that closed fd 1 or 2, or put another file there, gets the original put back (from
a copy taken at startup) after it: the stat() that gives the size also tells.
"""
import os
import sys


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # closed or replaced by the test with something odd
            pass


class Capture:
    """Takes what a test wrote to `fds` (stdout, stderr), keeping at most `max_output`
    bytes per stream: the first and the last half, with a line saying how much went."""

    def __init__(self, max_output, fds=(1, 2)):
        self.max_output = max(int(max_output), 2)
        self.out_fd, self.err_fd = fds
        self._files = {}  # fd -> (copy of the original, (st_dev, st_ino))
        for fd in fds:
            try:
                st = os.fstat(fd)
                self._files[fd] = (os.dup(fd), (st.st_dev, st.st_ino))
            except OSError:  # not open at startup: nothing to take, nothing to put back
                self._files[fd] = (None, None)

    def begin(self):
        """Before a test: what Python buffered so far is not the test's."""
        _flush()

    def end(self):
        """After a test: (stdout, stderr, truncated), and both files empty again."""
        _flush()
        files = self._files
        out = err = ""
        truncated = False
        size = self._pending(self.out_fd, files)
        if size:
            out, truncated = self._take(self.out_fd, size)
        size = self._pending(self.err_fd, files)
        if size:
            err, cut = self._take(self.err_fd, size)
            truncated = truncated or cut
        return out, err, truncated

    def _pending(self, fd, files):
        """Bytes waiting in `fd`'s memfd; a test that closed or replaced the fd gets it back."""
        try:
            st = os.fstat(fd)
        except OSError:
            st = None
        if st is None or (st.st_dev, st.st_ino) != files[fd][1]:
            return self._put_back(fd)
        return st.st_size

    def _put_back(self, fd):
        """The test closed `fd` or put another file there: the original goes back, and
        its size is returned (what the test wrote before it changed the descriptor)."""
        original, _ = self._files[fd]
        if original is None:
            return 0
        try:
            os.dup2(original, fd)
            return os.fstat(fd).st_size
        except OSError:
            return 0

    def _take(self, fd, size):
        limit = self.max_output
        try:
            if size <= limit:
                data = os.pread(fd, size, 0)
                cut = False
            else:
                head = limit // 2
                tail = limit - head
                data = b"".join((os.pread(fd, head, 0),
                                 f"\n[... {size - limit} bytes of output not kept ...]\n".encode(),
                                 os.pread(fd, tail, size - tail)))
                cut = True
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        except OSError as e:  # not a regular file any more: say so rather than fail the run
            return f"[dx-py: cannot read the captured output of fd {fd}: {e}]\n", False
        return data.decode("utf-8", "replace"), cut


def make_capture(max_output, mode):
    """The capture for --capture=MODE: fd (the memfds at fds 1 and 2), else the orchestrator
    gave the worker its own fds 1 and 2 (the terminal) and nothing is taken."""
    if mode in ("sys", "tee-sys"):
        return SysCapture(max_output, tee=mode == "tee-sys")
    if mode == "no":
        return PassThrough()
    return Capture(max_output)


class _Tee:
    """--capture=tee-sys: writes go to the capture and on to the terminal."""

    def __init__(self, capture, terminal):
        self._capture = capture
        self._terminal = terminal

    def write(self, text):
        self._terminal.write(text)
        return self._capture.write(text)

    def flush(self):
        self._terminal.flush()
        self._capture.flush()

    def __getattr__(self, name):
        return getattr(self._capture, name)


class SysCapture(Capture):
    """--capture=sys|tee-sys: sys.stdout and sys.stderr are replaced during each test by
    text streams over two memfds of the worker's own, which the file-level capture above
    then reads (capsys too); what C code or subprocesses write to fds 1 and 2 goes to the
    terminal, as in pytest."""

    def __init__(self, max_output, tee=False):
        import io

        fds = (os.memfd_create("dxpy-sys-stdout", os.MFD_CLOEXEC), os.memfd_create("dxpy-sys-stderr", os.MFD_CLOEXEC))
        super().__init__(max_output, fds=fds)
        streams = [io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", write_through=True)
                   for fd in fds]
        if tee:
            streams = [_Tee(streams[0], sys.stdout), _Tee(streams[1], sys.stderr)]
        self._streams = streams
        self._saved = None

    def begin(self):
        _flush()
        if self._saved is None:
            self._saved = (sys.stdout, sys.stderr)
            sys.stdout, sys.stderr = self._streams

    def end(self):
        self.release()
        saved, self._saved = self._saved, None
        _flush()
        if saved is not None:
            sys.stdout, sys.stderr = saved
        return super().end()

    def redirect(self):
        """A capsys/capfd fixture: fds 1 and 2 also go to the capture files until the end of
        the test, so that capfd sees what is written below Python too."""
        _redirect_fds(self, lambda: (self.out_fd, self.err_fd))

    def release(self):
        _release_fds(self)


class PassThrough:
    """-s: output goes straight to the terminal. A capsys/capfd fixture gets fds 1 and 2
    redirected to memfds of its own for the rest of its test (redirect/release), so that it
    still reads what the test printed, as in pytest with -s."""

    def __init__(self):
        self.out_fd, self.err_fd = 1, 2

    def begin(self):
        _flush()

    def end(self):
        self.release()
        _flush()
        return "", "", False

    def redirect(self):
        _redirect_fds(self, lambda: [os.memfd_create("dxpy-capture", os.MFD_CLOEXEC) for _ in (1, 2)], close=True)

    def release(self):
        _release_fds(self)


def _redirect_fds(owner, targets, close=False):
    """Points fds 1 and 2 at `targets()` (two fds; closed after when `close`) until
    _release_fds(owner); the originals are kept on `owner`. Once per test."""
    if getattr(owner, "_fd_saved", None) is not None:
        return
    _flush()
    owner._fd_saved = (os.dup(1), os.dup(2))
    for fd, target in zip((1, 2), targets()):
        os.dup2(target, fd)
        if close:
            os.close(target)


def _release_fds(owner):
    """Puts back the fds 1 and 2 that _redirect_fds(owner, ...) replaced."""
    saved, owner._fd_saved = getattr(owner, "_fd_saved", None), None
    if saved is None:
        return
    _flush()
    for fd, original in zip((1, 2), saved):
        os.dup2(original, fd)
        os.close(original)
