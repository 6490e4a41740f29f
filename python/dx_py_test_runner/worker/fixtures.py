"""Fixtures with pytest's semantics (`_pytest/fixtures.py`), without pytest.

    FixtureDef      one definition: function, scope, params, ids; its cached value and the
                    finalizers of that value (a yield fixture's rest, request.addfinalizer)
    FixtureManager  every definition by name, visible to a node when its baseid is one of the
                    node's parents (conftest folder, module, class); autouse names per baseid;
                    the closure of a test (pytest's getfixtureclosure)
    TopRequest,     `request` for a test and for a fixture; getfixturevalue() executes a
    SubRequest      definition (or returns its cached value) and schedules its finalizer on
                    the node of its scope
    SetupState      the stack of active nodes (session, folders, module, classes, item); a
                    node leaving the stack runs its finalizers, last in first out

Fixture functions come from `@pytest.fixture` (pytest 9's FixtureFunctionDefinition, or the
function attribute of older pytest) or `@dx.fixture`; the worker never imports pytest to
recognise them.
"""
import functools
import sys

from . import outcomes
from .parametrize import CLASS, FUNCTION, MODULE, SCOPE_NAMES, SESSION, scope_from_user

_TEST_OUTCOME = (Exception, outcomes.OutcomeException)


def _test_outcome():
    po = sys.modules.get("_pytest.outcomes")
    if po is None:
        return _TEST_OUTCOME
    return (Exception, outcomes.OutcomeException, po.OutcomeException)


# --- recognising fixture functions -------------------------------------------------------


class FixtureFunctionMarker:
    __slots__ = ("scope", "params", "autouse", "ids", "name")

    def __init__(self, scope="function", params=None, autouse=False, ids=None, name=None):
        self.scope = scope
        self.params = tuple(params) if params is not None else None
        self.autouse = autouse
        self.ids = None if ids is None else ids if callable(ids) else tuple(ids)
        self.name = name

    def __call__(self, function):
        if isinstance(function, type):
            raise ValueError("class fixtures not supported (maybe in the future)")
        if isinstance(function, DxFixtureDefinition):
            raise ValueError(f"@fixture is being applied more than once to the same function {function.__name__!r}")
        return DxFixtureDefinition(function, self)


class DxFixtureDefinition:
    """What `@dx.fixture` makes when pytest is not loaded (the worker treats it as pytest's)."""

    def __init__(self, function, marker, instance=None):
        self.name = marker.name or function.__name__
        self.__name__ = self.name
        self._fixture_function_marker = marker
        self._fixture_function = function.__get__(instance) if instance is not None else function
        functools.update_wrapper(self, function)

    def __get__(self, instance, owner=None):
        return DxFixtureDefinition(self._fixture_function, self._fixture_function_marker, instance)

    def __call__(self, *args, **kwargs):
        outcomes.fail(f'Fixture "{self.name}" called directly. Fixtures are not meant to be called directly,\n'
                      "but are created automatically when test functions request them as parameters.",
                      pytrace=False)

    def _get_wrapped_function(self):
        return self._fixture_function

    def __repr__(self):
        return f"<dx_fixture({self._fixture_function})>"


def fixture(fixture_function=None, *, scope="function", params=None, autouse=False, ids=None, name=None):
    """`dx.fixture`: pytest.fixture when pytest is loaded, else the worker's own marker."""
    pytest = sys.modules.get("pytest")
    if pytest is not None:
        return pytest.fixture(fixture_function, scope=scope, params=params, autouse=autouse, ids=ids, name=name)
    marker = FixtureFunctionMarker(scope=scope, params=params, autouse=autouse, ids=ids, name=name)
    if fixture_function:
        return marker(fixture_function)
    return marker


def getfixturemarker(obj):
    """The fixture marker of `obj` (scope, params, autouse, ids, name), or None."""
    tp = type(obj)
    if tp is DxFixtureDefinition or tp.__name__ == "FixtureFunctionDefinition":
        return getattr(obj, "_fixture_function_marker", None)
    if tp.__name__ == "function":
        marker = obj.__dict__.get("_pytestfixturefunction") if hasattr(obj, "__dict__") else None
        if marker is not None and hasattr(marker, "scope"):
            return marker
    return None


