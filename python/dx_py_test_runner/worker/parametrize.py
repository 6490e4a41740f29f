"""Parametrization at run time, as pytest does it (`_pytest/python.py`: Metafunc, CallSpec2,
IdMaker): @pytest.mark.parametrize (stacked, on classes and modules, indirect, ids as a list
or a function, pytest.param with marks and ids), parametrized fixtures, and
`pytest_generate_tests` hooks. The ids are pytest's to the character, duplicates included.
"""
import enum
import re
import sys
from collections import Counter, defaultdict

from . import outcomes
from .marks import Mark, normalize

# Scopes, narrow to wide.
FUNCTION, CLASS, MODULE, PACKAGE, SESSION = range(5)
SCOPE_NAMES = ("function", "class", "module", "package", "session")
SCOPE_OF = {name: i for i, name in enumerate(SCOPE_NAMES)}


def scope_from_user(scope, descr=""):
    if isinstance(scope, int):
        return scope
    try:
        return SCOPE_OF[scope]
    except (KeyError, TypeError):
        outcomes.fail(f"{descr} has an unsupported scope value '{scope}'", pytrace=False)


class _NotSet(enum.Enum):
    token = 0

    def __repr__(self):
        return "<NOTSET>"


NOTSET = _NotSet.token


def _is_hidden(value):
    return type(value).__name__ == "_HiddenParam"


def _is_notset(value):
    return value is NOTSET or type(value).__name__ == "NotSetType"


class ParamSet:
    __slots__ = ("values", "marks", "id")

    def __init__(self, values, marks, id):  # noqa: A002 - pytest's name
        self.values = values
        self.marks = marks
        self.id = id


def _is_pytest_paramset(x):
    return getattr(type(x), "_fields", None) == ("values", "marks", "id")


def extract(parameterset, force_tuple):
    if isinstance(parameterset, ParamSet):
        return parameterset
    if _is_pytest_paramset(parameterset):
        return ParamSet(tuple(parameterset.values), normalize(parameterset.marks), parameterset.id)
    if force_tuple:
        return ParamSet((parameterset,), [], None)
    return ParamSet(parameterset, [], None)


def parse_argnames(argnames, *args, **kwargs):
    if isinstance(argnames, str):
        names = [x.strip() for x in argnames.split(",") if x.strip()]
        return names, len(names) == 1
    return list(argnames), False


def for_parametrize(argnames, argvalues, func, config, nodeid):
    names, force_tuple = parse_argnames(argnames)
    params = [extract(x, force_tuple) for x in argvalues]
    if params:
        for p in params:
            try:
                n = len(p.values)
            except TypeError:
                n = -1
            if n != len(names):
                outcomes.fail(
                    f'{nodeid}: in "parametrize" the number of names ({len(names)}):\n  {names}\n'
                    f"must be equal to the number of values ({n}):\n  {p.values}", pytrace=False)
    else:
        reason = f"got empty parameter set for ({', '.join(names)})"
        requested = config.getini("empty_parameter_set_mark") if config is not None else ""
        if requested in ("", None, "skip"):
            mark = Mark("skip", (), {"reason": reason})
        elif requested == "xfail":
            mark = Mark("xfail", (), {"reason": reason, "run": False})
        elif requested == "fail_at_collect":
            outcomes.fail(f"Empty parameter set in '{getattr(func, '__name__', '?')}'", pytrace=False)
        else:
            raise LookupError(requested)
        params.append(ParamSet((NOTSET,) * len(names), [mark], "NOTSET"))
    return names, params


# --- ids ----------------------------------------------------------------------------------

_non_printable = {i: f"\\x{i:02x}" for i in range(128) if i not in range(32, 127)}
_non_printable.update({ord("\t"): "\\t", ord("\r"): "\\r", ord("\n"): "\\n"})


def ascii_escaped(val):
    if isinstance(val, bytes):
        ret = val.decode("ascii", "backslashreplace")
    else:
        ret = val.encode("unicode_escape").decode("ascii")
    return ret.translate(_non_printable)


def _escape_by_config(val, config):
    if config is not None:
        try:
            if config.getini("disable_test_id_escaping_and_forfeit_all_rights_to_community_support"):
                return val
        except ValueError:
            pass
    return ascii_escaped(val)


_PYTEST7_IDS = None


