"""conftest.py files and plugins, as pytest loads them, and the hooks the worker calls.

A test module's conftests are those of its folder and every folder above it down from the
confcutdir (pytest's `_getconftestmodules`), imported in pytest's prepend mode before the
module. Each one (and each module named in `pytest_plugins`) is registered like a pytest
plugin: its fixtures go to the FixtureManager (visible below the conftest's folder; those of
plugins everywhere), `pytest_addoption` and `pytest_configure` run at once.

Hooks called, with pluggy's order (tryfirst, then the latest registered first, trylast) and
only the arguments an implementation names:

    pytest_addoption, pytest_configure, pytest_unconfigure, pytest_sessionstart,
    pytest_sessionfinish, pytest_collection_modifyitems (per test: see below),
    pytest_generate_tests, pytest_make_parametrize_id, pytest_markeval_namespace,
    pytest_runtest_setup, pytest_runtest_call, pytest_runtest_teardown, pytest_itemcollected,
    pytest_assertrepr_compare (for the assertion rewriter)

pytest_collection_modifyitems is called with the items of one test at a time (the worker
never holds a whole session's items): marking, skipping and deselecting items work here; the
order it gives across tests is taken before the run from one call with the whole session's
items (order.py). Any other hook, and hook wrappers, are named in a warning on the worker's
stderr once: they are not run.
"""
import importlib
import os
import sys

from .collect import module_name_and_basedir

SUPPORTED = frozenset({
    "pytest_addoption", "pytest_configure", "pytest_unconfigure", "pytest_sessionstart", "pytest_sessionfinish",
    "pytest_collection_modifyitems", "pytest_generate_tests", "pytest_make_parametrize_id",
    "pytest_markeval_namespace", "pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown",
    "pytest_itemcollected", "pytest_assertrepr_compare", "pytest_addhooks", "pytest_plugin_registered",
})
# Hooks about what pytest prints or how it collects: the orchestrator does those; a conftest
# that implements them loses nothing the outcome depends on, but it is said all the same.
KNOWN = frozenset((
    "pytest_addhooks pytest_plugin_registered pytest_addoption pytest_configure pytest_cmdline_parse "
    "pytest_load_initial_conftests pytest_cmdline_main pytest_collection pytest_collection_modifyitems "
    "pytest_collection_finish pytest_ignore_collect pytest_collect_directory pytest_collect_file "
    "pytest_collectstart pytest_itemcollected pytest_collectreport pytest_deselected pytest_make_collect_report "
    "pytest_pycollect_makemodule pytest_pycollect_makeitem pytest_pyfunc_call pytest_generate_tests "
    "pytest_make_parametrize_id pytest_runtestloop pytest_runtest_protocol pytest_runtest_logstart "
    "pytest_runtest_logfinish pytest_runtest_setup pytest_runtest_call pytest_runtest_teardown "
    "pytest_runtest_makereport pytest_runtest_logreport pytest_report_to_serializable "
    "pytest_report_from_serializable pytest_fixture_setup pytest_fixture_post_finalizer pytest_sessionstart "
    "pytest_sessionfinish pytest_unconfigure pytest_assertrepr_compare pytest_assertion_pass "
    "pytest_report_header pytest_report_collectionfinish pytest_report_teststatus pytest_terminal_summary "
    "pytest_warning_recorded pytest_markeval_namespace pytest_internalerror pytest_keyboard_interrupt "
    "pytest_exception_interact pytest_enter_pdb pytest_leave_pdb").split())
_BUILTIN_PLUGINS = frozenset((
    "mark main runner fixtures helpconfig python terminal debugging unittest capture skipping legacypath tmpdir "
    "monkeypatch recwarn pastebin assertion junitxml doctest cacheprovider setuponly setupplan stepwise "
    "unraisableexception threadexception warnings logging reports faulthandler subtests pytester "
    "pytester_assertions terminalprogress").split())
_DONE_BY_THE_WORKER = frozenset((
    "mark main runner fixtures python unittest capture skipping legacypath tmpdir monkeypatch recwarn assertion "
    "warnings logging subtests junitxml terminal helpconfig cacheprovider faulthandler reports").split())
# Called once per worker when the plugin registers (historic hooks).
_HISTORIC = ("pytest_addoption", "pytest_configure")