def _wrapped_function(obj):
    get = getattr(obj, "_get_wrapped_function", None)
    if get is not None:
        return get()
    # pytest < 8.4: the fixture is a function that fails when called directly, wrapping the
    # real one in __pytest_wrapped__ (a _PytestWrapper).
    wrapped = getattr(obj, "__pytest_wrapped__", None)
    if wrapped is not None and hasattr(wrapped, "obj"):
        return wrapped.obj
    return obj


# --- definitions ----------------------------------------------------------------------------


def getfuncargnames(function, name="", cls=None, is_method=None):
    """pytest's getfuncargnames: the mandatory arguments, without self/cls and mock patches."""
    code = getattr(function, "__code__", None)
    if (code is not None and type(function).__name__ == "function" and not code.co_flags & 0x0C
            and function.__defaults__ is None and function.__kwdefaults__ is None
            and not hasattr(function, "__wrapped__") and not code.co_posonlyargcount):
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    else:
        import inspect

        try:
            parameters = inspect.signature(function).parameters.values()
        except (ValueError, TypeError) as e:
            outcomes.fail(f"Could not determine arguments of {function!r}: {e}", pytrace=False)
        names = tuple(p.name for p in parameters
                      if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty)
        if any(p.kind is p.POSITIONAL_ONLY for p in parameters):
            cls = None
    names = tuple(names)
    if not name:
        name = getattr(function, "__name__", "")
    if cls is not None:
        static = False
        for klass in getattr(cls, "__mro__", ()):
            if name in klass.__dict__:
                static = isinstance(klass.__dict__[name], staticmethod)
                break
        if not static:
            names = names[1:]
    elif is_method:
        names = names[1:]
    if hasattr(function, "__wrapped__"):
        names = names[_num_mock_patch_args(function):]
    return names


def _num_mock_patch_args(function):
    patchings = getattr(function, "patchings", None)
    if not patchings:
        return 0
    mock_sentinel = getattr(sys.modules.get("mock"), "DEFAULT", object())
    ut_mock_sentinel = getattr(sys.modules.get("unittest.mock"), "DEFAULT", object())
    return len([p for p in patchings
                if not p.attribute_name and (p.new is mock_sentinel or p.new is ut_mock_sentinel)])


class FixtureDef:
    def __init__(self, manager, baseid, argname, func, scope, params, ids=None, autouse=False, pseudo=False):
        self.baseid = baseid or ""
        self.has_location = baseid is not None
        self.func = func
        self.argname = argname
        if scope is None:
            scope = "function"
        elif callable(scope) and not isinstance(scope, str):
            scope = _eval_scope_callable(scope, argname, manager.config)
        self.scope_num = scope_from_user(scope, f"Fixture '{getattr(func, '__name__', argname)}'")
        self.params = params
        self.ids = ids
        self._autouse = autouse
        self.pseudo = pseudo
        if pseudo:
            self.argnames = ("request",)
        else:
            self.argnames = getfuncargnames(func, name=argname)
        self.cached_result = None
        self._finalizers = []
        self.manager = manager

    @property
    def scope(self):
        return SCOPE_NAMES[self.scope_num]

    @property
    def _scope(self):
        return self.scope_num

    def addfinalizer(self, finalizer):
        self._finalizers.append(finalizer)

    def finish(self, request):
        exceptions = []
        while self._finalizers:
            fin = self._finalizers.pop()
            try:
                fin()
            except BaseException as e:  # noqa: BLE001 - pytest collects everything here
                exceptions.append(e)
        self.cached_result = None
        self._finalizers.clear()
        if len(exceptions) == 1:
            raise exceptions[0]
        if exceptions:
            raise BaseExceptionGroup(f'errors while tearing down fixture "{self.argname}" of {request.node}',
                                     exceptions[::-1])

    def execute(self, request):
        requested = []
        for argname in self.argnames:
            requested.append(request._get_active_fixturedef(argname))
        if self.cached_result is not None:
            request_key = self.cache_key(request)
            cache_key = self.cached_result[1]
            try:
                hit = bool(request_key == cache_key)
            except (ValueError, RuntimeError):
                hit = request_key is cache_key
            if hit:
                if self.cached_result[2] is not None:
                    exc, tb = self.cached_result[2]
                    raise exc.with_traceback(tb)
                return self.cached_result[0]
            self.finish(request)
        finalizer = functools.partial(self.finish, request=request)
        for parent in requested:
            parent.addfinalizer(finalizer)
        try:
            result = self._setup(request)
        finally:
            request.node.addfinalizer(finalizer)
        return result

    def cache_key(self, request):
        return getattr(request, "param", None)

    def _setup(self, request):
        kwargs = {}
        for argname in self.argnames:
            kwargs[argname] = request.getfixturevalue(argname)
        func = resolve_fixture_function(self, request)
        key = self.cache_key(request)
        try:
            if _is_async(func):
                _async_fixture_error(request, self)
            result = call_fixture_func(func, request, kwargs)
        except _test_outcome() as e:
            self.cached_result = (None, key, (e, e.__traceback__))
            raise
        self.cached_result = (result, key, None)
        return result

    def __repr__(self):
        return f"<FixtureDef argname={self.argname!r} scope={self.scope!r} baseid={self.baseid!r}>"