def _pytest7_ids():
    """Whether the installed pytest is older than 8, which made duplicate ids unique its own
    way (`1`, `1` -> `10`, `11` where pytest 8 writes `1_0`, `1_1`). Node ids follow the pytest
    the project has, so that --lf, JUnit reports and CI history agree with it. No pytest: 8's."""
    global _PYTEST7_IDS
    if _PYTEST7_IDS is None:
        version = getattr(sys.modules.get("pytest"), "__version__", None)
        if version is None:
            try:
                from importlib.metadata import version as _version
                version = _version("pytest")
            except Exception:  # noqa: BLE001 - not installed, or unreadable metadata
                version = ""
        major = version.split(".", 1)[0]
        _PYTEST7_IDS = major.isdigit() and int(major) < 8
    return _PYTEST7_IDS


class IdMaker:
    __slots__ = ("argnames", "parametersets", "idfn", "ids", "config", "nodeid", "func_name")

    def __init__(self, argnames, parametersets, idfn, ids, config, nodeid=None, func_name=None):
        self.argnames = argnames
        self.parametersets = parametersets
        self.idfn = idfn
        self.ids = ids
        self.config = config
        self.nodeid = nodeid
        self.func_name = func_name

    def make_unique_parameterset_ids(self):
        resolved = list(self._resolve_ids())
        if len(resolved) != len(set(resolved)):
            counts = Counter(resolved)
            if self._strict():
                dups = ", ".join(i if not _is_hidden(i) else "<hidden>" for i, c in counts.items() if c > 1)
                outcomes.fail(f"Duplicate parametrization IDs detected, but strict_parametrization_ids is set.\n\n"
                              f"Test name:      {self.nodeid}\nDuplicates:     {dups}", pytrace=False)
            suffixes = defaultdict(int)
            for index, id_ in enumerate(resolved):
                if counts[id_] > 1:
                    if _is_hidden(id_):
                        outcomes.fail(f"{self._prefix()}multiple instances of HIDDEN_PARAM cannot be used in the "
                                      "same parametrize call, because the tests names need to be unique.",
                                      pytrace=False)
                    if _pytest7_ids():  # pytest < 8: the counter is appended as it is
                        resolved[index] = f"{id_}{suffixes[id_]}"
                        suffixes[id_] += 1
                        continue
                    suffix = "_" if id_ and id_[-1].isdigit() else ""
                    new_id = f"{id_}{suffix}{suffixes[id_]}"
                    while new_id in set(resolved):
                        suffixes[id_] += 1
                        new_id = f"{id_}{suffix}{suffixes[id_]}"
                    resolved[index] = new_id
                    suffixes[id_] += 1
        return resolved

    def _strict(self):
        if self.config is None:
            return False
        try:
            value = self.config.getini("strict_parametrization_ids")
        except ValueError:
            value = None
        if value in (None, "", False):
            value = self.config.strict if "strict_parametrization_ids" not in self.config._ini else value
        return bool(value)

    def _resolve_ids(self):
        for idx, ps in enumerate(self.parametersets):
            if ps.id is not None:
                yield ps.id if _is_hidden(ps.id) else _escape_by_config(ps.id, self.config)
            elif self.ids and idx < len(self.ids) and self.ids[idx] is not None:
                value = self.ids[idx]
                yield value if _is_hidden(value) else self._idval_from_value_required(value, idx)
            else:
                yield "-".join(self._idval(val, argname, idx) for val, argname in zip(ps.values, self.argnames))

    def _idval(self, val, argname, idx):
        idval = self._idval_from_function(val, argname, idx)
        if idval is not None:
            return idval
        idval = self._idval_from_hook(val, argname)
        if idval is not None:
            return idval
        idval = self._idval_from_value(val)
        if idval is not None:
            return idval
        return f"{argname}{idx}"

    def _idval_from_function(self, val, argname, idx):
        if self.idfn is None:
            return None
        try:
            id_ = self.idfn(val)
        except Exception as e:  # noqa: BLE001
            prefix = f"{self.nodeid}: " if self.nodeid is not None else ""
            raise ValueError(prefix + f"error raised while trying to determine id of parameter '{argname}' at "
                             f"position {idx}") from e
        if id_ is None:
            return None
        return self._idval_from_value(id_)

    def _idval_from_hook(self, val, argname):
        config = self.config
        if config is None or config._hooks is None:
            return None
        return config._hooks.call_firstresult("pytest_make_parametrize_id", config=config, val=val, argname=argname)

    def _idval_from_value(self, val):
        if isinstance(val, (str, bytes)):
            return _escape_by_config(val, self.config)
        if val is None or isinstance(val, (float, int, bool, complex)):
            return str(val)
        if isinstance(val, re.Pattern):
            return ascii_escaped(val.pattern)
        if _is_notset(val):
            return None
        if isinstance(val, enum.Enum):
            return str(val)
        name = getattr(val, "__name__", None)
        if isinstance(name, str):
            return name
        return None

    def _idval_from_value_required(self, val, idx):
        id_ = self._idval_from_value(val)
        if id_ is not None:
            return id_
        from reprlib import repr as saferepr

        outcomes.fail(f"{self._prefix()}ids contains unsupported value {saferepr(val)} (type: {type(val)!r}) at "
                      f"index {idx}. Supported types are: str, bytes, int, float, complex, bool, enum, regex or "
                      "anything with a __name__.", pytrace=False)

    def _prefix(self):
        if self.func_name is not None:
            return f"In {self.func_name}: "
        if self.nodeid is not None:
            return f"In {self.nodeid}: "
        return ""


