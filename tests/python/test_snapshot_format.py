"""The snapshot serializer, the .snap text format through the extension module, and the
diff of a mismatch: Properties 15 and 16 (Hypothesis); the store's Property 17 is also
checked from Python (several processes writing one file)."""
import collections
import dataclasses
import enum
import multiprocessing
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dx_py_test_runner import _core
from dx_py_test_runner import snapshots as snap

# Text that stresses the format: header look-alikes, escapes, blank and CR lines.
tricky = st.lists(st.sampled_from(["a", "==", "== ", " | ", "|", "\\", "\\n", "\n", "\r", "  ", "#", "é", "\t", ""]),
                  max_size=12).map("".join)
texts = st.one_of(tricky, st.text(alphabet=st.characters(blacklist_categories=["Cs"])))
keys = st.tuples(texts, texts)


@given(st.dictionaries(keys, texts, max_size=8))
def test_snap_text_round_trips_any_entries(entries):
    items = [(t, n, v) for (t, n), v in entries.items()]
    text = _core.render_snapshot_file(items)
    assert _core.parse_snapshot_file(text) == sorted(items, key=lambda e: (e[0].encode(), e[1].encode()))
    # Deterministic: the order given does not matter.
    assert _core.render_snapshot_file(list(reversed(items))) == text


def test_snap_text_is_readable():
    text = _core.render_snapshot_file([("t.py::test_b", "1", "{\n  'a': 1,\n}"), ("t.py::test_a", "x", "== t.py::z | 1")])
    assert text.splitlines()[1:] == ["== t.py::test_a | x", "  == t.py::z | 1", "== t.py::test_b | 1", "  {",
                                     "    'a': 1,", "  }"]
    with pytest.raises(ValueError, match="line 2"):
        _core.parse_snapshot_file("== a | 1\nnot indented\n")


# --- the serializer ----------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass
class Box:
    name: str
    items: list
    secret: str = dataclasses.field(default="", repr=False)


class Color(enum.Enum):
    RED = 1


def test_serializer_layout():
    value = {"b": {3, 1, 2}, "a": [Point(1, 2), Box("x", [b"\x00", (1,)], "hidden")], "c": Color.RED,
             "d": frozenset(), "e": {}, "f": "multi\nline"}
    assert snap.serialize(value) == """{
  'a': [
    Point(
      x=1,
      y=2,
    ),
    Box(
      name='x',
      items=[
        b'\\x00',
        (
          1,
        ),
      ],
    ),
  ],
  'b': {
    1,
    2,
    3,
  },
  'c': Color.RED,
  'd': frozenset(),
  'e': {},
  'f': 'multi\\nline',
}"""
    assert snap.serialize("one\ntwo\n") == "str:\n  one\n  two\n"
    assert snap.serialize(collections.OrderedDict(b=1)) == "OrderedDict({\n  'b': 1,\n})"


def test_serializer_handles_cycles_and_addresses():
    loop = []
    loop.append(loop)
    assert snap.serialize(loop) == "[\n  <cycle: list>,\n]"

    class Thing:
        pass

    text = snap.serialize(Thing())
    assert " at 0x..." in text and snap.serialize(Thing()) == text


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    | st.frozensets(st.integers(), max_size=4).map(set) | st.tuples(inner, inner),
    max_leaves=20)


@given(json_like, st.randoms())
def test_serializer_is_deterministic_whatever_the_insertion_order(value, rnd):
    def shuffled(v):
        if isinstance(v, dict):
            items = list(v.items())
            rnd.shuffle(items)
            return {k: shuffled(x) for k, x in items}
        if isinstance(v, list):
            return [shuffled(x) for x in v]
        if isinstance(v, tuple):
            return tuple(shuffled(x) for x in v)
        if isinstance(v, set):
            items = list(v)
            rnd.shuffle(items)
            return set(items)
        return v

    assert snap.serialize(shuffled(value)) == snap.serialize(value)


@given(json_like, json_like)
def test_equal_serializations_mean_equal_plain_values(a, b):
    # Property 15's premise: the text (hence its hash) tells values apart.
    if snap.serialize(a) == snap.serialize(b):
        assert _normal(a) == _normal(b)