# The worker's own warnings (an unsupported hook, a plugin not loaded, ...), waiting to be
# sent with the next result (main.py): the worker's stderr is the capture of the test that
# runs, where a warning would pass for that test's output and show only if it failed.
PENDING = []


def warn(text):
    """Names something the worker does not do. The orchestrator prints each distinct warning
    once, after the run (`dx-py: warning: ...` on stderr)."""
    if text not in PENDING:
        PENDING.append(text)


def take_warnings():
    taken = PENDING[:]
    del PENDING[:]
    return taken


class HookImpl:
    __slots__ = ("plugin_name", "function", "argnames", "tryfirst", "trylast", "wrapper", "folder")

    def __init__(self, plugin_name, function, opts, folder):
        self.plugin_name = plugin_name
        self.function = function
        self.folder = folder
        self.tryfirst = bool(opts.get("tryfirst"))
        self.trylast = bool(opts.get("trylast"))
        self.wrapper = bool(opts.get("hookwrapper") or opts.get("wrapper"))
        code = getattr(function, "__code__", None)
        if code is not None:
            names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
            if getattr(function, "__self__", None) is not None:
                names = names[1:]
            defaults = getattr(function, "__defaults__", None) or ()
            if defaults:
                names = names[:len(names) - len(defaults)]
            self.argnames = tuple(names)
        else:
            self.argnames = None


