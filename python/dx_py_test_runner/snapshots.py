"""Snapshot testing: `dx.snapshot(value, name=None)` and the `snapshot` fixture
(`assert value == snapshot`). See docs/snapshots.md.

A value is serialized to text (`serialize`: a stable, indented repr: dicts and sets sorted,
dataclasses, namedtuples, enums, bytes, nested containers; `register_serializer` for other
types) and compared with the entry (test node id, name) of the test module's
`__snapshots__/<module>.snap` file. The comparison is decided from the BLAKE3 hash kept in
`.dx-py/snapshots.idx` (src/dxpy/snapshot/checker.h, through `_core.SnapshotChecker`, one
call per snapshot): the hash is looked up in place in the index, and the .snap file is read
only on a mismatch, to show the diff, or when the index is stale.

What the run asked for comes from DXPY_CONFIG: `options.update_snapshots` (-u) writes changed
entries, `options.ci` (--ci) fails on a missing one instead of writing it; `snapshots.records`
is the folder where each worker leaves what it matched, wrote and updated (one binary file
per process, written at exit from the checker's buffer) for the orchestrator's report of written and unused snapshots.
"""
import enum
import os

from . import _core

__all__ = ["snapshot", "register_serializer", "serialize", "SnapshotAssertion", "SnapshotMismatch"]

_INDENT = "  "
_ADDRESS = None  # re.compile(r" at 0x[0-9A-Fa-f]+"), on first use
_serializers = []  # (type, fn), most recent first


class SnapshotMismatch(AssertionError):
    """A value that differs from its stored snapshot; the message holds a unified diff."""


def register_serializer(cls, fn):
    """Serialize instances of `cls` (and its subclasses) with `fn(value) -> str`, ahead of the
    built-in rules. The latest registration for a type wins. `fn` must be deterministic: the
    same value always gives the same text. Nested values keep the built-in layout around it;
    `fn` may call `serialize()` for its own parts."""
    if not isinstance(cls, type):
        raise TypeError(f"register_serializer() needs a type, not {cls!r}")
    if not callable(fn):
        raise TypeError(f"register_serializer() needs a callable, not {fn!r}")
    _serializers[:] = [(c, f) for c, f in _serializers if c is not cls]
    _serializers.insert(0, (cls, fn))


def serialize(value):
    """The snapshot text of `value`: the same text for equal values on every run."""
    if not _serializers:
        kind = type(value)
        if kind is str:
            return _str(value, True)
        if kind is int or kind is float or kind is bool or value is None:
            return repr(value)
    out = []
    _write(value, 0, out, set(), True)
    return "".join(out)


def _str(value, top):
    # A multi-line string alone is shown as its lines, readable in the .snap file and in a
    # diff; inside a container, or a one-line string, as its repr.
    if top and "\n" in value:
        return "str:\n" + "\n".join(_INDENT + line if line else "" for line in value.split("\n"))
    return repr(value)


def _custom(value):
    for cls, fn in _serializers:
        if isinstance(value, cls):
            text = fn(value)
            if not isinstance(text, str):
                raise TypeError(f"the snapshot serializer for {cls.__name__} returned {type(text).__name__}, not str")
            return text
    return None


def _write(value, depth, out, active, top=False):
    if _serializers:
        text = _custom(value)
        if text is not None:
            out.append(text.replace("\n", "\n" + _INDENT * depth))
            return
    kind = type(value)
    if kind in _SCALARS:  # the common case first: one dict lookup
        out.append(repr(value))
        return
    writer = _EXACT.get(kind)
    if writer is not None:
        writer(value, depth, out, active, top)
        return
    _write_other(value, kind, depth, out, active, top)


def _write_str(value, depth, out, active, top):
    out.append(_str(value, top))


def _write_dict(value, depth, out, active, top, name=""):
    if id(value) in active:
        out.append(f"<cycle: {type(value).__name__}>")
        return
    items = [(_text(k, depth + 1, active), v) for k, v in value.items()]
    items.sort(key=lambda kv: kv[0])
    _block(out, depth, active, value, name + "({" if name else "{", "})" if name else "}",
           [(k + ": ", v) for k, v in items])


def _write_list(value, depth, out, active, top, opening="[", closing="]"):
    if id(value) in active:
        out.append(f"<cycle: {type(value).__name__}>")
        return
    _block(out, depth, active, value, opening, closing, [("", v) for v in value])


def _write_tuple(value, depth, out, active, top):
    _write_list(value, depth, out, active, top, "(", ")")