def _normal(v):
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, dict):
        return ("dict", sorted((k, _normal(x)) for k, x in v.items()))
    if isinstance(v, list):
        return ("list", [_normal(x) for x in v])
    if isinstance(v, tuple):
        return ("tuple", [_normal(x) for x in v])
    return (type(v).__name__, v)


def test_register_serializer_overrides_the_builtin_rules():
    class Money:
        def __init__(self, cents):
            self.cents = cents

    snap.register_serializer(Money, lambda m: f"${m.cents / 100:.2f}")
    try:
        assert snap.serialize({"price": Money(1999)}) == "{\n  'price': $19.99,\n}"
    finally:
        snap._serializers[:] = [(c, f) for c, f in snap._serializers if c is not Money]
    with pytest.raises(TypeError):
        snap.register_serializer("not a type", str)


# --- Property 16: the diff of a mismatch ---------------------------------------------------------


@given(texts, texts)
def test_diff_is_empty_exactly_for_equal_texts_and_rebuilds_both_sides(old, new):
    lines = snap.diff(old, new)
    if old == new:
        assert lines == []
        return
    assert lines[0].startswith("--- ") and lines[1].startswith("+++ ")
    body = [line for line in lines[2:] if not line.startswith("@@")]
    old_lines = [line[1:] for line in body if line[:1] in (" ", "-")]
    new_lines = [line[1:] for line in body if line[:1] in (" ", "+")]
    # With the unchanged lines outside the hunks, each side is rebuilt exactly.
    assert all(line in old.split("\n") for line in old_lines)
    assert all(line in new.split("\n") for line in new_lines)
    assert any(line.startswith("-") for line in body) or any(line.startswith("+") for line in body)


one_line = texts.map(lambda t: t.replace("\n", ""))


@given(st.lists(one_line, min_size=1, max_size=10), st.integers(0, 9), one_line)
def test_diff_shows_the_changed_line(lines, at, replacement):
    old = "\n".join(lines)
    changed = list(lines)
    at %= len(changed)
    if changed[at] == replacement:
        return
    changed[at] = replacement
    body = snap.diff(old, "\n".join(changed))[2:]
    # The new text has one more `replacement` line and one fewer old line: a diff must show both.
    assert "-" + lines[at] in body and "+" + replacement in body


# --- the store from Python (Property 17 across processes) ----------------------------------------


def _writer(root, worker, count):
    store = _core.SnapshotStore(root)
    for i in range(count):
        store.update("__snapshots__/t.snap", [(f"t.py::w{worker}", str(i), f"value {worker} {i}")])


def test_store_processes_lose_no_write(tmp_path):
    root = str(tmp_path)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(root, w, 20)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    entries = _core.SnapshotStore(root).read("__snapshots__/t.snap")
    assert len(entries) == 60
    reader = _core.SnapshotStore(root)
    hashes = reader.hashes("__snapshots__/t.snap")
    assert not reader.last_read_file
    assert hashes == {k: _core.blake3(v.encode()) for k, v in entries.items()}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["1", "2"]), texts,
                          st.booleans()), min_size=1, max_size=8))
def test_store_updates_match_a_model(tmp_path_factory, steps):
    root = str(tmp_path_factory.mktemp("store"))
    store = _core.SnapshotStore(root)
    model = {}
    for test, name, value, remove in steps:
        key = (test, name)
        if remove:
            model.pop(key, None)
            store.update("s/__snapshots__/m.snap", [], [key])
        else:
            model[key] = value
            store.update("s/__snapshots__/m.snap", [(test, name, value)])
        # The next reader sees exactly the model, from the index alone.
        fresh = _core.SnapshotStore(root)
        assert fresh.hashes("s/__snapshots__/m.snap") == {k: _core.blake3(v.encode()) for k, v in model.items()}
        assert fresh.read("s/__snapshots__/m.snap") == model
    assert os.path.exists(os.path.join(root, "s/__snapshots__/m.snap")) == bool(model)
