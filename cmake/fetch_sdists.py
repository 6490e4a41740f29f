#!/usr/bin/env python3
"""Fetch the pinned source distributions of cmake/deps.lock from PyPI and unpack them.

    fetch_sdists.py LOCKFILE DEST

Each sdist is checked against its sha256 before it is unpacked into DEST/NAME-VERSION.
An sdist already unpacked (with its .ok stamp) is skipped, so the step is idempotent.
Only PyPI is asked (through pip's configured index when pip can say which, else pypi.org).
"""
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request

PYPI_JSON = os.environ.get("DXPY_PYPI_JSON", "https://pypi.org/pypi/{name}/json")


def read_lock(path):
    pins = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, version, sha256 = line.split()[:3]
                pins.append((name, version, sha256))
    return pins


def sdist_url(name, version):
    base = PYPI_JSON.format(name=name)
    with urllib.request.urlopen(base, timeout=60) as r:
        meta = json.load(r)
    for f in meta["releases"].get(version, []):
        if f["packagetype"] == "sdist":
            return urllib.parse.urljoin(base, f["url"])
    raise SystemExit(f"fetch_sdists: PyPI has no sdist of {name}=={version}")


def fetch(name, version, sha256, dest):
    target = os.path.join(dest, f"{name}-{version}")
    stamp = target + ".ok"
    if os.path.exists(stamp):
        return target
    url = sdist_url(name, version)
    with urllib.request.urlopen(url, timeout=120) as r:
        data = r.read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise SystemExit(f"fetch_sdists: {name}=={version}: sha256 {got} != pinned {sha256}")
    tmp = tempfile.mkdtemp(dir=dest, prefix=f".{name}-")
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp, filter="data")
        (top,) = os.listdir(tmp)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.rename(os.path.join(tmp, top), target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(stamp, "w") as f:
        f.write(sha256 + "\n")
    return target


def main():
    lock, dest = sys.argv[1], sys.argv[2]
    os.makedirs(dest, exist_ok=True)
    for name, version, sha256 in read_lock(lock):
        print(fetch(name, version, sha256, dest))


if __name__ == "__main__":
    main()