def _write_set(value, depth, out, active, top):
    kind = type(value)
    name = "frozenset" if isinstance(value, frozenset) else "set"
    if not value:
        out.append(f"{name}()" if kind in (set, frozenset) else f"{kind.__name__}()")
        return
    texts = sorted(_text(v, depth + 1, active) for v in value)
    opening = "{" if kind is set else f"{kind.__name__}({{"
    closing = "}" if kind is set else "})"
    out.append(opening + "\n")
    pad = _INDENT * (depth + 1)
    for t in texts:
        out.append(pad + t + ",\n")
    out.append(_INDENT * depth + closing)


def _write_bytes(value, depth, out, active, top):
    out.append(repr(value))


_SCALARS = frozenset({type(None), bool, int, float, complex})
_EXACT = {str: _write_str, dict: _write_dict, list: _write_list, tuple: _write_tuple, set: _write_set,
          frozenset: _write_set, bytes: _write_bytes, bytearray: _write_bytes}


def _write_other(value, kind, depth, out, active, top):
    """Subclasses of the built-in types, enums, namedtuples, dataclasses, anything else."""
    if isinstance(value, enum.Enum):
        out.append(f"{kind.__name__}.{value.name}")
        return
    if isinstance(value, str):
        out.append(_str(str(value), top))
        return
    if isinstance(value, (bytes, bytearray, memoryview)):
        out.append(repr(bytes(value)) if kind is not bytearray else repr(value))
        return
    if isinstance(value, (bool, int, float, complex)):
        out.append(repr(value))
        return
    if id(value) in active:
        out.append(f"<cycle: {kind.__name__}>")
        return
    if isinstance(value, dict):
        _write_dict(value, depth, out, active, top, kind.__name__)
        return
    if isinstance(value, tuple) and hasattr(kind, "_fields"):  # a namedtuple
        _block(out, depth, active, value, kind.__name__ + "(", ")",
               [(f + "=", getattr(value, f)) for f in kind._fields])
        return
    if isinstance(value, list):
        _write_list(value, depth, out, active, top, kind.__name__ + "([", "])")
        return
    if isinstance(value, tuple):
        _write_list(value, depth, out, active, top, kind.__name__ + "((", "))")
        return
    if isinstance(value, (set, frozenset)):
        _write_set(value, depth, out, active, top)
        return
    if hasattr(kind, "__dataclass_fields__"):  # a dataclass instance (the class itself is a type)
        import dataclasses

        _block(out, depth, active, value, kind.__name__ + "(", ")",
               [(f.name + "=", getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr])
        return
    # Anything else: its repr, without the memory addresses that change from run to run.
    global _ADDRESS
    if _ADDRESS is None:
        import re

        _ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+")
    out.append(_ADDRESS.sub(" at 0x...", repr(value)).replace("\n", "\n" + _INDENT * depth))


def _prefix(kind, base):
    """A subclass of dict/list/tuple shows its name: OrderedDict({...})."""
    return "" if kind is base else kind.__name__


def _text(value, depth, active):
    kind = type(value)
    if kind is str:
        return repr(value)
    if kind in _SCALARS and not _serializers:
        return repr(value)
    out = []
    _write(value, depth, out, active)
    return "".join(out)


def _block(out, depth, active, container, opening, closing, items):
    if not items:
        out.append(opening + closing)
        return
    active.add(id(container))
    out.append(opening + "\n")
    pad = _INDENT * (depth + 1)
    for label, v in items:
        kind = type(v)
        if (kind in _SCALARS or kind is str) and not _serializers:
            out.append(f"{pad}{label}{v!r},\n")
            continue
        out.append(pad + label)
        _write(v, depth + 1, out, active)
        out.append(",\n")
    out.append(_INDENT * depth + closing)
    active.discard(id(container))


def diff(old, new, name="snapshot"):
    """The unified diff of the stored text (-) and the new one (+), as lines."""
    import difflib

    return list(difflib.unified_diff(old.split("\n"), new.split("\n"), fromfile=f"{name} (stored)",
                                     tofile=f"{name} (this run)", lineterm="", n=3))


# --- the worker's state ----------------------------------------------------------------------


class _Session:
    """One worker's snapshot state: the checker (each .snap file's hashes, what it did) and
    the test the fields below are for."""

    def __init__(self, runner):
        self.runner = runner
        data = getattr(runner.config, "_data", None) or {}
        options = data.get("options") or {}
        self.ci = bool(options.get("ci", False))
        # --ci never writes (the command line refuses -u with --ci; this keeps it so for any caller)
        self.update = bool(options.get("update_snapshots", False)) and not self.ci
        self.records_dir = (data.get("snapshots") or {}).get("records") or ""
        self.snapshot_dir = (data.get("snapshots") or {}).get("dir") or ""  # rootdir-relative; "": beside the tests
        self.checker = _core.SnapshotChecker(str(runner.rootdir_str), data.get("cache_dir") or "")
        # New entries are held and written per .snap file (module) in one locked write, when
        # the checks move to another file and at the worker's end (a first run writes many);
        # an entry that is not written is missing next time and written then, and is not
        # counted as written. With --update-snapshots each change is written in its test's own
        # time, so that a failed write fails the test that asked for it.
        self.checker.set_deferred(not self.update)
        self.store = self.checker.store
        self.token = None  # the test (item or case) the fields below are for
        self.counter = 0
        self.nodeid = self.snap = ""
        import atexit

        atexit.register(self.finish)

    def finish(self):
        """At the worker's end: the held entries written, then the run record."""
        try:
            self.checker.flush()
        except (OSError, ValueError) as e:
            import sys

            print(f"dx-py: snapshots could not be written: {e}", file=sys.stderr)
        if self.records_dir:
            self.checker.write_records(os.path.join(self.records_dir, f"{os.getpid()}.rec"))


_session = None
_main = None  # the worker's main module, which holds the runner


def _current():
    """The worker's session, its `nodeid` and `snap` set for the test running now (looked
    up once per test)."""
    global _session, _main
    if _main is None:
        from .worker import main as _main
    runner = _main._runner
    case = runner.current_case if runner is not None else None
    if case is None:
        raise RuntimeError("dx.snapshot() works inside a test that dx-py runs (dx-py test)")
    session = _session
    if session is None or session.runner is not runner:
        session = _session = _Session(runner)
    item = runner.current_item
    token = item if item is not None else case
    if token is not session.token:
        session.token = token
        session.counter = 0
        session.nodeid = item.nodeid if item is not None else case.id.node_id
        session.snap = _core.snapshot_path_for(case.id.path, session.snapshot_dir)
    return session


def _check(value, name, retry=True):
    """None when `value` matches (or was written); else the failure's message lines."""
    session = _current()
    nodeid, snap = session.nodeid, session.snap
    if name is None:
        session.counter += 1
        name = str(session.counter)
    else:
        name = str(name)
    if type(value) is str and not _serializers and "\n" not in value:
        text = repr(value)  # serialize()'s rule for a one-line str, without its calls
    else:
        text = serialize(value)
    # One call: the hash from the index, compared in C++, a match recorded as a use.
    outcome = session.checker.check(snap, nodeid, name, text)
    if outcome < 0:  # lone surrogates: kept visible, and storable
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        outcome = session.checker.check(snap, nodeid, name, text)
        if outcome < 0:
            raise ValueError(f"snapshot {name!r} of {nodeid}: the name has no UTF-8 form")
    if outcome == 0:
        return None
    if outcome == 1:
        if session.ci:
            return [f"snapshot {name!r} of {nodeid} does not exist in {snap}",
                    "(--ci never writes snapshots: run dx-py test without --ci, or with "
                    "--update-snapshots, and commit the .snap file)"]
        session.checker.write(snap, nodeid, name, text)
        return None
    if session.update:
        session.checker.write(snap, nodeid, name, text, updated=True)
        return None
    session.checker.record_used(snap, nodeid, name)  # used, though different: not unused
    old = session.checker.stored_value(snap, nodeid, name)
    if old is None and retry:  # the file changed under us since its hashes were read
        session.checker.forget(snap)
        return _check(value, name, retry=False)
    if old is None:
        old = ""
    return [f"snapshot {name!r} of {nodeid} does not match {snap}",
            "(run dx-py test --update-snapshots to accept the new value)", ""] + diff(old, text, name)


def snapshot(value, name=None):
    """Asserts that `value` serializes to the text stored for this test and `name` (by
    default "1", "2", ... in call order within the test). A missing snapshot is written
    (with --ci the test fails instead); a different one fails with a unified diff, or is
    replaced with --update-snapshots."""
    __tracebackhide__ = True
    lines = _check(value, name)
    if lines is not None:
        raise SnapshotMismatch("\n".join(lines))


class SnapshotAssertion:
    """The `snapshot` fixture: `assert value == snapshot` (or `snapshot(name="x")` for a
    named entry: `assert value == snapshot(name="x")`)."""

    __slots__ = ("_name", "_lines")

    def __init__(self, name=None):
        self._name = name
        self._lines = None

    def __call__(self, name=None):
        return SnapshotAssertion(name)

    def __eq__(self, other):
        self._lines = _check(other, self._name)
        return self._lines is None

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def __repr__(self):
        return "snapshot" if self._name is None else f"snapshot(name={self._name!r})"

    def dx_explain_eq(self):
        """The lines of a failed `==` (reprcompare.compare asks for them)."""
        return self._lines
