"""The worker's loop: read a test, run it, write its result, until an empty frame.

The transport is the interim one of issue 2: length-prefixed frames on two pipes whose
numbers come in DXPY_WORKER_FDS ("in,out"). Every frame's payload is a core type in the
C++ codec's binary form, encoded and decoded by the extension module.
"""
import os
import platform
import sys

from .. import _core
from .runner import Runner


def _read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _write_frame(fd, payload):
    data = len(payload).to_bytes(4, "little") + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main():
    fds = os.environ.get("DXPY_WORKER_FDS")
    if not fds:
        print("dx_py_test_runner.worker is started by dx-py, not by hand", file=sys.stderr)
        return 2
    rfd, wfd = (int(x) for x in fds.split(","))
    os.set_inheritable(rfd, False)
    os.set_inheritable(wfd, False)
    runner = Runner(rootdir=os.environ.get("DXPY_ROOTDIR", os.getcwd()))
    _write_frame(wfd, platform.python_version().encode())
    while True:
        header = _read_exact(rfd, 4)
        if header is None:
            return 0
        size = int.from_bytes(header, "little")
        if size == 0:
            return 0
        payload = _read_exact(rfd, size)
        if payload is None:
            return 0
        case = _core.decode_test_case(payload)
        result = runner.run(case)
        _write_frame(wfd, _core.encode(result))
