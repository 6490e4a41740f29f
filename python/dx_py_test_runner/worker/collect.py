"""Importing test modules the way pytest's default "prepend" import mode does.

The module's base folder is the first folder upwards without an __init__.py; it goes to
the front of sys.path and the module is imported by its dotted name from there.
"""
import importlib
import os
import sys


def module_name_and_basedir(path):
    path = os.path.abspath(path)
    folder, filename = os.path.split(path)
    parts = [os.path.splitext(filename)[0]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, pkg = os.path.split(folder)
        parts.append(pkg)
    return ".".join(reversed(parts)), folder


class ModuleCache:
    """Imports each test module once per worker; remembers an import failure too.

    `on_import` is called after each import, successful or not: the worker takes a new
    snapshot of the process state there, so what a module changes at import time (its base
    folder on sys.path first of all) is kept for its tests.
    """

    def __init__(self, on_import=None):
        self._modules = {}
        self._on_import = on_import

    def load(self, path):
        """Returns (module, None) or (None, exc_info) when importing failed."""
        try:
            return self._modules[path]
        except KeyError:
            pass
        loaded = self._modules[path] = self._import(path)
        if self._on_import is not None:
            self._on_import()
        return loaded

    @staticmethod
    def _import(path):
        name, basedir = module_name_and_basedir(path)
        if basedir not in sys.path:
            sys.path.insert(0, basedir)
        try:
            module = importlib.import_module(name)
        except BaseException:  # a module may raise anything, SystemExit included
            return None, sys.exc_info()
        return module, None


def resolve(module, classes, name):
    """The class (or None) and the test function named by a node id inside `module`."""
    owner = None
    obj = module
    for cls_name in classes:
        obj = getattr(obj, cls_name)
        owner = obj
    return owner, getattr(obj, name)
