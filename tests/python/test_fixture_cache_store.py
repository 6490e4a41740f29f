"""dx.FixtureCache in this process: Property 14 (Fixture Cache Round-Trip) through the
Python side, the mapping without copies, bad entries, permissions, the key, the lock."""
import os
import pickle
import stat
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dx_py_test_runner as dx
from dx_py_test_runner import _core
from dx_py_test_runner.fixture_cache import FixtureCacheWarning, cached_fixture_function

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary()
    | st.builds(bytearray, st.binary()),
    lambda children: st.lists(children) | st.tuples(children, children)
    | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@pytest.fixture
def cache(tmp_path):
    return dx.FixtureCache(tmp_path / ".dx-py" / "fixtures")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(value=values, parts=st.lists(st.binary(), max_size=4), other=st.binary(min_size=1))
def test_property_14_round_trip_and_invalidation(cache, value, parts, other):
    cache.clear()  # one folder for every example
    key = cache.key(parts)
    cache.store("f", key, value)
    assert cache.load("f", key, default=KeyError) == value
    changed = cache.key([*parts, other])  # a dependency more, or a changed param: another key
    assert cache.load("f", changed, default=KeyError) is KeyError


class Blob:
    """An object whose bytes go out of band, as a numpy array's do."""

    def __init__(self, data):
        self.data = data

    def __reduce_ex__(self, protocol):
        return Blob, (pickle.PickleBuffer(self.data),)


def test_buffers_come_back_as_writable_views_over_the_mapping(cache):
    key = cache.key([b"blob"])
    cache.store("blob", key, Blob(bytearray(b"a" * 1_000_000)))
    loaded = cache.load("blob", key)
    view = loaded.data
    assert isinstance(view, memoryview) and not view.readonly
    assert type(view.obj).__name__ == "mmap"  # no copy: the pages of the file
    assert view[:3] == b"aaa" and len(view) == 1_000_000
    view[0] = ord("b")  # copy-on-write: the entry is unchanged
    assert cache.load("blob", key).data[0] == ord("a")


def test_entry_folder_is_private(cache):
    cache.store("f", cache.key([]), 1)
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    [entry] = cache.entries()
    assert stat.S_IMODE(os.stat(entry).st_mode) & 0o077 == 0


def test_unpicklable_value_names_the_fixture(cache):
    with pytest.raises(dx.FixtureCacheError, match="fixture 'conn' is cached .* cannot be pickled"):
        cache.store("conn", cache.key([]), threading.Lock())
    assert cache.entries() == []


@pytest.mark.parametrize("damage", [lambda b: b[:50], lambda b: b[:-1], lambda b: b + b"x",
                                    lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], lambda b: b"",
                                    lambda b: b"DXFC" + b"\xff" * 200])
def test_damaged_entry_is_a_miss(cache, damage):
    key = cache.key([b"k"])
    cache.store("f", key, {"a": list(range(100))})
    [entry] = cache.entries()
    with open(entry, "rb") as f:
        data = f.read()
    with open(entry, "wb") as f:
        f.write(damage(data))
    assert cache.load("f", key, default="miss") == "miss"
    assert cache.get_or_compute("f", key, lambda: "again") == "again"
    assert cache.load("f", key) == "again"


def test_entry_that_does_not_unpickle_is_a_miss(cache):
    key = cache.key([b"k"])
    data = pickle.dumps(Blob(bytearray(b"x")), protocol=5)  # a valid entry whose class is gone
    os.makedirs(cache.directory, exist_ok=True)
    _core.write_fixture_entry(cache.entry_path("f", key), key, data.replace(b"Blob", b"Gone"), [])
    assert cache.load("f", key, default="miss") == "miss"


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_entry_writable_by_others_is_ignored_with_a_warning(cache, mode):
    key = cache.key([b"k"])
    cache.store("f", key, "value")
    [entry] = cache.entries()
    os.chmod(entry, mode)
    with pytest.warns(FixtureCacheWarning, match="writable by others: ignored"):
        assert cache.load("f", key, default="miss") == "miss"


def test_key_parts_are_length_prefixed():
    assert dx.FixtureCache.key([b"ab", b"c"]) != dx.FixtureCache.key([b"a", b"bc"])
    assert len(dx.FixtureCache.key([])) == 32


def test_waiters_load_what_the_first_computed(cache):
    key = cache.key([b"slow"])
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.3)
        return "v"

    results = []
    # Separate FixtureCache objects: like separate workers (flock conflicts per open file).
    threads = [threading.Thread(target=lambda: results.append(dx.FixtureCache(cache.directory)
                                                              .get_or_compute("s", key, compute)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["v", "v", "v"]
    assert len(calls) == 1


def test_clear_removes_entries_and_locks(cache):
    cache.get_or_compute("a", cache.key([b"1"]), lambda: 1)
    cache.get_or_compute("b", cache.key([b"2"]), lambda: 2)
    assert cache.clear() == 2
    assert not os.path.exists(cache.directory)


def test_cached_function_asks_for_request_and_refuses_yield():
    def f(base):
        return base

    wrapped = cached_fixture_function(f, "f")
    import inspect

    assert list(inspect.signature(wrapped).parameters) == ["base", "request"]
    assert wrapped.__name__ == "f"

    def g():
        yield 1

    with pytest.raises(TypeError, match="cache=True needs a fixture that returns its value"):
        cached_fixture_function(g, "g")


def test_fixture_without_cache_is_unchanged():
    @dx.fixture(scope="module")
    def plain():
        return 1

    from dx_py_test_runner.worker.fixtures import getfixturemarker

    marker = getfixturemarker(plain)
    assert marker is not None and marker.scope == "module"
