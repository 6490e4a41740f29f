"""The run's configuration inside a worker, shaped like pytest's `Config` where suites touch
it: `config.getoption`, `config.getini`, `config.option`, `config.rootpath`,
`config.addinivalue_line`, `config.pluginmanager` (a small stand-in), `config.stash`.

The orchestrator hands the configuration over as JSON in DXPY_CONFIG (rootdir, inifile,
confcutdir, typed options, every ini key as written, the command-line options). Options that
conftests add with `pytest_addoption` get their defaults here (`Parser`); the command line of
dx-py carries no conftest options, so the defaults are what tests see.
"""
import json
import os
import shlex
import sys
import types

NOTSET = object()

# pytest's ini options by type (pytest 9); any other key is a string.
_BOOL_INI = {
    "xfail_strict", "strict_xfail", "strict", "strict_markers", "strict_config",
    "strict_parametrization_ids", "log_cli", "consider_namespace_packages",
    "disable_test_id_escaping_and_forfeit_all_rights_to_community_support",
    "junit_log_passing_tests", "enable_assertion_pass_hook", "console_output_style_bool",
    "tmp_path_retention_policy_bool", "verbosity_assertions_bool", "truncation_limit_bool",
}
_LINELIST_INI = {"markers", "filterwarnings", "usefixtures", "xfail_strict_list"}
_ARGS_INI = {
    "python_files", "python_classes", "python_functions", "norecursedirs", "testpaths",
    "addopts", "required_plugins", "doctest_optionflags",
}
_PATHS_INI = {"pythonpath"}
_STRING_DEFAULTS = {
    "empty_parameter_set_mark": "",
    "junit_family": "xunit2",
    "junit_suite_name": "pytest",
    "junit_logging": "no",
    "junit_duration_report": "total",
    "log_level": None,
    "log_format": "%(levelname)-8s %(name)s:%(filename)s:%(lineno)d %(message)s",
    "log_date_format": "%H:%M:%S",
    "console_output_style": "progress",
    "tmp_path_retention_count": "3",
    "tmp_path_retention_policy": "all",
    "faulthandler_timeout": "0",
    "minversion": "",
    "cache_dir": ".pytest_cache",
    "doctest_encoding": "utf-8",
    "asyncio_mode": None,
}


# What pytest's plugins register at pytest_configure (config.getini("markers") lists them).
_BUILTIN_MARKERS = (
    "filterwarnings(warning): add a warning filter to the given test. see "
    "https://docs.pytest.org/en/stable/how-to/capture-warnings.html#pytest-mark-filterwarnings ",
    "skip(reason=None): skip the given test function with an optional reason. Example: skip(reason=\"no way of "
    "currently testing this\") skips the test.",
    "skipif(condition, ..., *, reason=...): skip the given test function if any of the conditions evaluate to True.",
    "xfail(condition, ..., *, reason=..., run=True, raises=None, strict=strict_xfail): mark the test function as "
    "an expected failure if any of the conditions evaluate to True.",
    "parametrize(argnames, argvalues): call a test function multiple times passing in different arguments in turn.",
    "usefixtures(fixturename1, fixturename2, ...): mark tests as needing all of the specified fixtures.",
    "tryfirst: mark a hook implementation function such that the plugin machinery will try to call it first/as "
    "early as possible. DEPRECATED, use @pytest.hookimpl(tryfirst=True) instead.",
    "trylast: mark a hook implementation function such that the plugin machinery will try to call it last/as "
    "late as possible. DEPRECATED, use @pytest.hookimpl(trylast=True) instead.",
)


def _bool(text):
    if isinstance(text, bool):
        return text
    return str(text).strip().lower() in ("1", "true", "yes", "y", "on", "t")


class Stash(dict):
    """pytest's Stash: a dict keyed by StashKey objects."""

    def setdefault(self, key, default):  # noqa: D401 - same as dict's
        return dict.setdefault(self, key, default)


class _Hook:
    """config.hook: calling a hook runs the conftest implementations we know."""

    def __init__(self, config):
        self._config = config

    def __getattr__(self, name):
        if not name.startswith("pytest_"):
            raise AttributeError(name)

        def call(**kwargs):
            hooks = self._config._hooks
            if hooks is None:
                return []
            return hooks.call(name, **kwargs)

        call.__name__ = name
        return call


