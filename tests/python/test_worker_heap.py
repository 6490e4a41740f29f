"""worker/heap.py: when the worker freezes the imported objects out of the collector's walk."""
import gc
import weakref

from hypothesis import given, strategies as st

from dx_py_test_runner.worker import heap


@given(st.lists(st.integers(min_value=0, max_value=80), max_size=60))
def test_freezes_after_the_first_test_and_whenever_modules_grew_by_the_step(growths):
    count = [100]
    frozen_at = []
    f = heap.Freezer(True, modules=lambda: count[0], freeze=lambda: frozen_at.append(count[0]))
    expected = []
    for grow in growths:
        count[0] += grow
        due = not expected or count[0] - expected[-1] >= heap.MODULES_STEP
        if due:
            expected.append(count[0])
        assert f.after_test() == due
    assert frozen_at == expected


def test_off_never_freezes():
    calls = []
    f = heap.Freezer(False, modules=lambda: 10**6, freeze=lambda: calls.append(1))
    assert not any(f.after_test() for _ in range(5))
    assert calls == []


def test_wanted_follows_the_config_and_the_environment(monkeypatch):
    monkeypatch.delenv("DXPY_GC_FREEZE", raising=False)
    assert heap.wanted({}) and heap.wanted(None) and heap.wanted({"gc_freeze": True})
    assert not heap.wanted({"gc_freeze": False})
    monkeypatch.setenv("DXPY_GC_FREEZE", "0")
    assert not heap.wanted({"gc_freeze": True})
    monkeypatch.setenv("DXPY_GC_FREEZE", "1")
    assert heap.wanted({})


def test_the_real_freeze_keeps_live_objects_out_and_still_collects_new_garbage():
    class Node:
        pass

    before = gc.get_freeze_count()
    kept = Node()
    kept.self = kept  # alive, in a cycle: frozen
    try:
        assert heap.Freezer(True).after_test()
        assert gc.get_freeze_count() > before
        assert not any(o is kept for o in gc.get_objects())  # out of the collector's walk
        garbage = Node()
        garbage.self = garbage
        ref = weakref.ref(garbage)
        del garbage
        gc.collect()
        assert ref() is None  # a cycle made after the freeze is collected as before
    finally:
        gc.unfreeze()
