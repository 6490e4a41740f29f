"""Running one test: resolve it, set up its fixtures, call it, tear down, and turn what
happened into TestResults. Failures, skips and errors are results, never exceptions out of
here: not even SystemExit raised by a test (pytest reports it as a failure). A
KeyboardInterrupt stops the whole run, as in pytest (interrupt.py).

Runner.run(case) is the whole life of a test in the worker:

    capture.begin -> instances of the test (parametrize, parametrized fixtures) ->
    for each: setup (skip/xfail marks, pytest_runtest_setup, fixtures) -> call -> teardown
    (function-scoped finalizers; module, class, package and session ones when the next test
    leaves their node) -> fork check -> state.restore -> capture.end -> TestResult

A test without fixtures, marks or parametrization (and no conftest hook that could see it)
takes a fast path: no items, requests or setup state, just the call.

Definitions (one per test function: its nodes, marks, fixture closure and call specs) are
built once per worker and cached; so are the conftests and the fixtures of modules and
classes.
"""
import os
import sys
import time

from .. import _core
from . import builtin_fixtures, interrupt, marks, outcomes, reporting
from .capture import make_capture
from .collect import ModuleCache
from .config import Parser, load as load_config
from .fixtures import FixtureDef, FixtureLookupError, FixtureManager, FuncFixtureInfo, SetupState, TopRequest, \
    deduplicate_names, get_direct_param_fixture_func, getfixturemarker, getfuncargnames
from .hooks import HookManager, _listify, warn
from .nodes import Class, Dir, Function, Module, Package, Session
from .parametrize import CLASS, FUNCTION, MODULE, PACKAGE, SESSION, Metafunc, parametrize_argnames_of
from .state import State
from . import unittest_support

S = _core.TestStatus
DEFAULT_MAX_OUTPUT = 4 << 20  # bytes kept per stream per test (DXPY_MAX_OUTPUT)
_IMPORT_ERROR_PREFIX = "ImportError while importing test module "
# The message of a teardown error, a result of its own after the test's (as in pytest's JUnit
# XML); the orchestrator's reporters know the result by it.
TEARDOWN_ERROR_PREFIX = "failed on teardown with "
# The message of a test a conftest's pytest_collection_modifyitems left out (known only here,
# at run time): the orchestrator counts it as deselected, as pytest does, and reports no outcome.
DESELECTED_MESSAGE = "deselected by pytest_collection_modifyitems"
# How the traceback of a failed subtest's result begins (then its description and a newline).
SUBTEST_MARKER = "SUBFAILED"
_RUNTEST_HOOKS = ("pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown",
                  "pytest_collection_modifyitems", "pytest_itemcollected", "pytest_generate_tests")


class _ModuleInfo:
    __slots__ = ("module", "error", "node", "path", "nodeid", "dirs", "classes", "has_hooks", "folder")

    def __init__(self):
        self.module = None
        self.error = None
        self.node = None
        self.classes = {}
        self.has_hooks = False


class Definition:
    """One test function as pytest's FunctionDefinition: everything about it that does not
    depend on its parameters."""

    def __init__(self, runner, case, minfo, class_nodes, owner, func):
        self.runner = runner
        self.config = runner.config
        self.manager = runner.fm
        self.case = case
        self.minfo = minfo
        self.module = minfo.module
        self.module_node = minfo.node
        self.class_nodes = class_nodes
        self.parent_node = class_nodes[-1] if class_nodes else minfo.node
        self.cls = owner
        self.function = func
        self.name = case.id.name
        self.nodeid = f"{minfo.nodeid}::" + "::".join([*case.id.classes, self.name])
        self.is_unittest = owner is not None and unittest_support.is_unittest_class(owner)
        self.parent_chain, self.parent_ids_list, self.parent_ids, self.parent_autouse, _ = \
            runner._parent_info(self.parent_node, minfo)
        code = getattr(func, "__code__", None)
        self.lineno = code.co_firstlineno - 1 if code is not None else max(case.line - 1, 0)
        self.relpath = minfo.nodeid
        self.modpath = ".".join([*case.id.classes, self.name])
        self._pseudo = {}
        self._generated_ids = runner.fm.generated_ids
        self.own_markers = marks.of_object(func)
        self.fast = False
        self.mark_names = None
        self.fixtureinfo = None
        self.callspecs = None
        self.error = None
        self.keywords = None

    # --- what Function items ask ------------------------------------------------------------

    @property
    def obj(self):
        return self.function

    def bound_function(self, instance):
        if instance is not None:
            return getattr(instance, self.name)
        return self.function

    def iter_markers(self, name=None):
        for mark in self.own_markers:
            if name is None or mark.name == name:
                yield mark
        yield from self.parent_node.iter_markers(name)

    def _default_arg_names(self):
        func = self.function
        code = getattr(func, "__code__", None)
        if code is not None and type(func) is _FunctionType and not hasattr(func, "__wrapped__") \
                and not hasattr(func, "__signature__"):
            # What inspect.signature would say, read from the code object (100 us less).
            defaults = func.__defaults__ or ()
            positional = code.co_varnames[code.co_posonlyargcount:code.co_argcount]
            names = positional[len(positional) - len(defaults):] if defaults else ()
            kwdefaults = func.__kwdefaults__
            if kwdefaults:
                kwonly = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
                names = (*names, *(n for n in kwonly if n in kwdefaults))
            return tuple(names)
        import inspect

        try:
            return tuple(p.name for p in inspect.signature(self.function).parameters.values()
                         if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty)
        except (TypeError, ValueError):
            return ()

    def _pseudo_fixturedef(self, argname, scope):
        if scope == FUNCTION:
            key = (None, argname)
        elif scope == CLASS:
            key = (self.class_nodes[-1].nodeid if self.class_nodes else self.module_node.nodeid, argname)
        elif scope == MODULE:
            key = (self.module_node.nodeid, argname)
        else:
            key = ("", argname)
        store = self._pseudo if scope == FUNCTION else self.runner.pseudo_fixturedefs
        fd = store.get(key)
        if fd is None or fd.scope_num != scope:
            fd = FixtureDef(self.manager, "", argname, get_direct_param_fixture_func, scope, None, pseudo=True)
            store[key] = fd
        return fd

    def scope_node(self, item, scope, fixturedef):
        if scope == CLASS:
            return self.class_nodes[-1] if self.class_nodes else item
        if scope == MODULE:
            return self.module_node
        if scope == PACKAGE:
            baseid = fixturedef.baseid
            for node in self.parent_chain:
                if isinstance(node, Package) and node.nodeid == baseid:
                    return node
            return self.runner.session
        if scope == SESSION:
            return self.runner.session
        return item

    def runner_call(self, item):
        self.runner._call_function(item)