class PluginManager:
    """The part of pluggy's PluginManager that conftests use: asking what is loaded."""

    def __init__(self, config):
        self._config = config
        self._plugins = {}

    def hasplugin(self, name):
        return name in self._plugins or name in ("python", "fixtures", "skipping", "unittest", "capture",
                                                  "monkeypatch", "tmpdir", "logging", "warnings")

    def getplugin(self, name):
        plugin = self._plugins.get(name)
        if plugin is None and name in _STAND_INS:
            plugin = self._plugins[name] = _STAND_INS[name](self._config)
        return plugin

    get_plugin = getplugin

    def register(self, plugin, name=None):
        name = name or getattr(plugin, "__name__", None) or str(id(plugin))
        self._plugins[name] = plugin
        hooks = self._config._hooks
        if hooks is not None:
            hooks.register_plugin(plugin, name)
        return name

    def unregister(self, plugin=None, name=None):
        for key, value in list(self._plugins.items()):
            if value is plugin or key == name:
                del self._plugins[key]

    def is_registered(self, plugin):
        return any(p is plugin for p in self._plugins.values())

    def get_plugins(self):
        return set(self._plugins.values())

    def list_name_plugin(self):
        return list(self._plugins.items())

    def import_plugin(self, modname, consider_entry_points=False):
        hooks = self._config._hooks
        if hooks is not None:
            hooks.import_plugin(modname)

    def getplugins(self):
        return list(self._plugins.values())

    def set_blocked(self, name):
        pass

    def is_blocked(self, name):
        return False


class _TerminalReporter:
    """What conftests use of pytest's terminal reporter: lines go to the worker's stderr
    (the current test's captured stderr)."""

    def __init__(self, config):
        self.config = config
        self._tw = _TerminalWriter()
        self.stats = {}
        self.verbosity = config.option.verbose

    def write(self, content, **markup):
        self._tw.write(content)

    def write_line(self, line, **markup):
        self._tw.line(str(line))

    def line(self, msg, **kw):
        self._tw.line(str(msg))

    def write_sep(self, sep, title=None, **markup):
        self._tw.sep(sep, title)

    def section(self, title, sep="=", **kw):
        self._tw.sep(sep, title)

    def ensure_newline(self):
        pass


class _CaptureManager:
    """pytest's capture manager: the worker's capture is at the file-descriptor level and
    cannot be suspended, so these are no-ops (output inside goes to the test's report)."""

    def __init__(self, config):
        self.config = config

    def _noop_cm(self, *args, **kwargs):
        import contextlib

        return contextlib.nullcontext()

    global_and_fixture_disabled = _noop_cm
    item_capture = _noop_cm

    def suspend_global_capture(self, in_=False):
        pass

    def resume_global_capture(self):
        pass

    def read_global_capture(self):
        return "", ""

    def is_globally_capturing(self):
        return True

    def is_capturing(self):
        return "fd"


_STAND_INS = {"terminalreporter": _TerminalReporter, "capturemanager": _CaptureManager}


class Parser:
    """What `pytest_addoption(parser)` receives: options and ini keys are recorded with their
    defaults (no command line is parsed: dx-py's command line has no conftest options)."""

    def __init__(self, config):
        self._config = config
        self._groups = {}

    def addoption(self, *opts, **attrs):
        self._config._add_option(opts, attrs)

    _addoption = addoption

    def getgroup(self, name, description="", after=None):
        group = self._groups.get(name)
        if group is None:
            group = self._groups[name] = OptionGroup(self, name, description)
        return group

    def addini(self, name, help="", type=None, default=NOTSET, **kwargs):  # noqa: A002 - pytest's names
        self._config._initypes[name] = (type, default)

    def parse_known_args(self, args=None, namespace=None):
        return self._config.option

    def parse_known_and_unknown_args(self, args=None, namespace=None):
        return self._config.option, []

    def processoption(self, option):
        pass


class OptionGroup:
    def __init__(self, parser, name, description=""):
        self.parser = parser
        self.name = name
        self.description = description
        self.options = []

    def addoption(self, *opts, **attrs):
        self.parser.addoption(*opts, **attrs)

    _addoption = addoption


class InvocationParams:
    def __init__(self, args, directory):
        self.args = tuple(args)
        self.plugins = None
        self.dir = directory


