"""Helpers for the test_engine_* tests (no tests here): the worker's engine (Runner) run in this
process on a small project; each test case built as the orchestrator builds it, every result
(run-time instances included) kept."""
import itertools
import json
import os
import sys
import textwrap
import uuid

from dx_py_test_runner import _core

S = _core.TestStatus
_counter = itertools.count()


class Project:
    def __init__(self, root, files, ini=None):
        self.root = root
        # Module names must be new to this process: the runner imports them for real.
        self.tag = f"{next(_counter)}_{uuid.uuid4().hex[:6]}"
        self.names = {}
        for rel, text in files.items():
            target = rel.replace("{tag}", self.tag)
            self.names[rel] = target
            path = os.path.join(root, target)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(textwrap.dedent(text).replace("{tag}", self.tag))
        self.ini = ini or {}

    def path(self, rel):
        return self.names.get(rel, rel.replace("{tag}", self.tag))

    def case(self, node_id, kind=None, expand=False):
        node_id = node_id.replace("{tag}", self.tag)
        c = _core.TestCase()
        c.id = _core.TestId.parse(node_id)
        c.file = os.path.join(self.root, c.id.path)
        c.expand_at_runtime = expand
        if kind is not None:
            c.kind = kind
        return c

    def runner(self, **config):
        from dx_py_test_runner.worker.capture import Capture
        from dx_py_test_runner.worker.config import Config
        from dx_py_test_runner.worker.runner import Runner

        data = {"rootdir": str(self.root), "confcutdir": str(self.root), "ini": dict(self.ini)}
        data.update(config)
        self.out = os.memfd_create("engine-out")
        self.err = os.memfd_create("engine-err")
        return Runner(rootdir=str(self.root), capture=Capture(1 << 20, fds=(self.out, self.err)),
                      config=Config(json.loads(json.dumps(data))))

    def run(self, *node_ids, runner=None, last=True, **config):
        """{node id: (status, message)} of every result, in order (a list of pairs)."""
        runner = runner or self.runner(**config)
        self.last_runner = runner
        got = []
        cases = [self.case(n) if isinstance(n, str) else n for n in node_ids]
        for i, c in enumerate(cases):
            nxt = cases[i + 1] if i + 1 < len(cases) else None
            runner.peek = (lambda nxt=nxt: _Msg(nxt)) if nxt is not None else (lambda: None)
            last_of_module = nxt is None or nxt.file != c.file
            results = []
            r, _ = runner.run(c, emit=lambda res, trunc: results.append(res), last_of_module=last_of_module and last)
            results.append(r)
            got.extend(results)
        self.results = got
        return [(r.id.node_id.replace(self.tag, "{tag}"), r.status) for r in got]

    def by_id(self):
        return {r.id.node_id.replace(self.tag, "{tag}"): r for r in self.results}

    def close(self):
        for fd in (getattr(self, "out", None), getattr(self, "err", None)):
            if fd is not None:
                os.close(fd)
        for name in list(sys.modules):
            if self.tag in name:
                del sys.modules[name]


class _Msg:
    def __init__(self, test):
        self.test = test