class _PlainDefinition:
    """A test function that takes no arguments, has no marks and whose module or class brings
    no fixtures, marks or hooks: all the fast path needs, without the analysis a Definition
    does (the case of most tests of large suites)."""

    __slots__ = ("function", "cls", "name", "parent_ids_list", "class_nodes")
    fast = True
    error = None

    def __init__(self, function, cls, name, parent_ids_list, class_nodes):
        self.function = function
        self.cls = cls
        self.name = name
        self.parent_ids_list = parent_ids_list
        self.class_nodes = class_nodes


_FunctionType = type(_PlainDefinition.__init__)
_CO_NOT_PLAIN = 0x04 | 0x08 | 0x20 | 0x80 | 0x100 | 0x200  # *args, **kw, generator, coroutine, async


def _plain_function(func, owner, name):
    """Whether the test function is one a _PlainDefinition can run: a plain def without
    arguments (besides self), decorators' attributes, marks, yield or async."""
    if type(func) is not _FunctionType or func.__dict__:
        return False
    code = func.__code__
    if code.co_flags & _CO_NOT_PLAIN or code.co_kwonlyargcount:
        return False
    if owner is None:
        return code.co_argcount == 0
    if code.co_argcount != 1:
        return False
    for klass in owner.__mro__:  # a plain method, not a staticmethod or classmethod
        if name in klass.__dict__:
            return type(klass.__dict__[name]) is _FunctionType
    return False