# --- call specs -----------------------------------------------------------------------------


class CallSpec:
    """One planned invocation: pytest's CallSpec2."""

    __slots__ = ("params", "indices", "_arg2scope", "_idlist", "marks", "_static_idlist")

    def __init__(self, params=None, indices=None, arg2scope=None, idlist=(), marks=(), static_idlist=()):
        self.params = params if params is not None else {}
        self.indices = indices if indices is not None else {}
        self._arg2scope = arg2scope if arg2scope is not None else {}
        self._idlist = list(idlist)
        self.marks = list(marks)
        # The ids static discovery gives parametrize marks (no hook, no fixture params): how
        # the orchestrator may name this instance.
        self._static_idlist = list(static_idlist)

    def setmulti(self, argnames, valset, id, marks, scope, param_index, nodeid,  # noqa: A002
                 static_id=None):
        params = dict(self.params)
        indices = dict(self.indices)
        arg2scope = dict(self._arg2scope)
        for arg, val in zip(argnames, valset):
            if arg in params:
                outcomes.fail(f"{nodeid}: duplicate parametrization of {arg!r}", pytrace=False)
            params[arg] = val
            indices[arg] = param_index
            arg2scope[arg] = scope
        idlist = self._idlist if _is_hidden(id) else [*self._idlist, id]
        static = self._static_idlist if static_id is None or _is_hidden(static_id) else \
            [*self._static_idlist, static_id]
        return CallSpec(params, indices, arg2scope, idlist, [*self.marks, *normalize(marks)], static)

    def getparam(self, name):
        try:
            return self.params[name]
        except KeyError as e:
            raise ValueError(name) from e

    @property
    def id(self):
        return "-".join(self._idlist)