def _eval_scope_callable(scope_callable, fixture_name, config):
    try:
        result = scope_callable(fixture_name=fixture_name, config=config)
    except Exception as e:  # noqa: BLE001
        raise TypeError(f"Error evaluating {scope_callable} while defining fixture '{fixture_name}'.\n"
                        "Expected a function with the signature (*, fixture_name, config)") from e
    if not isinstance(result, str):
        outcomes.fail(f"Expected {scope_callable} to return a 'str' while defining fixture '{fixture_name}', but it "
                      f"returned:\n{result!r}", pytrace=False)
    return result


class RequestFixtureDef(FixtureDef):
    def __init__(self, request):  # noqa: D107 - a cheap stand-in: no manager, no introspection
        self.baseid = ""
        self.has_location = False
        self.func = None
        self.argname = "request"
        self.scope_num = FUNCTION
        self.params = None
        self.ids = None
        self.argnames = ()
        self.cached_result = (request, [0], None)
        self._finalizers = []
        self.pseudo = False

    def addfinalizer(self, finalizer):
        pass


def resolve_fixture_function(fixturedef, request):
    func = fixturedef.func
    instance = request.instance
    if instance is not None:
        bound_self = getattr(func, "__self__", None)
        if bound_self is not None and not isinstance(instance, type(bound_self)):
            return func
        underlying = getattr(func, "__func__", None)
        if underlying is not None and bound_self is not None:
            return underlying.__get__(instance)
    return func


def _is_generator_function(func):
    code = getattr(func, "__code__", None)
    if code is None:
        code = getattr(getattr(func, "__func__", None), "__code__", None)
    if code is not None:
        return bool(code.co_flags & 0x20) and not code.co_flags & 0x200  # CO_GENERATOR, not async gen
    import inspect

    return inspect.isgeneratorfunction(func)


def call_fixture_func(fixturefunc, request, kwargs):
    if _is_generator_function(fixturefunc):
        generator = fixturefunc(**kwargs)
        try:
            result = next(generator)
        except StopIteration:
            raise ValueError(f"{request.fixturename} did not yield a value") from None
        request.addfinalizer(functools.partial(_teardown_yield_fixture, fixturefunc, generator))
        return result
    return fixturefunc(**kwargs)


def _is_async(func):
    code = getattr(func, "__code__", None) or getattr(getattr(func, "__func__", None), "__code__", None)
    return code is not None and bool(code.co_flags & 0x280)  # CO_COROUTINE | CO_ASYNC_GENERATOR


def _async_fixture_error(request, fixturedef):
    """pytest 9 turns its PytestRemovedIn9Warning about an async fixture into an error."""
    auto = " with autouse=True" if getattr(fixturedef, "_autouse", False) else ""
    text = (f"{request.node.name!r} requested an async fixture {request.fixturename!r}{auto}, with no plugin or "
            "hook that handled it. This is usually an error, as pytest does not natively support it. This will "
            "turn into an error in pytest 9.\n"
            "See: https://docs.pytest.org/en/stable/deprecations.html#sync-test-depending-on-async-fixture")
    pytest = sys.modules.get("pytest")
    cls = getattr(pytest, "PytestRemovedIn9Warning", None) if pytest is not None else None
    if cls is None:
        cls = RuntimeError
    raise cls(text)


def _teardown_yield_fixture(fixturefunc, it):
    try:
        next(it)
    except StopIteration:
        pass
    else:
        outcomes.fail(f"fixture function has more than one 'yield':\n\n{getattr(fixturefunc, '__name__', '?')}",
                      pytrace=False)


