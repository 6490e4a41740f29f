"""Keeping the cyclic garbage collector off the imported libraries.

A worker imports the suite's libraries (numpy, scipy, pandas, the project) once and keeps
them for every test. CPython's full collections walk every tracked object, and tests that
allocate many objects trigger them often, so on a suite like networkx's a fifth of the
worker's time went to re-walking the same imported modules. `gc.freeze()` moves everything
alive now into a permanent generation the collector never walks (an O(1) list splice);
objects the tests create are collected exactly as before.

The worker freezes after its first test (the conftests and the first test module are
imported by then) and again whenever a test brought in many new modules (a library
imported lazily). Before each freeze the young generations are collected, so that the
garbage of the test just run is not kept. Frozen objects are the ones a module-level name
or an import holds; pytest never collects those either.

Off with `[tool.dx-py] gc_freeze = false` or `DXPY_GC_FREEZE=0`: a test that looks for
import-time objects through `gc.get_objects()` or `gc.get_referrers()` does not see frozen
ones.
"""
import gc
import os
import sys

# A test after which this many more modules are loaded than at the last freeze freezes again.
MODULES_STEP = 50


def wanted(config_data):
    """Whether the run freezes: the config's gc_freeze (default true), DXPY_GC_FREEZE=0 off."""
    if os.environ.get("DXPY_GC_FREEZE", "") == "0":
        return False
    return bool((config_data or {}).get("gc_freeze", True))


class Freezer:
    """after_test() is called by the worker's loop after each test's result is sent. It
    returns whether it froze. `modules` and `freeze` are for tests."""

    __slots__ = ("on", "last", "count", "freeze")

    def __init__(self, on, modules=None, freeze=None):
        self.on = on
        self.last = None  # module count at the last freeze; None: never frozen
        self.count = modules or (lambda: len(sys.modules))
        self.freeze = freeze or _freeze

    def after_test(self):
        if not self.on:
            return False
        n = self.count()
        if self.last is not None and n - self.last < MODULES_STEP:
            return False
        self.last = n
        self.freeze()
        return True


def _freeze():
    gc.collect(1)  # the young generations: the last test's garbage is not frozen
    gc.freeze()