class HookManager:
    def __init__(self, config, fixturemanager):
        self.config = config
        self.fm = fixturemanager
        self._impls = {}  # hook name -> [HookImpl] in registration order
        self._plugins = []  # (name, object)
        self._conftests = {}  # conftest path -> module (or None when it has none)
        self._dir_conftests = {}  # folder -> [conftest modules], confcutdir applied
        self._warned = set()
        self.session = None
        self.parser = None
        self.configured = False
        self.rootdir = str(config.rootpath)
        self.confcutdir = os.path.abspath(config.confcutdir) if config.confcutdir else None
        config._hooks = self

    # --- plugins ------------------------------------------------------------------------

    def register_plugin(self, plugin, name, folder=None, baseid=None):
        if any(p is plugin for _, p in self._plugins):
            return
        self._plugins.append((name, plugin))
        self.config.pluginmanager._plugins.setdefault(name, plugin)
        self.fm.parsefactories(plugin, baseid)
        for attr in dir(plugin):
            if not attr.startswith("pytest_"):
                continue
            try:
                function = getattr(plugin, attr)
            except Exception:  # noqa: BLE001
                continue
            if not callable(function):
                continue
            opts = getattr(function, "pytest_impl", None) or {}
            hookname = opts.get("specname") or attr
            if hookname not in KNOWN:
                continue
            impl = HookImpl(name, function, opts, folder)
            if impl.wrapper:
                self._warn_once(("wrapper", name, hookname),
                                f"{name}: hook wrapper {hookname} is not supported by the dx-py worker; not run")
                continue
            if hookname not in SUPPORTED:
                self._warn_once(("hook", name, hookname),
                                f"{name}: hook {hookname} is not supported by the dx-py worker; not run")
                continue
            self._impls.setdefault(hookname, []).append(impl)
        for other in _listify(getattr(plugin, "pytest_plugins", None)):
            self.import_plugin(other)
        # Historic hooks: a plugin that comes late still gets them.
        if self.parser is not None:
            self._call_one(plugin, "pytest_addoption", parser=self.parser, pluginmanager=self.config.pluginmanager)
        if self.configured:
            self._call_one(plugin, "pytest_configure", config=self.config)

    def import_plugin(self, modname):
        if not isinstance(modname, str) or not modname:
            return
        if any(n == modname for n, _ in self._plugins):
            return
        if modname in _BUILTIN_PLUGINS or modname.startswith("_pytest."):
            # pytest's own plugins: those the worker does itself are already there.
            short = modname[len("_pytest."):] if modname.startswith("_pytest.") else modname
            if short not in _DONE_BY_THE_WORKER:
                self._warn_once(("builtin-plugin", short),
                                f"pytest's plugin {short!r} (pytest_plugins) is not supported by the dx-py worker")
            return
        try:
            module = importlib.import_module(modname)
        except BaseException as e:  # noqa: BLE001
            if type(e).__name__ in ("Skipped",):
                warn(f"plugin {modname!r} skipped itself: {e}")
                return
            raise
        self.register_plugin(module, modname, folder=None, baseid=None)

    def _warn_once(self, key, text):
        if key not in self._warned:
            self._warned.add(key)
            warn(text)

    # --- conftests -------------------------------------------------------------------------

    def conftests_for(self, folder):
        """The conftest modules that apply to files in `folder`, root first, importing them
        (and registering them) as needed."""
        try:
            return self._dir_conftests[folder]
        except KeyError:
            pass
        parent = os.path.dirname(folder)
        above = self.conftests_for(parent) if parent != folder else []
        mods = list(above)
        if self._in_confcutdir(folder):
            path = os.path.join(folder, "conftest.py")
            if os.path.isfile(path):
                mod = self._import_conftest(path)
                if mod is not None:
                    mods.append(mod)
        self._dir_conftests[folder] = mods
        return mods

    def _in_confcutdir(self, folder):
        cut = self.confcutdir
        if cut is None:
            return True
        # Folders above the confcutdir are left out; the confcutdir, those below it and
        # unrelated ones are in (pytest: `path not in confcutdir.parents`).
        return not (cut != folder and cut.startswith(folder.rstrip(os.sep) + os.sep))

    def _import_conftest(self, path):
        try:
            return self._conftests[path]
        except KeyError:
            pass
        name, basedir = module_name_and_basedir(path)
        if name == "conftest":
            sys.modules.pop("conftest", None)
        if not sys.path or sys.path[0] != basedir:
            sys.path.insert(0, basedir)
        module = importlib.import_module(name)
        if getattr(module, "__file__", None) and os.path.abspath(module.__file__) != path and name != "conftest":
            pass  # pytest checks the file matches; a stale module would be a user error
        self._conftests[path] = module
        folder = os.path.dirname(path)
        baseid = _relative_id(folder, self.rootdir)
        self.register_plugin(module, path, folder=folder, baseid=baseid)
        return module

    def conftest_error(self, path):
        return None

    # --- calling ---------------------------------------------------------------------------

    def _ordered(self, hookname, path=None):
        impls = self._impls.get(hookname)
        if not impls:
            return ()
        if path is not None:
            impls = [i for i in impls if i.folder is None or _is_relative(path, i.folder)]
        first = [i for i in impls if i.tryfirst]
        last = [i for i in impls if i.trylast]
        normal = [i for i in impls if not i.tryfirst and not i.trylast]
        return first[::-1] + normal[::-1] + last[::-1]

    def has(self, hookname):
        return bool(self._impls.get(hookname))

    @staticmethod
    def _invoke(impl, kwargs):
        if impl.argnames is None:
            return impl.function(**kwargs)
        return impl.function(**{k: kwargs[k] for k in impl.argnames if k in kwargs})

    def call(self, hookname, path=None, **kwargs):
        results = []
        for impl in self._ordered(hookname, path):
            res = self._invoke(impl, kwargs)
            if res is not None:
                results.append(res)
        return results

    def call_firstresult(self, hookname, path=None, **kwargs):
        for impl in self._ordered(hookname, path):
            res = self._invoke(impl, kwargs)
            if res is not None:
                return res
        return None

    def _call_one(self, plugin, hookname, **kwargs):
        function = getattr(plugin, hookname, None)
        if function is None or not callable(function):
            return None
        opts = getattr(function, "pytest_impl", None) or {}
        impl = HookImpl("", function, opts, None)
        if impl.wrapper:
            return None
        return self._invoke(impl, kwargs)

    def configure(self):
        """After the initial conftests: pytest_configure for every plugin so far."""
        if self.configured:
            return
        self.configured = True
        for _, plugin in list(self._plugins):
            self._call_one(plugin, "pytest_configure", config=self.config)

    def start(self, parser):
        self.parser = parser

    def unconfigure(self):
        for impl in self._ordered("pytest_unconfigure"):
            try:
                self._invoke(impl, {"config": self.config})
            except BaseException as e:  # noqa: BLE001
                warn(f"pytest_unconfigure of {impl.plugin_name} raised {type(e).__name__}: {e}")


def _listify(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        return list(value)
    except TypeError:
        return []


def _is_relative(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _relative_id(folder, rootdir):
    """A conftest's baseid: its folder relative to the rootdir ("" for the rootdir and for
    folders outside it)."""
    if folder == rootdir:
        return ""
    prefix = rootdir.rstrip(os.sep) + os.sep
    if not folder.startswith(prefix):
        return ""
    return folder[len(prefix):].replace(os.sep, "/")