class Runner:
    def __init__(self, rootdir, max_output=DEFAULT_MAX_OUTPUT, capture=None, state=None, config=None, worker_id=0):
        self.rootdir = rootdir
        self.config = config if config is not None else load_config()
        if config is None and not os.environ.get("DXPY_CONFIG"):
            self.config.rootpath = type(self.config.rootpath)(rootdir)
        self.rootdir_str = str(self.config.rootpath)
        # The state snapshot is taken here, after the preloads: what a test changes later
        # is undone after it; what a module does at import time is kept (ModuleCache).
        self.state = state if state is not None else State()
        self.modules = ModuleCache(on_import=self.state.snapshot)
        option = getattr(self.config, "option", None)
        self.capture = capture if capture is not None else make_capture(max_output, getattr(option, "capture", "fd"))
        reporting.configure(getattr(option, "tbstyle", "auto"), getattr(option, "showlocals", False))
        self._durations = getattr(option, "durations", None) is not None  # --durations: phase times
        builtin_fixtures.CAPTURE = self.capture
        builtin_fixtures.WORKER_ID = worker_id
        self.pid = os.getpid()
        self.fm = FixtureManager(self.config)
        builtin_fixtures.register_all(self.fm)
        builtin_fixtures.register_plugins(self.fm)
        self.hooks = HookManager(self.config, self.fm)
        self.session = Session(self.config)
        self.session._fixturemanager = self.fm
        self.hooks.session = self.session
        self.hooks.start(Parser(self.config))
        self.hooks.configure()
        self.setupstate = SetupState()
        self.pseudo_fixturedefs = {}
        self._defs = {}
        self._chains = {}  # parent node -> _parent_info
        self._minfos = {}
        self._dirs = {}
        self._filters = None
        self.peek = None  # set by the loop: the next message if one is waiting (never blocks)
        self.current_case = self.current_item = None  # the test running now (dx.snapshot)
        rewrite = sys.modules.get(__package__ + ".rewrite")
        self._take_counts = rewrite.take_counts if rewrite is not None and getattr(rewrite, "_finder", None) \
            is not None else None
        self._set_test_path = getattr(rewrite, "set_test_path", None) if self._take_counts is not None else None
        self.runxfail = False
        self._started = False
        self._configure_paths()
        self._hypothesis = _plugin_installed("_hypothesis_pytestplugin")
        self._plugins_checked = False
        if self.config.strict_markers:
            self._strict_markers()

    def _strict_markers(self):
        """--strict-markers: pytest.mark.<unknown> fails at import (a collection error), as
        pytest's MarkGenerator does once it has the config."""
        try:
            from _pytest.mark.structures import MARK_GEN
        except ImportError:
            return
        if MARK_GEN._config is None:
            MARK_GEN._config = self.config

    def _configure_paths(self):
        """pythonpath (ini): put on sys.path first, as pytest does at startup."""
        base = self.config.inipath.parent if self.config.inipath else self.config.rootpath
        for p in reversed(self.config._typed.get("pythonpath") or []):
            path = p if os.path.isabs(p) else os.path.normpath(os.path.join(str(base), p))
            if path not in sys.path:
                sys.path.insert(0, path)
        self._filters = list(self.config._typed.get("filterwarnings") or [])
        self._install_warning_filters()
        self.state.snapshot()

    def _install_warning_filters(self):
        """pytest runs every test (and the collection) inside catch_warnings() with deprecation
        warnings always shown and the ini's filterwarnings applied. The worker applies them
        once: the state restore after each test puts the filters back as they were, which is
        what the per-test catch_warnings() gives. Marks add theirs per test."""
        import warnings

        if not sys.warnoptions:
            warnings.filterwarnings("always", category=DeprecationWarning)
            warnings.filterwarnings("always", category=PendingDeprecationWarning)
        if self._filters:
            _apply_filters(self._filters)

    # --- the entry point ---------------------------------------------------------------------

    def run(self, case, emit=None, last_of_module=False):
        """(TestResult, output_truncated) of running `case`; when the test has several
        instances, `emit(result, truncated)` takes all but the last."""
        self.capture.begin()
        self.current_case, self.current_item = case, None
        key = (case.file, tuple(case.id.classes), case.id.name)
        defn = self._defs.get(key)
        if defn is None:
            try:
                defn = self._define(case, key)
            except BaseException as e:  # noqa: BLE001 - resolving may raise anything
                return self._finish_simple(case, S.error, reporting.short_message(e), reporting.native(e), 0, 0)
        if defn.error is not None:
            status, message, tb = defn.error
            return self._finish_simple(case, status, message, tb, 0, 0)
        if defn.fast:
            self._leave_stale(defn)
            start = time.perf_counter_ns()
            status, message, tb, failed = self._call_fast(defn)
            duration = time.perf_counter_ns() - start
            if last_of_module and len(self.setupstate.stack) > 1:
                self._teardown_module_nodes(defn)
            return self._finish_simple(case, status, message, tb, failed, duration)
        return self._run_instances(case, defn, emit, last_of_module)

    def _finish_simple(self, case, status, message, tb, failed_asserts, duration, test_id=None, out_extra=None):
        if os.getpid() != self.pid:
            # The test forked and the child came back here: the parent reports the test, the
            # child must not touch the shared output files or the channel.
            os._exit(0)
        self.state.restore()
        out, err, truncated = self.capture.end()
        result = _core.TestResult()
        result.id = case.id if test_id is None else test_id
        result.status = status
        result.duration_ns = duration
        # Fields stay at their empty defaults when there is nothing to say: a passing test
        # that printed nothing sets none of them.
        if message:
            result.message = message
        if tb:
            result.traceback = tb
        if out:
            result.stdout = out
        if err:
            result.stderr = err
        take = self._take_counts
        if take is not None:
            passed, failed = take()
            if failed_asserts > failed:
                failed = failed_asserts
            if passed or failed:
                stats = _core.AssertionStats()
                stats.passed = passed
                stats.failed = failed
                result.assertions = stats
        elif failed_asserts:
            stats = _core.AssertionStats()
            stats.failed = failed_asserts
            result.assertions = stats
        return result, truncated

    # --- the fast path -----------------------------------------------------------------------

    def _call(self, module, case):
        """(status, message, traceback, failed asserts) of a test of an imported module: its
        definition (cached) and the call, without capture or state (bench/worker_overhead)."""
        key = (case.file, tuple(case.id.classes), case.id.name)
        defn = self._defs.get(key) or self._define(case, key)
        if defn.error is not None:
            status, message, tb = defn.error
            return status, message, tb, 0
        if defn.fast:
            return self._call_fast(defn)
        return self._runtestprotocol(self._items(case, defn)[0], None, False, case)[:4]

    def _call_fast(self, defn):
        """(status, message, traceback, failed asserts) of a test with nothing around it."""
        try:
            cls = defn.cls
            if cls is not None:
                getattr(cls(), defn.name)()
            else:
                defn.function()
        except BaseException as e:  # noqa: BLE001 - a test may raise anything
            if os.getpid() != self.pid:
                os._exit(0)
            if isinstance(e, KeyboardInterrupt):
                interrupt.stop_the_session()
            kind = outcomes.classify(e)
            if kind == outcomes.SKIPPED:
                return S.skipped, outcomes.reason_of(e), "", 0
            if kind == outcomes.XFAILED:
                return S.xfailed, outcomes.reason_of(e), "", 0
            return S.failed, reporting.short_message(e), reporting.longrepr(e, self.rootdir_str), \
                1 if isinstance(e, AssertionError) else 0
        return S.passed, "", "", 0

    def _call_function(self, item):
        """The call phase of a non-fast test."""
        defn = item.definition
        if defn.is_unittest:
            unittest_support.run_testcase(item)
            return
        func = item.obj
        if _is_coroutine_function(func):
            outcomes.fail("async def functions are not natively supported.\nYou need to install a suitable "
                          "plugin for your async framework, for example:\n  - anyio\n  - pytest-asyncio\n"
                          "  - pytest-tornasync\n  - pytest-trio\n  - pytest-twisted", pytrace=False)
        funcargs = item.funcargs
        if self._hypothesis and "hypothesis" in sys.modules:
            _hypothesis_checks(item, func)
        result = func(**{arg: funcargs[arg] for arg in item._fixtureinfo.argnames})
        if hasattr(result, "__await__") or hasattr(result, "__aiter__"):
            if hasattr(result, "close"):
                try:
                    result.close()
                except Exception:  # noqa: BLE001
                    pass
            outcomes.fail("async def functions are not natively supported.", pytrace=False)

    # --- definitions -------------------------------------------------------------------------

    def _define(self, case, key):
        minfo = self._module_info(case)
        if minfo.error is not None:
            defn = _ErrorDefinition(minfo.error)
            self._defs[key] = defn
            return defn
        try:
            class_nodes, owner, func = self._resolve(minfo, case)
        except AttributeError as e:
            defn = _ErrorDefinition((S.error, f"cannot find {case.id.node_id}: {e}", ""))
            self._defs[key] = defn
            return defn
        name = case.id.name
        parent = self._parent_info(class_nodes[-1] if class_nodes else minfo.node, minfo)
        if parent[4] and _plain_function(func, owner, name) and not case.markers:
            # Not cached: as cheap to make again as to keep, and a worker's memory stays flat.
            return _PlainDefinition(func, owner, name, parent[1], class_nodes)
        defn = Definition(self, case, minfo, class_nodes, owner, func)
        try:
            self._analyse(defn, case)
        except BaseException as e:  # noqa: BLE001 - a collection error of this test
            defn.error = (S.error, reporting.short_message(e), reporting.longrepr(e, self.rootdir_str))
        self._defs[key] = defn
        return defn

    def _parent_info(self, parent, minfo):
        """(chain, node ids, node id set, autouse fixture names, plain) of a module or class
        node, shared by its tests and computed once. plain: nothing of the node or above it
        (marks, autouse fixtures, xunit setup, hooks, unittest, --runxfail) can affect a test
        that takes no arguments and has no marks of its own."""
        shared = self._chains.get(parent)
        if shared is None:
            chain = parent.listchain()
            ids = [n.nodeid for n in chain]
            autouse = list(self.fm.getautousenames(ids))
            owner = getattr(parent, "obj", None) if isinstance(parent, Class) else None
            plain = not (autouse or minfo.has_hooks or self.runxfail or any(n.own_markers for n in chain)
                         or any(getattr(n, "xunit", False) for n in chain)
                         or (owner is not None and (unittest_support.is_unittest_class(owner)
                                                    or hasattr(owner, "pytest_generate_tests"))))
            shared = self._chains[parent] = (chain, ids, frozenset(ids), autouse, plain)
        return shared

    def _module_info(self, case):
        path = case.file
        minfo = self._minfos.get(path)
        if minfo is not None:
            return minfo
        minfo = self._minfos[path] = _ModuleInfo()
        minfo.path = path
        minfo.nodeid = case.id.path.replace(os.sep, "/")
        minfo.folder = os.path.dirname(path)
        parent = self._dir_node(minfo.nodeid, minfo.folder)
        # conftests first: their import and registration may fail like the module's.
        try:
            self.hooks.conftests_for(minfo.folder)
        except BaseException as e:  # noqa: BLE001
            conftest = getattr(e, "_dxpy_conftest", None)
            minfo.error = self._import_error(case, e, conftest=True)
            self.state.snapshot()
            return minfo
        module, exc_info = self._import_module(path)
        if module is None:
            minfo.error = self._import_error(case, exc_info[1])
            return minfo
        minfo.module = module
        if not self._plugins_checked and "pytest" in sys.modules:
            self._plugins_checked = True
            _warn_about_entry_point_plugins()
        node = Module(os.path.basename(path), parent, minfo.nodeid, self.config, path=_path(path), obj=module)
        node.own_markers = marks.of_object(module)
        node.keywords.update({m.name: m for m in node.own_markers})
        minfo.node = node
        try:
            for plugin in _listify(getattr(module, "pytest_plugins", None)):
                self.hooks.import_plugin(plugin)
            self._register_module_fixtures(module, minfo.nodeid)
        except BaseException as e:  # noqa: BLE001
            minfo.error = (S.error, reporting.short_message(e), reporting.longrepr(e, self.rootdir_str))
        minfo.has_hooks = any(self.hooks._ordered(h, path) for h in _RUNTEST_HOOKS) or \
            hasattr(module, "pytest_generate_tests")
        self.state.snapshot()
        return minfo

    def _import_module(self, path):
        return self.modules.load(path)

    def _import_error(self, case, exc, conftest=False):
        kind = outcomes.classify(exc)
        if kind == outcomes.SKIPPED:
            if getattr(exc, "allow_module_level", True) or _is_unittest_skip(exc):
                # "collection skipped\n" marks a module-level skip for the JUnit reporter
                # (report/junit.h kModuleSkipMarker): pytest reports the module once.
                reason = outcomes.reason_of(exc)
                line = _skip_line(exc)
                return S.skipped, reason, f"collection skipped\n({case.file!r}, {line}, {('Skipped: ' + reason)!r})"
            text = ("Using pytest.skip outside of a test will skip the entire module. If that's your intention, "
                    "pass `allow_module_level=True`. If you want to skip a specific test or an entire class, use "
                    "the @pytest.mark.skip or @pytest.mark.skipif decorators.")
            return S.error, f"{_IMPORT_ERROR_PREFIX}'{case.file}': {text}", text
        tb = exc.__traceback__
        if isinstance(exc, ImportError):
            message = f"{_IMPORT_ERROR_PREFIX}'{case.file}'."
            lines = [f"ImportError while importing test module '{case.file}'.",
                     "Hint: make sure your test modules/packages have valid Python names.", "Traceback:"]
            lines.extend(_short_traceback(tb, self.rootdir_str))
            lines.extend("E   " + line for line in reporting.exconly(exc).split("\n"))
            return S.error, message, "\n".join(lines)
        text = reporting.longrepr(exc, self.rootdir_str)
        if isinstance(exc, SyntaxError):
            text = reporting.native(exc)
        return S.error, f"{_IMPORT_ERROR_PREFIX}'{case.file}': {reporting.short_message(exc)}", text

    def _dir_node(self, module_nodeid, folder):
        """The Session/Dir/Package chain above a module, from its node id."""
        parts = module_nodeid.split("/")[:-1]
        node = self.session
        rel = ""
        depth_folder = folder
        folders = []
        for _ in parts:
            folders.append(depth_folder)
            depth_folder = os.path.dirname(depth_folder)
        folders.reverse()
        for part, abspath in zip(parts, folders):
            rel = f"{rel}/{part}" if rel else part
            cached = self._dirs.get(rel)
            if cached is None:
                is_pkg = os.path.isfile(os.path.join(abspath, "__init__.py"))
                cls = Package if is_pkg else Dir
                cached = cls(part, node, rel, self.config, path=_path(abspath))
                if is_pkg:
                    self._register_package(cached, abspath)
                self._dirs[rel] = cached
            node = cached
        return node

    def _register_package(self, node, abspath):
        """Whether the package's __init__ has setup_module/teardown_module (Package.setup runs
        them); a plain look at the text, so that the fast path needs no import to know."""
        try:
            with open(os.path.join(abspath, "__init__.py"), encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return
        node.xunit = any(name in text for name in ("setup_module", "setUpModule", "teardown_module",
                                                   "tearDownModule"))

    def _register_module_fixtures(self, module, nodeid):
        fm = self.fm
        setup_module = _first_non_fixture(module, ("setUpModule", "setup_module"))
        teardown_module = _first_non_fixture(module, ("tearDownModule", "teardown_module"))
        if setup_module is not None or teardown_module is not None:
            def xunit_setup_module_fixture(request):
                mod = request.module
                if setup_module is not None:
                    _call_with_optional_argument(setup_module, mod)
                yield
                if teardown_module is not None:
                    _call_with_optional_argument(teardown_module, mod)

            fm.register(f"_xunit_setup_module_fixture_{module.__name__}", xunit_setup_module_fixture, nodeid,
                        scope="module", autouse=True)
        setup_function = _first_non_fixture(module, ("setup_function",))
        teardown_function = _first_non_fixture(module, ("teardown_function",))
        if setup_function is not None or teardown_function is not None:
            def xunit_setup_function_fixture(request):
                if request.instance is not None:
                    yield
                    return
                function = request.function
                if setup_function is not None:
                    _call_with_optional_argument(setup_function, function)
                yield
                if teardown_function is not None:
                    _call_with_optional_argument(teardown_function, function)

            fm.register(f"_xunit_setup_function_fixture_{module.__name__}", xunit_setup_function_fixture, nodeid,
                        scope="function", autouse=True)
        fm.parsefactories(module, nodeid)

    def _resolve(self, minfo, case):
        obj = minfo.module
        nodes = []
        parent = minfo.node
        prefix = []
        owner = None
        for cls_name in case.id.classes:
            obj = getattr(obj, cls_name)
            owner = obj
            prefix.append(cls_name)
            key = tuple(prefix)
            node = minfo.classes.get(key)
            if node is None:
                node = Class(cls_name, parent, f"{parent.nodeid}::{cls_name}", self.config, path=parent.path, obj=obj)
                node.own_markers = marks.of_class(obj)
                node.keywords.update({m.name: m for m in node.own_markers})
                minfo.classes[key] = node
                self._register_class_fixtures(obj, node)
            nodes.append(node)
            parent = node
        func = getattr(obj, case.id.name)
        if owner is not None:
            # The function itself (not bound): marks and signature live there.
            raw = None
            for klass in getattr(owner, "__mro__", ()):
                if case.id.name in klass.__dict__:
                    raw = klass.__dict__[case.id.name]
                    break
            if isinstance(raw, (staticmethod, classmethod)):
                func = raw.__func__
            else:
                func = getattr(func, "__func__", func)
        return nodes, owner, func

    def _register_class_fixtures(self, cls, node):
        fm = self.fm
        nodeid = node.nodeid
        if unittest_support.is_unittest_class(cls):
            unittest_support.register_class_fixtures(fm, cls, nodeid)
            self._register_xunit_class(cls, nodeid, unittest=True)
            try:
                instance = cls("runTest")
            except Exception:  # noqa: BLE001
                instance = None
            if instance is not None:
                fm.parsefactories(instance, nodeid)
            return
        self._register_xunit_class(cls, nodeid)
        try:
            instance = cls()
        except Exception:  # noqa: BLE001 - pytest would not collect it; its tests fail when run
            return
        fm.parsefactories(instance, nodeid)

    def _register_xunit_class(self, cls, nodeid, unittest=False):
        fm = self.fm
        setup_class = _first_non_fixture(cls, ("setup_class",))
        teardown_class = _first_non_fixture(cls, ("teardown_class",))
        if setup_class is not None or teardown_class is not None:
            def xunit_setup_class_fixture(request):
                klass = request.cls
                if setup_class is not None:
                    _call_with_optional_argument(getattr(setup_class, "__func__", setup_class), klass)
                yield
                if teardown_class is not None:
                    _call_with_optional_argument(getattr(teardown_class, "__func__", teardown_class), klass)

            fm.register(f"_xunit_setup_class_fixture_{cls.__qualname__}", xunit_setup_class_fixture, nodeid,
                        scope="class", autouse=True)
        if unittest:
            return
        setup_method = _first_non_fixture(cls, ("setup_method",))
        teardown_method = _first_non_fixture(cls, ("teardown_method",))
        if setup_method is not None or teardown_method is not None:
            def xunit_setup_method_fixture(request):
                instance = request.instance
                method = request.function
                if setup_method is not None:
                    _call_with_optional_argument(getattr(instance, "setup_method"), method)
                yield
                if teardown_method is not None:
                    _call_with_optional_argument(getattr(instance, "teardown_method"), method)

            fm.register(f"_xunit_setup_method_fixture_{cls.__qualname__}", xunit_setup_method_fixture, nodeid,
                        scope="function", autouse=True)

    def _analyse(self, defn, case):
        """Marks, fixture closure, call specs; and whether the fast path applies."""
        func = defn.function
        runtime_marks = defn.own_markers or any(n.own_markers for n in defn.parent_chain)
        if not runtime_marks and case.markers:
            defn.own_markers = marks.from_static(case.markers, vars(defn.module))
        if defn.is_unittest:
            argnames = ()
        else:
            if _is_generator_function(func):
                outcomes.fail(f"'yield' keyword is allowed in fixtures, but not in tests ({defn.name})",
                              pytrace=False)
            argnames = getfuncargnames(func, name=defn.name, cls=defn.cls)
        usefixtures = []
        for mark in defn.iter_markers("usefixtures"):
            usefixtures.extend(mark.args)
        autouse = list(defn.parent_autouse)
        initialnames = deduplicate_names(autouse, usefixtures, argnames)
        direct = set()
        for mark in defn.iter_markers("parametrize"):
            if not mark.kwargs.get("indirect", False):
                direct.update(parametrize_argnames_of(mark))
        closure, arg2fixturedefs = self.fm.getfixtureclosure(defn, initialnames, direct)
        info = FuncFixtureInfo(argnames, initialnames, closure, arg2fixturedefs)
        defn.fixtureinfo = info
        has_marks = bool(defn.own_markers) or any(n.own_markers for n in defn.parent_chain)
        hooks_apply = defn.minfo.has_hooks or (defn.cls is not None and hasattr(defn.cls, "pytest_generate_tests")) \
            or any(getattr(n, "xunit", False) for n in defn.parent_chain)
        if (not closure and not has_marks and not hooks_apply and not defn.is_unittest
                and not _is_coroutine_function(func) and not self.runxfail):
            defn.fast = True
            return
        defn.callspecs = self._generate(defn, info)

    def _generate(self, defn, info):
        """The call specs of a test (None when it is not parametrized)."""
        needs = any(True for _ in defn.iter_markers("parametrize")) or any(
            fds and fds[-1].params is not None for fds in info.name2fixturedefs.values()) or any(
            fd.params is not None for fds in info.name2fixturedefs.values() for fd in fds) or \
            hasattr(defn.module, "pytest_generate_tests") or \
            (defn.cls is not None and hasattr(defn.cls, "pytest_generate_tests")) or \
            self.hooks.has("pytest_generate_tests")
        if not needs:
            return None
        metafunc = Metafunc(defn, info, self.config, cls=defn.cls, module=defn.module)
        if hasattr(defn.module, "pytest_generate_tests"):
            defn.module.pytest_generate_tests(metafunc)
        if defn.cls is not None and hasattr(defn.cls, "pytest_generate_tests"):
            defn.cls().pytest_generate_tests(metafunc)
        for impl in self.hooks._ordered("pytest_generate_tests", defn.minfo.path):
            self.hooks._invoke(impl, {"metafunc": metafunc})
        self.fm.pytest_generate_tests(metafunc)
        for marker in defn.iter_markers("parametrize"):
            metafunc.parametrize(*marker.args, **marker.kwargs, _param_mark=marker)
        if not metafunc._calls:
            return None
        metafunc._recompute_direct_params_indices()
        info.prune_dependency_tree()
        return metafunc._calls

    # --- items ---------------------------------------------------------------------------------

    def _items(self, case, defn, modify=True):
        callspecs = defn.callspecs
        parent = defn.parent_node
        items = []
        if callspecs is None:
            items.append(self._make_item(defn, parent, defn.name, None))
        else:
            for cs in callspecs:
                name = f"{defn.name}[{cs.id}]" if cs._idlist else defn.name
                items.append(self._make_item(defn, parent, name, cs))
            if any(scope != FUNCTION for cs in callspecs for scope in cs._arg2scope.values()):
                items = _reorder(items)
        want = case.id.param
        if want is not None:  # "" is an id too: pytest's test_x[]
            with_spec = [it for it in items if getattr(it, "callspec", None) is not None]
            chosen = [it for it in with_spec if it.callspec.id == want]
            if not chosen:
                # Named by static discovery, which knows parametrize marks only: parametrized
                # fixtures multiply it, a pytest_make_parametrize_id hook renames it.
                chosen = [it for it in with_spec if "-".join(it.callspec._static_idlist) == want]
            items = chosen
        if self.hooks.has("pytest_itemcollected"):
            for item in items:
                self.hooks.call("pytest_itemcollected", item=item)
        if modify and items and self.hooks.has("pytest_collection_modifyitems"):
            kept = list(items)
            self.hooks.call("pytest_collection_modifyitems", path=defn.minfo.path, session=self.session,
                            config=self.config, items=kept)
            dropped = [it for it in items if all(it is not k for k in kept)]
            items = [it for it in kept if any(it is i for i in items)] + dropped
            for it in dropped:
                it._deselected = True
        return items

    def _make_item(self, defn, parent, name, callspec):
        nodeid = f"{parent.nodeid}::{name}"
        item = Function(name, parent, nodeid, self.config, defn, callspec=callspec, originalname=defn.name)
        item.own_markers = list(defn.own_markers)
        if callspec is not None:
            item.own_markers.extend(callspec.marks)
        kw = item.keywords
        kw.update({m.name: m for m in item.own_markers})
        try:
            kw.update(defn.function.__dict__)
        except (AttributeError, TypeError):
            pass
        if callspec is not None:
            kw[callspec.id] = True
        if defn.is_unittest:
            item.nofuncargs = True
        item._fixtureinfo = defn.fixtureinfo
        item.fixturenames = defn.fixtureinfo.names_closure
        names = defn.mark_names
        if names is None:
            names = defn.mark_names = frozenset(m.name for node in defn.parent_chain for m in node.own_markers) | \
                frozenset(m.name for m in defn.own_markers)
        if callspec is not None and callspec.marks:
            names = names | {m.name for m in callspec.marks}
        item._mark_names = names
        return item

    # --- the protocol of one item ----------------------------------------------------------------

    def _run_instances(self, case, defn, emit, last_of_module):
        try:
            items = self._items(case, defn)
        except BaseException as e:  # noqa: BLE001
            return self._finish_simple(case, S.error, reporting.short_message(e),
                                       reporting.longrepr(e, self.rootdir_str), 0, 0)
        if not items:
            return self._finish_simple(case, S.error, f"no parameter set of {defn.nodeid} has the id "
                                       f"{case.id.param!r}", "", 0, 0)
        n = len(items)
        result = None
        for i, item in enumerate(items):
            if i:
                self.capture.begin()
            last = i == n - 1
            teardown = None
            if getattr(item, "_deselected", False):
                # Not a result in pytest: the orchestrator counts it as deselected by its message.
                status, message, tb, failed, duration = S.skipped, DESELECTED_MESSAGE, "", 0, 0
            else:
                status, message, tb, failed, duration, teardown = self._runtestprotocol(
                    item, None if last else items[i + 1], last_of_module, case)
            test_id = case.id
            callspec = getattr(item, "callspec", None)
            if callspec is not None and callspec._idlist and (n > 1 or case.id.param != callspec.id):
                test_id = _core.TestId()
                test_id.path = case.id.path
                test_id.classes = list(case.id.classes)
                test_id.name = case.id.name
                test_id.param = callspec.id
            reports = getattr(item, "_subtest_reports", None)
            if reports:
                self._emit_subtests(case, reports, test_id, emit, duration)
            result = self._finish_simple(case, status, message, tb, failed, duration, test_id=test_id)
            if item.user_properties:  # record_property: the testcase's JUnit <property> elements
                result[0].properties = builtin_fixtures.properties(item)
            if self._durations and teardown is None and duration:
                result[0].properties = list(result[0].properties) + [_phases(item, duration)]
            if teardown is not None:
                # pytest reports the teardown apart from the call: "1 passed, 1 error" for a
                # test that passed and whose fixture failed after it. The error is a second
                # result of the same test; the orchestrator knows it by its message.
                if emit is not None:
                    emit(*result)
                self.capture.begin()
                result = self._finish_simple(case, S.error, teardown[0], teardown[1], 0, duration, test_id=test_id)
            if not last and emit is not None:
                emit(*result)
        return result

    def _emit_subtests(self, case, reports, test_id, emit, duration):
        """A failed result per failed subtest, before the test's own (pytest 9's SUBFAILED
        reports). The traceback's first line names the subtest as pytest's short summary
        does ("SUBFAILED[msg] (i=2)"): the orchestrator's reporters know the result by it."""
        if emit is None:
            return
        saferepr = reporting._saferepr
        for msg, kwargs, exc in reports:
            parts = [f"[{msg}]"] if msg is not None else []
            if kwargs:
                parts.append("(" + ", ".join(f"{k}={saferepr(v)}" for k, v in kwargs.items()) + ")")
            head = SUBTEST_MARKER + (" ".join(parts) or "(<subtest>)")
            failed = 1 if isinstance(exc, AssertionError) else 0
            emit(*self._finish_simple(case, S.failed, reporting.short_message(exc),
                                      head + "\n" + reporting.longrepr(exc, self.rootdir_str), failed, duration,
                                      test_id=test_id))
            self.capture.begin()

    def _leave_stale(self, defn):
        """Before a fast test: nodes of another module or class are torn down (a test of
        theirs ran last and the end of their module was not known then)."""
        stack = self.setupstate.stack
        if len(stack) <= 1:
            return
        ids = defn.parent_ids_list
        keep = 0
        limit = min(len(stack), len(ids))
        while keep < limit and stack[keep].nodeid == ids[keep]:
            keep += 1
        if keep < len(stack):
            errors = self.setupstate._pop_to(keep)
            self._report_stale(errors)
            self.state.snapshot()

    def _teardown_module_nodes(self, defn):
        depth = len(defn.parent_ids_list) - len(defn.class_nodes) - 1  # session and folders
        stack = self.setupstate.stack
        if len(stack) > depth:
            errors = self.setupstate._pop_to(depth)
            self._report_stale(errors)
            self.state.snapshot()

    def _report_stale(self, errors):
        for e in errors or ():
            warn(f"error in the teardown of an earlier test's fixture: {reporting.short_message(e)}\n"
                 f"{reporting.longrepr(e, self.rootdir_str)}")

    def _next_parent_ids(self, case, last_of_module, defn):
        """The node ids the next test keeps (its parents), or None for 'keep what may still
        be needed' when the next test is not known yet."""
        peek = self.peek
        nxt = peek() if peek is not None else None
        if nxt is not None:
            test = getattr(nxt, "test", None)
            if test is None:  # shutdown: everything goes, session included
                return []
            return self._parent_ids_of(test)
        if last_of_module:
            depth = len(defn.parent_ids_list) - len(defn.class_nodes) - 1
            return defn.parent_ids_list[:depth]
        return defn.parent_ids_list

    def _parent_ids_of(self, test):
        path = test.id.path.replace(os.sep, "/")
        parts = path.split("/")
        ids = [""]
        for i in range(1, len(parts)):
            ids.append("/".join(parts[:i]))
        ids.append(path)
        prefix = path
        for cls in test.id.classes:
            prefix = f"{prefix}::{cls}"
            ids.append(prefix)
        return ids

    def _runtestprotocol(self, item, nextitem, last_of_module, case):
        """(status, message, traceback, failed asserts, duration_ns) of one item."""
        defn = item.definition
        hooks = self.hooks
        path = defn.minfo.path
        start = time.perf_counter_ns()
        if self._durations:
            item._t_start = start
        setup_exc = call_exc = None
        xfailed = None
        item._request = TopRequest(item)
        self.current_item = item
        item._phase = "setup"
        item._caplog = None
        item._subtests = None
        item._subtest_reports = []  # (msg, kwargs, exception) of each failed subtest
        if self._set_test_path is not None:
            self._set_test_path(defn.minfo.path)
        names = item._mark_names
        catcher = _WarningsCatcher(self._filters, item) if "filterwarnings" in names or item.marks_dirty else None
        if catcher is not None:
            catcher.__enter__()
        try:
            try:
                stale = self.setupstate.setup(item)
                if stale is not None:
                    self._report_stale(stale)
                    self.state.snapshot()
                if "skip" in names or "skipif" in names or item.marks_dirty:
                    reason = marks.evaluate_skip(item)
                    if reason is not None:
                        outcomes.skip(reason)
                if "xfail" in names or item.marks_dirty:
                    xfailed = marks.evaluate_xfail(item)
                if xfailed is not None and not self.runxfail and not xfailed.run:
                    outcomes.xfail("[NOTRUN] " + xfailed.reason)
                if hooks.has("pytest_runtest_setup"):
                    hooks.call("pytest_runtest_setup", path=path, item=item)
                self._fillfixtures(item)
            except BaseException as e:  # noqa: BLE001
                setup_exc = e
            if setup_exc is None:
                item._phase = "call"
                if self._durations:
                    item._t_call = time.perf_counter_ns()
                if item._caplog is not None:
                    item._caplog._start_phase("call")
                if item.marks_dirty:
                    xfailed = marks.evaluate_xfail(item)
                try:
                    if xfailed is not None and not self.runxfail and not xfailed.run:
                        outcomes.xfail("[NOTRUN] " + xfailed.reason)
                    if hooks.has("pytest_runtest_call"):
                        hooks.call("pytest_runtest_call", path=path, item=item)
                    self._call_function(item)
                except BaseException as e:  # noqa: BLE001 - a test may raise anything
                    call_exc = e
                if os.getpid() != self.pid:
                    os._exit(0)
                if item.marks_dirty:
                    xfailed = marks.evaluate_xfail(item)
            # teardown
            item._phase = "teardown"
            if self._durations:
                item._t_teardown = time.perf_counter_ns()
            if item._caplog is not None:
                item._caplog._start_phase("teardown")
            teardown_excs = []
            if hooks.has("pytest_runtest_teardown"):
                try:
                    hooks.call("pytest_runtest_teardown", path=path, item=item, nextitem=nextitem)
                except BaseException as e:  # noqa: BLE001
                    teardown_excs.append(e)
            # The item's own finalizers first, then the state it left is undone, then the nodes
            # the next test does not share.
            stack = self.setupstate.stack
            if stack and stack[-1] is item:
                teardown_excs.extend(self.setupstate._pop_to(len(stack) - 1))
        finally:
            if catcher is not None:
                catcher.__exit__(None, None, None)
        if nextitem is not None:
            needed = nextitem.definition.parent_ids_list
        else:
            needed = None
            if len(self.setupstate.stack) > 1:
                needed = self._next_parent_ids(case, last_of_module, defn)
        if needed is not None and len(self.setupstate.stack) > 1:
            before = len(self.setupstate.stack)
            keep = 0
            stack = self.setupstate.stack
            limit = min(len(stack), len(needed))
            while keep < limit and stack[keep].nodeid == needed[keep]:
                keep += 1
            if keep < before:
                self.state.restore()
                teardown_excs.extend(self.setupstate._pop_to(keep))
                self.state.snapshot()
        duration = time.perf_counter_ns() - start
        if (setup_exc is not None or call_exc is not None or teardown_excs) and \
                interrupt.raised_keyboard_interrupt(setup_exc, call_exc, teardown_excs):
            interrupt.stop_the_session()
        status, message, tb, failed = self._outcome(item, setup_exc, call_exc, xfailed)
        teardown = None
        if teardown_excs:
            exc = teardown_excs[0]
            teardown = (TEARDOWN_ERROR_PREFIX + f'"{reporting.short_message(exc)}"',
                        reporting.longrepr(exc, self.rootdir_str))
        return status, message, tb, failed, duration, teardown

    def _fillfixtures(self, item):
        """pytest's TopRequest._fillfixtures; the state snapshot moves past the fixtures of
        wider scopes (what a session or module fixture changes stays for later tests)."""
        request = item._request
        funcargs = item.funcargs
        info = item._fixtureinfo
        defs = info.name2fixturedefs
        boundary_done = False
        fresh_wide = False
        for argname in item.fixturenames:
            if not boundary_done:
                fds = defs.get(argname)
                scope = fds[-1].scope_num if fds else FUNCTION
                callspec = getattr(item, "callspec", None)
                if callspec is not None and argname in callspec._arg2scope:
                    scope = callspec._arg2scope[argname]
                if scope == FUNCTION:
                    boundary_done = True
                    if fresh_wide:
                        self.state.snapshot()
                else:
                    fd = fds[-1] if fds else None
                    cached = fd is not None and fd.cached_result is not None
                    if argname not in funcargs:
                        funcargs[argname] = request.getfixturevalue(argname)
                    if not cached:
                        fresh_wide = True
                    continue
            if argname not in funcargs:
                funcargs[argname] = request.getfixturevalue(argname)
        if not boundary_done and fresh_wide:
            self.state.snapshot()

    def _outcome(self, item, setup_exc, call_exc, xfailed):
        """pytest's reports for setup and call, with the skipping plugin's xfail rules."""
        rootdir = self.rootdir_str
        if setup_exc is not None:
            e = setup_exc
            kind = outcomes.classify(e)
            if kind == outcomes.SKIPPED:
                return S.skipped, outcomes.reason_of(e), "", 0
            if kind == outcomes.XFAILED:
                return S.xfailed, outcomes.reason_of(e), "", 0
            if xfailed is not None and not self.runxfail and marks.raises_matches(xfailed.raises, e):
                return S.xfailed, xfailed.reason, "", 0
            if isinstance(e, FixtureLookupError):
                return S.error, e.short(), e.formatrepr_text(), 0
            return S.error, reporting.short_message(e), reporting.longrepr(e, rootdir), 0
        e = call_exc
        if e is not None:
            failed = 1 if isinstance(e, AssertionError) else 0
            kind = outcomes.classify(e)
            if kind == outcomes.SKIPPED:
                return S.skipped, outcomes.reason_of(e), "", 0
            if kind == outcomes.XFAILED:
                return S.xfailed, outcomes.reason_of(e), "", failed
            if isinstance(e, FixtureLookupError):
                return S.failed, e.short(), e.formatrepr_text(), 0
            if xfailed is not None and not self.runxfail:
                if marks.raises_matches(xfailed.raises, e):
                    return S.xfailed, xfailed.reason, "", failed
            return S.failed, reporting.short_message(e), reporting.longrepr(e, rootdir), failed
        status = S.passed
        message = ""
        tb = ""
        if xfailed is not None and not self.runxfail:
            if xfailed.strict:
                return S.failed, "[XPASS(strict)] " + xfailed.reason, "[XPASS(strict)] " + xfailed.reason, 0
            status, message = S.xpassed, xfailed.reason
        subtests = item._subtests
        if subtests is not None and subtests._failures:
            # pytest 9: a test using the subtests fixture fails when one of them did (each
            # failed subtest also has its own result); unittest's subTest does not do that.
            n = len(subtests._failures)
            text = f"contains {n} failed subtest{'s' if n > 1 else ''}"
            return S.failed, text, text, 0
        return status, message, tb, 0

    # --- the end of the worker ---------------------------------------------------------------------

    def shutdown(self):
        """Session teardown (every node still set up), then pytest_unconfigure."""
        try:
            errors = self.setupstate.teardown_exact(None)
            self._report_stale(errors)
        except BaseException as e:  # noqa: BLE001
            warn(f"session teardown failed: {type(e).__name__}: {e}")
        self.hooks.unconfigure()


class _ErrorDefinition:
    """A test that cannot run (its module or conftest failed): every run gives this result."""

    fast = False

    def __init__(self, error):
        self.error = error


class _WarningsCatcher:
    """pytest's catch_warnings_for_item: per test, warnings are recorded (not printed) and the
    filterwarnings marks apply on top of the worker's filters, in pytest's order (the test's
    own marks first, then its class's and module's, each inserted in front)."""

    __slots__ = ("_filters", "_item", "_cm")

    def __init__(self, filters, item):
        self._filters = filters
        self._item = item
        self._cm = None

    def __enter__(self):
        import warnings

        cm = self._cm = warnings.catch_warnings(record=True)
        cm.__enter__()
        # The ini's filters and pytest's defaults are in place already (Runner._install_warning_filters).
        for mark in self._item.iter_markers("filterwarnings"):
            for arg in mark.args:
                warnings.filterwarnings(*_parse_warning_filter(arg, escape=False))
        return self

    def __exit__(self, *exc):
        if self._cm is not None:
            self._cm.__exit__(*exc)
            self._cm = None


def _apply_filters(filters):
    import warnings

    for arg in filters:
        try:
            warnings.filterwarnings(*_parse_warning_filter(arg, escape=False))
        except ImportError as e:
            warn(f"Failed to import filter module '{e.name}': {arg}")


def _parse_warning_filter(arg, *, escape):
    import re
    import warnings

    parts = arg.split(":")
    if len(parts) > 5:
        raise ValueError(f"Too many fields ({len(parts)}), expected at most 5 separated by colons: {arg}")
    while len(parts) < 5:
        parts.append("")
    action_, message, category_, module, lineno_ = (s.strip() for s in parts)
    action = warnings._getaction(action_)  # noqa: SLF001 - pytest does the same
    category = _resolve_warning_category(category_)
    if message and escape:
        message = re.escape(message)
    if module and escape:
        module = re.escape(module) + r"\Z"
    if lineno_:
        lineno = int(lineno_)
        if lineno < 0:
            raise ValueError("number is negative")
    else:
        lineno = 0
    return action, message, category, module, lineno


def _resolve_warning_category(category):
    if not category:
        return Warning
    if "." not in category:
        import builtins as m

        klass = category
    else:
        module, _, klass = category.rpartition(".")
        m = __import__(module, None, None, [klass])
    cat = getattr(m, klass)
    if not issubclass(cat, Warning):
        raise TypeError(f"{cat} is not a Warning subclass")
    return cat


def _phases(item, duration):
    """--durations: ("\x1fdx-py-phases", "setup call teardown") in ns, which the orchestrator
    takes out of the result (session/run_control.h)."""
    t_call = getattr(item, "_t_call", None)
    t_teardown = getattr(item, "_t_teardown", None)
    start = getattr(item, "_t_start", None)
    if t_teardown is None or start is None:
        return ("\x1fdx-py-phases", f"0 {duration} 0")
    setup = (t_call if t_call is not None else t_teardown) - start
    call = t_teardown - t_call if t_call is not None else 0
    return ("\x1fdx-py-phases", f"{setup} {call} {max(duration - setup - call, 0)}")


def _path(p):
    from pathlib import Path

    return Path(p)


def _first_non_fixture(obj, names):
    for name in names:
        meth = getattr(obj, name, None)
        if meth is not None and getfixturemarker(meth) is None:
            return meth
    return None


def _call_with_optional_argument(func, arg):
    code = getattr(func, "__code__", None)
    if code is None:
        code = getattr(getattr(func, "__func__", None), "__code__", None)
    arg_count = code.co_argcount if code is not None else 1
    if getattr(func, "__self__", None) is not None:
        arg_count -= 1
    if arg_count:
        func(arg)
    else:
        func()


# Installed pytest plugins (entry points "pytest11") whose effect on outcomes the worker
# reproduces itself; any other installed plugin is named in a warning (it is not loaded).
_EMULATED_PLUGINS = {
    "hypothesispytest": "its health check for function-scoped fixtures in @given tests",
    "xdist": "its worker_id and testrun_uid fixtures",
    "xdist.looponfail": "nothing needed",
}


def _plugin_installed(module_name):
    try:
        import importlib.util

        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        return False


def _warn_about_entry_point_plugins():
    try:
        from importlib.metadata import entry_points

        eps = entry_points(group="pytest11")
    except Exception:  # noqa: BLE001 - metadata of broken installs
        return
    other = sorted({ep.name for ep in eps if ep.name not in _EMULATED_PLUGINS})
    if other:
        warn("installed pytest plugins are not loaded in dx-py workers: " + ", ".join(other))


def _hypothesis_checks(item, func):
    """What Hypothesis's pytest plugin checks before a @given test: function-scoped fixtures
    passed to it fail a health check (they are not reset between examples)."""
    try:
        from hypothesis import HealthCheck, is_hypothesis_test, settings as Settings
        from hypothesis.internal.healthcheck import fail_health_check
    except ImportError:
        return
    if not is_hypothesis_test(func):
        return
    settings = getattr(func, "_hypothesis_internal_use_settings", Settings.default)
    if set(settings.suppress_health_check).issuperset(
            {HealthCheck.function_scoped_fixture, HealthCheck.differing_executors}):
        return
    argnames = set(item._fixtureinfo.argnames)
    for name, defs in item._fixtureinfo.name2fixturedefs.items():
        if name not in argnames or not defs:
            continue
        fixturedef = item._request._get_active_fixturedef(name)
        if fixturedef.scope_num == FUNCTION and not getattr(fixturedef, "pseudo", False):
            fail_health_check(
                settings,
                f"{item.nodeid!r} uses a function-scoped fixture {name!r}.\n\nFunction-scoped fixtures are not "
                "reset between inputs generated by `@given(...)`, which is often surprising and can cause subtle "
                "test bugs.",
                HealthCheck.function_scoped_fixture)


def _reorder(items):
    """pytest's reorder_items within one test function: instances sharing a parameter of a
    wider scope run together (widest scope first), so that fixture is set up once."""
    def key(item):
        cs = item.callspec
        out = []
        for scope in (SESSION, PACKAGE, MODULE, CLASS):
            for arg, index in cs.indices.items():
                if cs._arg2scope.get(arg) == scope:
                    out.append(index)
        return out

    return sorted(items, key=key)


def _is_unittest_skip(exc):
    ut = sys.modules.get("unittest")
    return ut is not None and isinstance(exc, ut.SkipTest)


def _short_traceback(tb, rootdir):
    import linecache

    lines = []
    hidden = reporting._hidden_prefixes()
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        if not filename.startswith(hidden) and "importlib._bootstrap" not in filename and \
                not filename.startswith("<frozen importlib"):
            rel = reporting._relpath(filename, rootdir)
            lines.append(f"{rel}:{tb.tb_lineno}: in {code.co_name}")
            src = linecache.getline(filename, tb.tb_lineno).strip()
            if src:
                lines.append(f"    {src}")
        tb = tb.tb_next
    return lines


def _is_coroutine_function(func):
    # inspect.iscoroutinefunction without importing inspect at start-up (it costs ~10 ms per
    # worker); functions that are not plain Python functions go to inspect.
    code = getattr(func, "__code__", None)
    if code is not None and type(func).__name__ in ("function", "method"):
        return bool(code.co_flags & 0x80)  # CO_COROUTINE
    import inspect

    return inspect.iscoroutinefunction(func)


def _is_generator_function(func):
    code = getattr(func, "__code__", None)
    if code is not None and type(func).__name__ in ("function", "method"):
        return bool(code.co_flags & 0x20)  # CO_GENERATOR
    return False


def _skip_line(exc):
    """The 1-based line of the innermost frame of a skip raised while importing a module."""
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        line = tb.tb_lineno
        tb = tb.tb_next
    return max(line - 1, 0)  # pytest's longrepr tuple holds a 0-based line