class Config:
    """pytest's Config, as far as suites use it."""

    def __init__(self, data=None):
        from pathlib import Path

        data = data or {}
        self._data = data
        self._hooks = None  # hooks.HookManager, once conftests are loaded
        rootdir = data.get("rootdir") or os.environ.get("DXPY_ROOTDIR") or os.getcwd()
        self.rootpath = Path(rootdir)
        inifile = data.get("inifile") or ""
        self.inipath = Path(inifile) if inifile else None
        invocation_dir = data.get("invocation_dir") or os.getcwd()
        self.invocation_params = InvocationParams(data.get("args") or [], Path(invocation_dir))
        self.args = list(data.get("args") or [])
        # Options that only a conftest knows come through as written (args, extra_args).
        self._cmdline = [a for a in [*self.args, *(data.get("extra_args") or [])] if isinstance(a, str)]
        self.confcutdir = data.get("confcutdir") or (os.path.dirname(inifile) if inifile else rootdir)
        self.xfail_strict = bool(data.get("xfail_strict", False))
        self.strict = bool(data.get("strict", False))
        self._ini = dict(data.get("ini") or {})
        self._typed = {
            "markers": list(data.get("markers") or []) + list(_BUILTIN_MARKERS),
            "filterwarnings": list(data.get("filterwarnings") or []),
            "pythonpath": list(data.get("pythonpath") or []),
            "testpaths": list(data.get("testpaths") or []),
            "python_files": list(data.get("python_files") or ["test_*.py", "*_test.py"]),
            "python_classes": list(data.get("python_classes") or ["Test"]),
            "python_functions": list(data.get("python_functions") or ["test"]),
            "xfail_strict": self.xfail_strict,
            "strict_xfail": self.xfail_strict,
            "strict": self.strict,
        }
        self._inicache = {}
        self._initypes = {}  # addini: name -> (type, default)
        self._opt2dest = {}
        options = data.get("options") or {}
        verbose = options.get("verbose", 0)
        try:
            verbose = int(verbose)
        except (TypeError, ValueError):
            verbose = 0
        self.option = types.SimpleNamespace(
            verbose=verbose, keyword=options.get("keyword", ""), markexpr=options.get("markexpr", ""),
            xmlpath=options.get("junitxml") or None, junitxml=options.get("junitxml") or None,
            rootdir=options.get("rootdir") or None, inifilename=options.get("inifile") or None,
            timeout=options.get("timeout", 0), runxfail=False, capture=options.get("capture", "fd"),
            tbstyle=options.get("tbstyle", "auto"), showlocals=bool(options.get("showlocals", False)),
            usepdb=False, basetemp=None, fulltrace=False, exitfirst=bool(options.get("exitfirst", False)),
            maxfail=options.get("maxfail", 0), reruns=options.get("retries", 0), strict_markers=False, strict_config=False, doctestmodules=False,
            doctestglob=[], lf=bool(options.get("lf", False)), last_failed=bool(options.get("lf", False)),
            failedfirst=bool(options.get("failedfirst", False)), newfirst=False,
            last_failed_no_failures=options.get("last_failed_no_failures", "all"),
            collectonly=False, noconftest=False, confcutdir=self.confcutdir, importmode="prepend",
            continue_on_collection_errors=False, reportchars="fE", disable_warnings=False,
            color="no", code_highlight="no", assertmode="rewrite", setuponly=False, setupshow=False,
            setupplan=False, durations=options.get("durations"), durations_min=options.get("durations_min", 0.005), pythonwarnings=None,
            log_level=None, log_cli_level=None, log_file=None, log_format=None, log_date_format=None,
            plugins=[], traceconfig=False, debug=None, override_ini=[], deselect=[], ignore=[],
            ignore_glob=[], file_or_dir=list(self.args), help=False, version=False,
            force_short_summary=False, no_header=False, no_summary=False,
            dist="no", numprocesses=None, cacheclear=False, stepwise=False,
        )
        for dest in ("verbose", "keyword", "markexpr", "xmlpath", "rootdir", "runxfail", "capture",
                     "tbstyle", "showlocals", "usepdb", "basetemp", "fulltrace", "exitfirst", "maxfail"):
            self._opt2dest[dest] = dest
        for flag, dest in (("-v", "verbose"), ("--verbose", "verbose"), ("-k", "keyword"), ("-m", "markexpr"),
                           ("--junitxml", "xmlpath"), ("--junit-xml", "xmlpath"), ("--rootdir", "rootdir"),
                           ("--runxfail", "runxfail"), ("--capture", "capture"), ("--tb", "tbstyle"),
                           ("-l", "showlocals"), ("--showlocals", "showlocals"), ("--pdb", "usepdb"),
                           ("--basetemp", "basetemp"), ("--fulltrace", "fulltrace"), ("-x", "exitfirst"),
                           ("--exitfirst", "exitfirst"), ("--maxfail", "maxfail"), ("-p", "plugins"),
                           ("--import-mode", "importmode"), ("--confcutdir", "confcutdir"),
                           ("--strict-markers", "strict_markers"), ("--doctest-modules", "doctestmodules"),
                           ("-c", "inifilename"), ("--timeout", "timeout"), ("--lf", "lf"),
                           ("--last-failed", "lf"), ("--ff", "failedfirst"), ("--failed-first", "failedfirst"),
                           ("--lfnf", "last_failed_no_failures"),
                           ("--last-failed-no-failures", "last_failed_no_failures"), ("--setup-show", "setupshow"), ("-W", "pythonwarnings"),
                           ("--pythonwarnings", "pythonwarnings"), ("--log-level", "log_level"),
                           ("--durations", "durations"), ("--collect-only", "collectonly"),
                           ("--co", "collectonly"), ("-n", "numprocesses"), ("--dist", "dist")):
            self._opt2dest[flag] = dest
        self.known_args_namespace = self.option
        self.pluginmanager = PluginManager(self)
        self.hook = _Hook(self)
        self.stash = Stash()
        self.cache = None
        self._cleanup = []
        self.stats = {}

    # --- pytest's public API ------------------------------------------------------------

    @property
    def rootdir(self):
        return _legacy_path(self.rootpath)

    @property
    def inifile(self):
        return _legacy_path(self.inipath) if self.inipath else None

    def getoption(self, name, default=NOTSET, skip=False):
        dest = self._opt2dest.get(name, name)
        if dest.startswith("-"):
            dest = dest.lstrip("-").replace("-", "_")
        try:
            value = getattr(self.option, dest)
            if value is None and skip:
                raise AttributeError(name)
            return value
        except AttributeError:
            if default is not NOTSET:
                return default
            if skip:
                from . import outcomes

                outcomes.skip(f"no {name!r} option found")
            raise ValueError(f"no option named {name!r}") from None

    def getvalue(self, name, path=None):
        return self.getoption(name)

    def getvalueorskip(self, name, path=None):
        return self.getoption(name, skip=True)

    def getini(self, name):
        try:
            return self._inicache[name]
        except KeyError:
            pass
        value = self._inicache[name] = self._getini(name)
        return value

    def _getini(self, name):
        if name in ("xfail_strict", "strict_xfail", "strict"):
            return self._typed[name]
        if name == "strict_markers" and name not in self._initypes:
            if name in self._ini:
                return _bool(self._ini[name])
            return True if getattr(self.option, "strict_markers", False) else None
        kind, default = self._initypes.get(name, (None, NOTSET))
        if name in self._typed and name not in self._initypes:
            value = self._typed[name]  # typed by the orchestrator's config reader
            if name == "pythonpath":
                from pathlib import Path

                base = self.inipath.parent if self.inipath else self.rootpath
                return [Path(base, p) for p in value]
            return list(value) if isinstance(value, list) else value
        raw = self._ini.get(name, NOTSET)
        if kind is None:
            if name in _BOOL_INI:
                kind = "bool"
            elif name in _LINELIST_INI:
                kind = "linelist"
            elif name in _ARGS_INI:
                kind = "args"
            elif name in _PATHS_INI:
                kind = "paths"
        if raw is NOTSET:
            if default is not NOTSET:
                return default
            if name in _STRING_DEFAULTS:
                return _STRING_DEFAULTS[name]
            if kind in ("linelist", "args", "paths", "pathlist"):
                return []
            if kind == "bool":
                return False
            if name in self._initypes or name in _BOOL_INI:
                return ""
            if name in self._typed:
                return self._typed[name]
            raise ValueError(f"unknown configuration value: {name!r}")
        if kind == "bool":
            return _bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind in ("linelist",):
            if isinstance(raw, list):
                return [line.strip() for line in raw if line.strip()]
            return [t for t in (x.strip() for x in raw.split("\n")) if t]
        if kind == "args":
            return list(raw) if isinstance(raw, list) else shlex.split(raw)
        if kind in ("paths", "pathlist"):
            from pathlib import Path

            base = self.inipath.parent if self.inipath else self.rootpath
            items = raw if isinstance(raw, list) else shlex.split(raw)
            return [base / p for p in items]
        if isinstance(raw, list):
            return "\n".join(raw)
        return raw

    def addinivalue_line(self, name, line):
        current = self.getini(name)
        assert isinstance(current, list)
        current.append(line)

    def issue_config_time_warning(self, warning, stacklevel):
        import warnings

        warnings.warn(warning, stacklevel=stacklevel)

    def add_cleanup(self, func):
        self._cleanup.append(func)

    def get_terminal_writer(self):
        return _TerminalWriter()

    def get_verbosity(self, verbosity_type=None):
        return self.option.verbose

    @property
    def strict_markers(self):
        value = self.getini("strict_markers")
        return bool(self.strict if value is None else value)

    @property
    def inicfg(self):
        return dict(self._ini)

    # --- options from conftests -------------------------------------------------------

    def _add_option(self, opts, attrs):
        dest = attrs.get("dest")
        if not dest:
            longs = [o for o in opts if o.startswith("--")]
            name = (longs[0] if longs else opts[0]).lstrip("-")
            dest = name.replace("-", "_")
        for o in opts:
            self._opt2dest[o] = dest
        self._opt2dest[dest] = dest
        action = attrs.get("action")
        if "default" in attrs:
            default = attrs["default"]
        elif action == "store_true":
            default = False
        elif action == "store_false":
            default = True
        elif action == "count":
            default = None
        else:
            default = None
        given = self._from_cmdline(opts, attrs, action)
        if given is not NOTSET:
            setattr(self.option, dest, given)
        elif not hasattr(self.option, dest):
            setattr(self.option, dest, default)

    def _from_cmdline(self, opts, attrs, action):
        """The value of a conftest's option on the command line (argparse's rules for the
        common actions), or NOTSET when it is not there."""
        args = self._cmdline
        if not args:
            return NOTSET
        value = NOTSET
        convert = attrs.get("type")
        i = 0
        while i < len(args):
            arg = args[i]
            name, eq, inline = arg.partition("=")
            if name in opts and name.startswith("-"):
                if action in ("store_true", "store_false", "store_const", "count", "append_const"):
                    if action == "store_true":
                        value = True
                    elif action == "store_false":
                        value = False
                    elif action == "store_const":
                        value = attrs.get("const")
                    elif action == "count":
                        value = (0 if value is NOTSET else value) + 1
                    else:
                        value = (value if value is not NOTSET else []) + [attrs.get("const")]
                else:
                    if eq:
                        text = inline
                    elif i + 1 < len(args):
                        i += 1
                        text = args[i]
                    else:
                        break
                    item = text
                    if callable(convert):
                        try:
                            item = convert(text)
                        except (TypeError, ValueError):
                            item = text
                    if action in ("append", "extend"):
                        value = (value if value is not NOTSET else list(attrs.get("default") or [])) + [item]
                    else:
                        value = item
            i += 1
        return value


class _TerminalWriter:
    fullwidth = 80
    hasmarkup = False

    def line(self, s="", **kw):
        sys.stderr.write(s + "\n")

    def write(self, s, **kw):
        sys.stderr.write(s)

    def sep(self, sepchar, title=None, **kw):
        sys.stderr.write(f"{sepchar * 10} {title or ''}\n")


def _legacy_path(path):
    try:
        import py  # pytest ships `py.path.local` (its vendored LocalPath)

        return py.path.local(str(path))
    except Exception:  # noqa: BLE001 - no py: a pathlib.Path does for most uses
        return path


def load():
    """The Config of this run, from DXPY_CONFIG (or defaults when it is missing)."""
    text = os.environ.get("DXPY_CONFIG")
    data = {}
    if text:
        try:
            data = json.loads(text)
        except ValueError as e:
            sys.stderr.write(f"dx-py worker: DXPY_CONFIG is not valid JSON ({e}); using defaults\n")
    return Config(data)