def get_direct_param_fixture_func(request):
    return request.param


# --- lookup errors ----------------------------------------------------------------------------


class FixtureLookupError(LookupError):
    def __init__(self, argname, request, msg=None):
        self.argname = argname
        self.request = request
        self.fixturestack = request._get_fixturestack()
        self.msg = msg
        LookupError.__init__(self, argname)

    def formatrepr_text(self):
        """The text pytest prints for it (FixtureLookupErrorRepr), without the source lines
        of every requesting function but the test's own `def` line."""
        import inspect

        lines = []
        stack = [self.request._pyfuncitem.obj]
        stack.extend(fd.func for fd in self.fixturestack)
        msg = self.msg
        if msg is not None:
            stack = stack[:-1]
        fspath, lineno = "?", 0
        for function in stack:
            try:
                real = inspect.unwrap(function)
                fspath = inspect.getsourcefile(real) or "?"
                source, lineno = inspect.getsourcelines(real)
            except (OSError, TypeError, IndexError):
                lines.append(f"file {fspath}, line {lineno + 1}: source code not available")
                continue
            lineno = max(lineno - 1, 0)
            lines.append(f"file {fspath}, line {lineno + 1}")
            for line in source:
                line = line.rstrip()
                lines.append("  " + line)
                if line.lstrip().startswith("def"):
                    break
        if msg is None:
            available = sorted(self.request._fixturemanager.available_names(self.request._pyfuncitem))
            if self.argname in available:
                msg = f" recursive dependency involving fixture '{self.argname}' detected"
            else:
                msg = f"fixture '{self.argname}' not found"
            msg += "\n available fixtures: {}".format(", ".join(available))
            msg += "\n use 'pytest --fixtures [testpath]' for help on them."
        msg_lines = msg.split("\n")
        lines.append(f"E       {msg_lines[0].strip()}")
        for line in msg_lines[1:]:
            lines.append(f">       {line.strip()}")
        lines.append("")
        lines.append(f"{fspath}:{lineno + 1}")
        return "\n".join(lines)

    def short(self):
        if self.msg is not None:
            return self.msg.split("\n")[0]
        return f"fixture '{self.argname}' not found"

    def __str__(self):
        return self.short()


# --- requests ---------------------------------------------------------------------------------