class Metafunc:
    """What `pytest_generate_tests(metafunc)` receives; also what applies parametrize marks
    and parametrized fixtures (pytest's two built-in generate_tests implementations)."""

    def __init__(self, definition, fixtureinfo, config, cls=None, module=None):
        self.definition = definition
        self.config = config
        self.module = module
        self.function = definition.obj
        self.fixturenames = fixtureinfo.names_closure
        self.cls = cls
        self._arg2fixturedefs = fixtureinfo.name2fixturedefs
        self._fixtureinfo = fixtureinfo
        self._calls = []
        self._params_directness = {}
        self._generated_ids = definition._generated_ids

    def parametrize(self, argnames, argvalues, indirect=False, ids=None, scope=None, *, _param_mark=None):
        nodeid = self.definition.nodeid
        argnames, parametersets = for_parametrize(argnames, argvalues, self.function, self.config, nodeid)
        del argvalues
        if "request" in argnames:
            outcomes.fail(f"{nodeid}: 'request' is a reserved name and cannot be used in @pytest.mark.parametrize",
                          pytrace=False)
        if scope is not None:
            scope_ = scope_from_user(scope, f"parametrize() call in {self.function.__name__}")
        else:
            scope_ = self._find_parametrized_scope(argnames, indirect)
        self._validate_if_using_arg_names(argnames, indirect)

        generated = None
        key = id(_param_mark) if _param_mark is not None else None
        if key is not None and key in self._generated_ids:
            ids = self._generated_ids[key][1]
            generated = True
        given_ids = ids
        ids = self._resolve_parameter_set_ids(argnames, ids, parametersets, nodeid)
        if key is not None and generated is None and ids_is_iterator(_param_mark):
            self._generated_ids[key] = (_param_mark, ids)
        static_ids = [None] * len(ids)
        if _param_mark is not None:
            static_ids = ids
            hooks = self.config._hooks if self.config is not None else None
            if hooks is not None and hooks.has("pytest_make_parametrize_id"):
                self.config._hooks = None
                try:
                    static_ids = self._resolve_parameter_set_ids(argnames, given_ids, parametersets, nodeid)
                except BaseException:  # noqa: BLE001 - only a name to match the orchestrator's
                    static_ids = ids
                finally:
                    self.config._hooks = hooks

        directness = self._resolve_args_directness(argnames, indirect)
        self._params_directness.update(directness)
        for argname in argnames:
            if directness[argname] == "indirect":
                continue
            self._arg2fixturedefs[argname] = [self.definition._pseudo_fixturedef(argname, scope_)]

        newcalls = []
        for callspec in self._calls or [CallSpec()]:
            for param_index, (param_id, param_set) in enumerate(zip(ids, parametersets)):
                newcalls.append(callspec.setmulti(argnames, param_set.values, param_id, param_set.marks, scope_,
                                                  param_index, nodeid, static_ids[param_index]))
        self._calls = newcalls

    def _find_parametrized_scope(self, argnames, indirect):
        if isinstance(indirect, (list, tuple)):
            all_fixtures = len(indirect) == len(argnames)
        else:
            all_fixtures = bool(indirect)
        if all_fixtures:
            used = [defs[-1].scope_num for name, defs in (self._arg2fixturedefs or {}).items()
                    if name in argnames and defs]
            return min(used, default=FUNCTION)
        return FUNCTION

    def _resolve_parameter_set_ids(self, argnames, ids, parametersets, nodeid):
        if ids is None:
            idfn = None
            ids_ = None
        elif callable(ids):
            idfn = ids
            ids_ = None
        else:
            idfn = None
            ids_ = self._validate_ids(ids, parametersets, self.function.__name__)
        maker = IdMaker(argnames, parametersets, idfn, ids_, self.config, nodeid=nodeid,
                        func_name=self.function.__name__)
        return maker.make_unique_parameterset_ids()

    @staticmethod
    def _validate_ids(ids, parametersets, func_name):
        import itertools

        try:
            num_ids = len(ids)
        except TypeError:
            try:
                iter(ids)
            except TypeError as e:
                raise TypeError("ids must be a callable or an iterable") from e
            num_ids = len(parametersets)
        if num_ids != len(parametersets) and num_ids != 0:
            outcomes.fail(f"In {func_name}: {len(parametersets)} parameter sets specified, with different number "
                          f"of ids: {num_ids}", pytrace=False)
        return list(itertools.islice(ids, num_ids))

    def _resolve_args_directness(self, argnames, indirect):
        if isinstance(indirect, bool):
            return dict.fromkeys(argnames, "indirect" if indirect else "direct")
        if isinstance(indirect, (list, tuple)):
            out = dict.fromkeys(argnames, "direct")
            for arg in indirect:
                if arg not in argnames:
                    outcomes.fail(f"In {self.function.__name__}: indirect fixture '{arg}' doesn't exist",
                                  pytrace=False)
                out[arg] = "indirect"
            return out
        outcomes.fail(f"In {self.function.__name__}: expected Sequence or boolean for indirect, got "
                      f"{type(indirect).__name__}", pytrace=False)

    def _validate_if_using_arg_names(self, argnames, indirect):
        defaults = set(self.definition._default_arg_names())
        func_name = self.function.__name__
        for arg in argnames:
            if arg not in self.fixturenames:
                if arg in defaults:
                    outcomes.fail(f"In {func_name}: function already takes an argument '{arg}' with a default value",
                                  pytrace=False)
                if isinstance(indirect, (list, tuple)):
                    name = "fixture" if arg in indirect else "argument"
                else:
                    name = "fixture" if indirect else "argument"
                outcomes.fail(f"In {func_name}: function uses no {name} '{arg}'", pytrace=False)

    def _recompute_direct_params_indices(self):
        for argname, kind in self._params_directness.items():
            if kind == "direct":
                for i, callspec in enumerate(self._calls):
                    callspec.indices[argname] = i


def ids_is_iterator(mark):
    ids = mark.kwargs.get("ids") if hasattr(mark, "kwargs") else None
    return ids is not None and not callable(ids) and not hasattr(ids, "__len__")


def parametrize_argnames_of(mark):
    args = list(mark.args)
    kwargs = dict(mark.kwargs)
    argnames = args[0] if args else kwargs.get("argnames")
    names, _ = parse_argnames(argnames) if argnames is not None else ([], False)
    return names
