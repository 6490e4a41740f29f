"""Per-test capture of stdout and stderr at the file-descriptor level.

fd 1 and fd 2 point at temporary files while a test runs, so output from C code and
subprocesses is captured too, as pytest's capfd-style global capture does.
"""
import os
import sys
import tempfile


class FdCapture:
    def __init__(self):
        self._files = {fd: tempfile.TemporaryFile(buffering=0) for fd in (1, 2)}
        self._saved = {}

    def start(self):
        _flush()
        for fd, f in self._files.items():
            self._saved[fd] = os.dup(fd)
            os.dup2(f.fileno(), fd)

    def stop(self):
        """Restores fd 1 and 2 and returns (stdout, stderr) as text."""
        _flush()
        out = []
        for fd, f in self._files.items():
            os.dup2(self._saved.pop(fd), fd)
            f.seek(0)
            out.append(f.read().decode("utf-8", "replace"))
            f.seek(0)
            f.truncate()
        return out[0], out[1]


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