class FixtureRequest:
    """The `request` object (pytest's FixtureRequest)."""

    def __init__(self, pyfuncitem, fixturename, arg2fixturedefs, fixture_defs):
        self.fixturename = fixturename
        self._pyfuncitem = pyfuncitem
        self._arg2fixturedefs = arg2fixturedefs
        self._fixture_defs = fixture_defs

    @property
    def _fixturemanager(self):
        return self._pyfuncitem.definition.manager

    @property
    def scope(self):
        return SCOPE_NAMES[self._scope]

    @property
    def fixturenames(self):
        result = list(self._pyfuncitem.fixturenames)
        result.extend(set(self._fixture_defs).difference(result))
        return result

    @property
    def config(self):
        return self._pyfuncitem.config

    @property
    def function(self):
        if self._scope != FUNCTION:
            raise AttributeError(f"function not available in {self.scope}-scoped context")
        return self._pyfuncitem.obj

    @property
    def cls(self):
        if self._scope not in (CLASS, FUNCTION):
            raise AttributeError(f"cls not available in {self.scope}-scoped context")
        return self._pyfuncitem.definition.cls

    @property
    def instance(self):
        if self._scope != FUNCTION:
            return None
        return self._pyfuncitem.instance

    @property
    def module(self):
        if self._scope not in (FUNCTION, CLASS, MODULE):
            raise AttributeError(f"module not available in {self.scope}-scoped context")
        return self._pyfuncitem.definition.module

    @property
    def path(self):
        if self._scope == SESSION:
            raise AttributeError(f"path not available in {self.scope}-scoped context")
        return self._pyfuncitem.path

    @property
    def fspath(self):
        from .config import _legacy_path

        return _legacy_path(self.path)

    @property
    def keywords(self):
        return self.node.keywords

    @property
    def session(self):
        return self._pyfuncitem.session

    def applymarker(self, marker):
        self.node.add_marker(marker)

    def raiseerror(self, msg):
        raise FixtureLookupError(None, self, msg)

    def getfixturevalue(self, argname):
        fixturedef = self._get_active_fixturedef(argname)
        assert fixturedef.cached_result is not None, (
            f'The fixture value for "{argname}" is not available.  '
            "This can happen when the fixture has already been torn down.")
        return fixturedef.cached_result[0]

    getfuncargvalue = getfixturevalue

    def _iter_chain(self):
        current = self
        while isinstance(current, SubRequest):
            yield current
            current = current._parent_request

    def _get_active_fixturedef(self, argname):
        if argname == "request":
            return RequestFixtureDef(self)
        fixturedef = self._fixture_defs.get(argname)
        if fixturedef is not None:
            self._check_scope(fixturedef, fixturedef.scope_num)
            return fixturedef
        fixturedefs = self._arg2fixturedefs.get(argname, None)
        if fixturedefs is None:
            fixturedefs = self._fixturemanager.getfixturedefs(argname, self._pyfuncitem)
            if fixturedefs is not None:
                self._arg2fixturedefs[argname] = fixturedefs
        if not fixturedefs:
            raise FixtureLookupError(argname, self)
        index = -1
        for request in self._iter_chain():
            if request.fixturename == argname:
                index -= 1
        if -index > len(fixturedefs):
            raise FixtureLookupError(argname, self)
        fixturedef = fixturedefs[index]
        callspec = getattr(self._pyfuncitem, "callspec", None)
        if callspec is not None and argname in callspec.params:
            param = callspec.params[argname]
            param_index = callspec.indices[argname]
            scope = callspec._arg2scope[argname]
        else:
            param = _NOPARAM
            param_index = 0
            scope = fixturedef.scope_num
            self._check_fixturedef_without_param(fixturedef)
        self._check_scope(fixturedef, fixturedef.scope_num)
        subrequest = SubRequest(self, scope, param, param_index, fixturedef)
        fixturedef.execute(request=subrequest)
        self._fixture_defs[argname] = fixturedef
        return fixturedef

    def _check_fixturedef_without_param(self, fixturedef):
        if fixturedef.params is None:
            return
        item = self._pyfuncitem
        if getattr(item, "nofuncargs", False):
            outcomes.fail(f"{item.name} does not support fixtures, maybe unittest.TestCase subclass?\n"
                          f"Node id: {item.nodeid}\nFunction type: TestCaseFunction", pytrace=False)
        outcomes.fail(f"The requested fixture has no parameter defined for test:\n    {item.nodeid}\n\n"
                      f"Requested fixture '{fixturedef.argname}'", pytrace=False)

    def _get_fixturestack(self):
        values = [request._fixturedef for request in self._iter_chain()]
        values.reverse()
        return values


_NOPARAM = object()


class TopRequest(FixtureRequest):
    _scope = FUNCTION

    def __init__(self, pyfuncitem):
        FixtureRequest.__init__(self, pyfuncitem, None, dict(pyfuncitem._fixtureinfo.name2fixturedefs), {})

    def _check_scope(self, requested_fixturedef, requested_scope):
        pass

    @property
    def node(self):
        return self._pyfuncitem

    def __repr__(self):
        return f"<FixtureRequest for {self.node!r}>"

    def _fillfixtures(self):
        item = self._pyfuncitem
        for argname in item.fixturenames:
            if argname not in item.funcargs:
                item.funcargs[argname] = self.getfixturevalue(argname)

    def addfinalizer(self, finalizer):
        self.node.addfinalizer(finalizer)


class SubRequest(FixtureRequest):
    def __init__(self, request, scope, param, param_index, fixturedef):
        FixtureRequest.__init__(self, request._pyfuncitem, fixturedef.argname, request._arg2fixturedefs,
                                request._fixture_defs)
        self._parent_request = request
        self._scope = scope
        self._fixturedef = fixturedef
        if param is not _NOPARAM:
            self.param = param
        self.param_index = param_index

    def __repr__(self):
        return f"<SubRequest {self.fixturename!r} for {self._pyfuncitem!r}>"

    @property
    def node(self):
        item = self._pyfuncitem
        scope = self._scope
        if scope == FUNCTION:
            return item
        return item.definition.scope_node(item, scope, self._fixturedef)

    def _check_scope(self, requested_fixturedef, requested_scope):
        if self._scope > requested_scope:
            argname = requested_fixturedef.argname
            stack = "\n".join(_format_fixturedef_line(fd) for fd in self._get_fixturestack())
            outcomes.fail(f"ScopeMismatch: You tried to access the {SCOPE_NAMES[requested_scope]} scoped fixture "
                          f"{argname} with a {SCOPE_NAMES[self._scope]} scoped request object. Requesting fixture "
                          f"stack:\n{stack}\nRequested fixture:\n{_format_fixturedef_line(requested_fixturedef)}",
                          pytrace=False)

    def addfinalizer(self, finalizer):
        self._fixturedef.addfinalizer(finalizer)


def _format_fixturedef_line(fixturedef):
    func = fixturedef.func
    code = getattr(func, "__code__", None) or getattr(getattr(func, "__func__", None), "__code__", None)
    if code is None:
        return f"<unknown>:  def {getattr(func, '__name__', fixturedef.argname)}"
    try:
        import inspect

        sig = str(inspect.signature(func))
    except (TypeError, ValueError):
        sig = "(...)"
    return f"{code.co_filename}:{code.co_firstlineno}:  def {func.__name__}{sig}"


# --- the registry -----------------------------------------------------------------------------


class FuncFixtureInfo:
    __slots__ = ("argnames", "initialnames", "names_closure", "name2fixturedefs")

    def __init__(self, argnames, initialnames, names_closure, name2fixturedefs):
        self.argnames = argnames
        self.initialnames = initialnames
        self.names_closure = names_closure
        self.name2fixturedefs = name2fixturedefs

    def prune_dependency_tree(self):
        closure = set()
        working = set(self.initialnames)
        while working:
            argname = working.pop()
            if argname not in closure and argname in self.names_closure:
                closure.add(argname)
                if argname in self.name2fixturedefs:
                    working.update(self.name2fixturedefs[argname][-1].argnames)
        self.names_closure[:] = sorted(closure, key=self.names_closure.index)


def deduplicate_names(*seqs):
    return tuple(dict.fromkeys(name for seq in seqs for name in seq))


class FixtureManager:
    def __init__(self, config):
        self.config = config
        self._arg2fixturedefs = {}
        self._holderobjseen = set()
        usefixtures = []
        try:
            usefixtures = list(config.getini("usefixtures"))
        except ValueError:
            pass
        self._nodeid_autousenames = {"": usefixtures}
        self.generated_ids = {}

    def register(self, name, func, nodeid, scope="function", params=None, ids=None, autouse=False):
        fixture_def = FixtureDef(self, nodeid, name, func, scope, params, ids, autouse=autouse)
        faclist = self._arg2fixturedefs.setdefault(name, [])
        if fixture_def.has_location:
            faclist.append(fixture_def)
        else:
            i = len([f for f in faclist if not f.has_location])
            faclist.insert(i, fixture_def)
        if autouse:
            self._nodeid_autousenames.setdefault(nodeid or "", []).append(name)
        return fixture_def

    def parsefactories(self, holderobj, nodeid, holder_is_instance=False):
        """Registers the fixtures of a module, a class instance or a plugin object."""
        key = id(holderobj)
        if key in self._holderobjseen:
            return
        self._holderobjseen.add(key)
        import types

        if not isinstance(holderobj, (type, types.ModuleType)):
            holder_tp = type(holderobj)
        else:
            holder_tp = holderobj
        for name in dir(holderobj):
            try:
                obj_ub = getattr(holder_tp, name, None)
            except Exception:  # noqa: BLE001 - an arbitrary descriptor
                continue
            marker = getfixturemarker(obj_ub)
            if marker is None:
                continue
            fixture_name = marker.name or name
            try:
                obj = getattr(holderobj, name)
            except AttributeError:
                obj = obj_ub
            except Exception:  # noqa: BLE001
                continue
            func = _wrapped_function(obj)
            self.register(fixture_name, func, nodeid, scope=marker.scope, params=marker.params, ids=marker.ids,
                          autouse=marker.autouse)

    def getfixturedefs(self, argname, node):
        try:
            fixturedefs = self._arg2fixturedefs[argname]
        except KeyError:
            return None
        parents = node.definition.parent_ids if hasattr(node, "definition") else _parent_ids(node)
        return tuple(fd for fd in fixturedefs if fd.baseid in parents)

    def available_names(self, item):
        parents = item.definition.parent_ids
        return {name for name, defs in self._arg2fixturedefs.items() if any(fd.baseid in parents for fd in defs)}

    def getautousenames(self, parent_ids_in_order):
        for nodeid in parent_ids_in_order:
            names = self._nodeid_autousenames.get(nodeid)
            if names:
                yield from names

    def getfixtureclosure(self, definition, initialnames, ignore_args):
        closure = list(initialnames)
        arg2fixturedefs = {}
        current_indices = {}
        parents = definition.parent_ids
        defs_of = self._arg2fixturedefs

        def process(argname):
            if current_indices.get(argname) == -1:
                return
            if argname not in closure:
                closure.append(argname)
            if argname in ignore_args:
                return
            fixturedefs = arg2fixturedefs.get(argname)
            if not fixturedefs:
                all_defs = defs_of.get(argname)
                if not all_defs:
                    return
                fixturedefs = tuple(fd for fd in all_defs if fd.baseid in parents)
                if not fixturedefs:
                    return
                arg2fixturedefs[argname] = fixturedefs
            index = current_indices.get(argname, -1)
            if -index > len(fixturedefs):
                return
            fixturedef = fixturedefs[index]
            current_indices[argname] = index - 1
            for dep in fixturedef.argnames:
                process(dep)
            current_indices[argname] = index

        for name in initialnames:
            process(name)

        def sort_by_scope(arg_name):
            try:
                fixturedefs = arg2fixturedefs[arg_name]
            except KeyError:
                return FUNCTION
            return fixturedefs[-1].scope_num

        closure.sort(key=sort_by_scope, reverse=True)
        return closure, arg2fixturedefs

    def pytest_generate_tests(self, metafunc):
        """Parametrized fixtures multiply the tests that use them."""
        from .parametrize import parametrize_argnames_of

        marks = list(metafunc.definition.iter_markers("parametrize"))
        for argname in metafunc.fixturenames:
            fixture_defs = metafunc._arg2fixturedefs.get(argname)
            if not fixture_defs:
                continue
            if any(argname in parametrize_argnames_of(m) for m in marks):
                continue
            for fixturedef in reversed(fixture_defs):
                if fixturedef.params is not None:
                    metafunc.parametrize(argname, fixturedef.params, indirect=True, scope=fixturedef.scope,
                                         ids=fixturedef.ids)
                    break
                if argname not in fixturedef.argnames:
                    break


def _parent_ids(node):
    return {n.nodeid for n in node.iter_parents()}


# --- setup state ------------------------------------------------------------------------------


class SetupState:
    """The nodes in use, bottom (session) to top (item), and their finalizers."""

    def __init__(self):
        self.stack = []

    def setup(self, item, chain=None):
        """Pushes the nodes of `item`'s chain; nodes of an older chain that are not in it
        are torn down first (their errors are returned: they belong to earlier tests)."""
        chain = chain if chain is not None else item.listchain()
        stale_errors = None
        stack = self.stack
        n = 0
        limit = min(len(stack), len(chain))
        while n < limit and stack[n] is chain[n]:
            n += 1
        if n < len(stack):
            stale_errors = self._pop_to(n)
        for node in chain[len(stack):]:
            stack.append(node)
            node._finalizers = []
            node.setup()
        return stale_errors

    def _pop_to(self, keep):
        """Tears down the top nodes until `keep` remain; the exceptions raised."""
        exceptions = []
        stack = self.stack
        outcome = _test_outcome()
        while len(stack) > keep:
            node = stack.pop()
            finalizers = node._finalizers
            these = []
            while finalizers:
                fin = finalizers.pop()
                try:
                    fin()
                except outcome as e:
                    these.append(e)
            try:
                node.teardown()
            except outcome as e:
                these.append(e)
            if len(these) == 1:
                exceptions.extend(these)
            elif these:
                exceptions.append(BaseExceptionGroup(f"errors while tearing down {node!r}", these[::-1]))
        return exceptions

    def teardown_exact(self, needed_ids):
        """Tears down every node whose nodeid is not the same as the one at its depth in
        `needed_ids` (the next item's parents); None tears everything down. Returns the
        exceptions raised (the caller reports them)."""
        stack = self.stack
        keep = 0
        if needed_ids:
            limit = min(len(stack), len(needed_ids))
            while keep < limit and stack[keep].nodeid == needed_ids[keep]:
                keep += 1
        return self._pop_to(keep)

    def has_finalizers_above(self, depth):
        """Whether nodes above `depth` (module, classes) hold finalizers."""
        return any(node._finalizers for node in self.stack[depth:])
