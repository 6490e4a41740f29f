"""pytest's built-in fixtures, for suites that run in the worker:

    request, pytestconfig, tmp_path, tmp_path_factory, tmpdir, tmpdir_factory, monkeypatch,
    capsys, capsysbinary, capfd, capfdbinary, caplog, recwarn, doctest_namespace,
    record_property, record_xml_attribute, record_testsuite_property, subtests, cache,
    worker_id, testrun_uid (pytest-xdist's, when it is installed)

pytest's own classes are used where they stand alone and pytest is loaded anyway
(pytest.MonkeyPatch, pytest.WarningsRecorder), so `isinstance` checks in tests hold; else
the worker's equivalents below. capsys and capfd read the worker's fd-level capture (the
memfds at fd 1 and 2): readouterr() returns what was written since the fixture started or
since the last readouterr(), and takes it out of the file, so it is not in the report too.
"""
import collections
import contextlib
import logging
import os
import re
import sys
import warnings

# Set by the runner: the Capture of fd 1 and 2, and the worker's number.
CAPTURE = None
WORKER_ID = 0
# record_testsuite_property's (name, value) pairs not yet sent: the next result sent takes
# them (take_suite_properties), since no other message reaches the JUnit reporter.
SUITE_PROPERTIES = []

_registry = []


def _builtin(scope="function", name=None, autouse=False):
    def deco(func):
        _registry.append((name or func.__name__, func, scope, autouse))
        return func

    return deco


def register_all(manager):
    """Registers the built-in fixtures (no location: visible everywhere, overridable)."""
    for name, func, scope, autouse in _registry:
        manager.register(name, func, None, scope=scope, autouse=autouse)


# --- config ------------------------------------------------------------------------------------


@_builtin(scope="session")
def pytestconfig(request):
    return request.config


@_builtin(scope="session")
def doctest_namespace():
    return {}


def _text(value):
    """str(value), as pytest's junitxml converts a property; a value whose __str__ raises is
    shown rather than ending the run (pytest would stop with an internal error)."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - user code
        return f"<unprintable {type(value).__name__} object>"


def properties(item):
    """The item's user_properties as the TestResult carries them: (str, str) pairs."""
    return [(_text(name), _text(value)) for name, value in item.user_properties]


def take_suite_properties():
    """The record_testsuite_property pairs recorded since the last call."""
    pending = SUITE_PROPERTIES[:]
    del SUITE_PROPERTIES[:]
    return pending


def _junit_xml(config):
    try:
        return bool(config.getoption("xmlpath", None))
    except Exception:  # noqa: BLE001 - a config without the option: no JUnit file
        return False


def _warn(request, category, text):
    """request.node.warn(category(text)) with pytest's own warning class, when pytest is
    there to provide it (a filterwarnings=error then fails the test, as under pytest)."""
    try:
        from _pytest import warning_types
    except ImportError:
        return
    request.node.warn(getattr(warning_types, category)(text))


def _warn_incompatibility_with_xunit2(request, fixture_name):
    """pytest's warning when the JUnit file's family (xunit2 by default) drops what the
    fixture records."""
    config = request.config
    if not _junit_xml(config):
        return
    family = config.getini("junit_family")
    if family not in ("xunit1", "legacy"):
        _warn(request, "PytestWarning",
              f"{fixture_name} is incompatible with junit_family '{family}' (use 'legacy' or 'xunit1')")


@_builtin()
def record_property(request):
    _warn_incompatibility_with_xunit2(request, "record_property")

    def append_property(name, value):
        request.node.user_properties.append((name, value))

    return append_property


@_builtin()
def record_xml_attribute(request):
    # The JUnit writer knows xunit2 only, whose testcases take no attributes of the user's
    # (pytest filters them out): recording them is a no-op, as pytest's is without a file.
    _warn(request, "PytestExperimentalApiWarning", "record_xml_attribute is an experimental feature")
    _warn_incompatibility_with_xunit2(request, "record_xml_attribute")

    def add_attr_noop(name, value):
        pass

    return add_attr_noop


@_builtin(scope="session")
def record_testsuite_property(request):
    junit = _junit_xml(request.config)

    def record_func(name, value):
        __tracebackhide__ = True
        if not isinstance(name, str):
            raise TypeError(f"name parameter needs to be a string, but {type(name).__name__} given")
        if junit:  # pytest keeps them only for its JUnit file
            SUITE_PROPERTIES.append((name, _text(value)))

    return record_func


# --- tmp_path ----------------------------------------------------------------------------------


def _get_user():
    try:
        import getpass

        return getpass.getuser()
    except (ImportError, OSError, KeyError):
        return None


class TempPathFactory:
    """pytest's TempPathFactory: numbered folders under one base folder per worker."""

    _basetemp = None

    def __init__(self, given_basetemp=None, retention_count=3, retention_policy="all", trace=None, basetemp=None,
                 **kwargs):
        from pathlib import Path

        self._given_basetemp = Path(given_basetemp) if given_basetemp is not None else None
        self._basetemp = basetemp

    @classmethod
    def from_config(cls, config, **kwargs):
        basetemp = config.getoption("basetemp", None)
        return cls(given_basetemp=basetemp)

    def _ensure_relative_to_basetemp(self, basename):
        basename = os.path.normpath(basename)
        if basename and os.sep not in basename and basename not in (".", "..") and \
                (os.altsep is None or os.altsep not in basename):
            return basename  # one plain name: relative to basetemp by construction
        if (self.getbasetemp() / basename).resolve().parent != self.getbasetemp():
            raise ValueError(f"{basename} is not a normalized and relative path")
        return basename

    def mktemp(self, basename, numbered=True):
        basename = self._ensure_relative_to_basetemp(basename)
        if not numbered:
            p = self.getbasetemp().joinpath(basename)
            p.mkdir(mode=0o700)
        else:
            p = _make_numbered_dir(self.getbasetemp(), basename)
        return p

    def getbasetemp(self):
        if self._basetemp is not None:
            return self._basetemp
        from pathlib import Path
        import tempfile

        if self._given_basetemp is not None:
            basetemp = self._given_basetemp / f"dx-py-gw{WORKER_ID}"
            if basetemp.exists():
                import shutil

                shutil.rmtree(basetemp, ignore_errors=True)
            basetemp.mkdir(mode=0o700, parents=True)
            basetemp = basetemp.resolve()
        else:
            from_env = os.environ.get("PYTEST_DEBUG_TEMPROOT")
            temproot = Path(from_env or tempfile.gettempdir()).resolve()
            user = _get_user() or "unknown"
            rootdir = temproot / f"pytest-of-{user}"
            try:
                rootdir.mkdir(mode=0o700, exist_ok=True)
            except OSError:
                rootdir = temproot / "pytest-of-unknown"
                rootdir.mkdir(mode=0o700, exist_ok=True)
            _remove_dead_workers_folders(rootdir)
            basetemp = Path(tempfile.mkdtemp(prefix=f"dx-py-{os.getpid()}-", dir=rootdir)).resolve()
        self._basetemp = basetemp
        return basetemp


def _remove_dead_workers_folders(rootdir):
    """Folders of workers that are gone, but the newest few (pytest keeps 3 runs)."""
    try:
        entries = [e for e in os.scandir(rootdir) if e.name.startswith("dx-py-") and e.is_dir()]
    except OSError:
        return
    dead = []
    for e in entries:
        parts = e.name.split("-")
        try:
            pid = int(parts[2])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            dead.append((e.stat().st_mtime, e.path))
        except OSError:
            pass
    dead.sort()
    import shutil

    for _, path in dead[:-32]:  # keep the last ones (a few runs' worth), as pytest keeps three
        shutil.rmtree(path, ignore_errors=True)


# root -> the names in it: read once, then kept up to date with the folders made here, so a
# new numbered folder does not list the folder again (a worker makes thousands in one
# basetemp). A name made behind our back shows up as FileExistsError, and the list is read
# again.
_known_names = {}


def _make_numbered_dir(root, prefix, mode=0o700):
    key = str(root)
    for _ in range(10):
        names = _known_names.get(key)
        if names is None:
            try:
                names = [entry.name for entry in os.scandir(root)]
            except OSError:
                names = []
            _known_names[key] = names
        cut = len(prefix)
        new_number = max((int(name[cut:]) for name in names
                          if name.startswith(prefix) and name[cut:].isdigit()), default=-1) + 1
        new_path = root.joinpath(f"{prefix}{new_number}")
        try:
            new_path.mkdir(mode=mode)
        except FileExistsError:
            _known_names.pop(key, None)
            continue
        names.append(new_path.name)
        return new_path
    raise OSError(f"could not create numbered dir with prefix {prefix} in {root} after 10 tries")


_factory = None


def _get_factory(config):
    global _factory
    if _factory is None:
        _factory = TempPathFactory.from_config(config)
    return _factory


@_builtin(scope="session")
def tmp_path_factory(request):
    return _get_factory(request.config)


def _mk_tmp(request, factory):
    name = request.node.name
    name = re.sub(r"[\W]", "_", name)
    name = name[:30]
    return factory.mktemp(name, numbered=True)


@_builtin()
def tmp_path(request, tmp_path_factory):
    return _mk_tmp(request, tmp_path_factory)


class TempdirFactory:
    def __init__(self, tmppath_factory):
        self._tmppath_factory = tmppath_factory

    def mktemp(self, basename, numbered=True):
        from .config import _legacy_path

        return _legacy_path(self._tmppath_factory.mktemp(basename, numbered).resolve())

    def getbasetemp(self):
        from .config import _legacy_path

        return _legacy_path(self._tmppath_factory.getbasetemp().resolve())


@_builtin(scope="session")
def tmpdir_factory(request):
    return TempdirFactory(_get_factory(request.config))


@_builtin()
def tmpdir(tmp_path):
    from .config import _legacy_path

    return _legacy_path(tmp_path)


# --- monkeypatch -------------------------------------------------------------------------------


class _Notset:
    def __repr__(self):
        return "<notset>"


notset = _Notset()


def _resolve(name):
    parts = name.split(".")
    used = parts.pop(0)
    found = __import__(used)
    for part in parts:
        used += "." + part
        try:
            found = getattr(found, part)
        except AttributeError:
            pass
        else:
            continue
        try:
            __import__(used)
        except ImportError as ex:
            expected = str(ex).split()[-1]
            if expected == used:
                raise
            raise ImportError(f"import error in {used}: {ex}") from ex
        found = _annotated_getattr(found, part, used)
    return found


def _annotated_getattr(obj, name, ann):
    try:
        return getattr(obj, name)
    except AttributeError as e:
        raise AttributeError(f"{type(obj).__name__!r} object at {ann} has no attribute {name!r}") from e


def _derive_importpath(import_path, raising):
    if not isinstance(import_path, str) or "." not in import_path:
        raise TypeError(f"must be absolute import path string, not {import_path!r}")
    module, attr = import_path.rsplit(".", 1)
    target = _resolve(module)
    if raising:
        _annotated_getattr(target, attr, ann=module)
    return attr, target


class MonkeyPatch:
    """pytest's MonkeyPatch (the same behaviour, for when pytest is not loaded)."""

    def __init__(self):
        self._setattr = []
        self._setitem = []
        self._cwd = None
        self._savesyspath = None

    @classmethod
    @contextlib.contextmanager
    def context(cls):
        m = cls()
        try:
            yield m
        finally:
            m.undo()

    def setattr(self, target, name, value=notset, raising=True):
        if isinstance(value, _Notset):
            if not isinstance(target, str):
                raise TypeError("use setattr(target, name, value) or setattr(target, value) with target being a "
                                "dotted import string")
            value = name
            name, target = _derive_importpath(target, raising)
        elif not isinstance(name, str):
            raise TypeError("use setattr(target, name, value) with name being a string or setattr(target, value) "
                            "with target being a dotted import string")
        oldval = getattr(target, name, notset)
        if raising and oldval is notset:
            raise AttributeError(f"{target!r} has no attribute {name!r}")
        if isinstance(target, type):
            oldval = target.__dict__.get(name, notset)
        self._setattr.append((target, name, oldval))
        setattr(target, name, value)

    def delattr(self, target, name=notset, raising=True):
        if isinstance(name, _Notset):
            if not isinstance(target, str):
                raise TypeError("use delattr(target, name) or delattr(target) with target being a dotted import "
                                "string")
            name, target = _derive_importpath(target, raising)
        if not hasattr(target, name):
            if raising:
                raise AttributeError(name)
        else:
            oldval = getattr(target, name, notset)
            if isinstance(target, type):
                oldval = target.__dict__.get(name, notset)
            self._setattr.append((target, name, oldval))
            delattr(target, name)

    def setitem(self, dic, name, value):
        self._setitem.append((dic, name, dic.get(name, notset)))
        dic[name] = value

    def delitem(self, dic, name, raising=True):
        if name not in dic:
            if raising:
                raise KeyError(name)
        else:
            self._setitem.append((dic, name, dic.get(name, notset)))
            del dic[name]

    def setenv(self, name, value, prepend=None):
        if not isinstance(value, str):
            warnings.warn(f"Value of environment variable {name} type should be str, but got {value!r} "
                          f"(type: {type(value).__name__}); converted to str implicitly", stacklevel=2)
            value = str(value)
        if prepend and name in os.environ:
            value = value + prepend + os.environ[name]
        self.setitem(os.environ, name, value)

    def delenv(self, name, raising=True):
        self.delitem(os.environ, name, raising=raising)

    def syspath_prepend(self, path):
        if self._savesyspath is None:
            self._savesyspath = sys.path[:]
        sys.path.insert(0, str(path))
        from importlib import invalidate_caches

        invalidate_caches()

    def chdir(self, path):
        if self._cwd is None:
            self._cwd = os.getcwd()
        os.chdir(path)

    def undo(self):
        for obj, name, value in reversed(self._setattr):
            if value is not notset:
                setattr(obj, name, value)
            else:
                delattr(obj, name)
        self._setattr[:] = []
        for dictionary, key, value in reversed(self._setitem):
            if value is notset:
                try:
                    del dictionary[key]
                except KeyError:
                    pass
            else:
                dictionary[key] = value
        self._setitem[:] = []
        if self._savesyspath is not None:
            sys.path[:] = self._savesyspath
            self._savesyspath = None
        if self._cwd is not None:
            os.chdir(self._cwd)
            self._cwd = None


def _monkeypatch_class():
    pytest = sys.modules.get("pytest")
    cls = getattr(pytest, "MonkeyPatch", None) if pytest is not None else None
    return cls or MonkeyPatch


@_builtin()
def monkeypatch():
    mpatch = _monkeypatch_class()()
    yield mpatch
    mpatch.undo()


# --- capsys / capfd ----------------------------------------------------------------------------

CaptureResult = collections.namedtuple("CaptureResult", ["out", "err"])


class CaptureFixture:
    """capsys/capfd over the worker's capture files: what was written since the start (or
    the last readouterr) is read and cut out of the file."""

    def __init__(self, binary, request):
        self._binary = binary
        self.request = request
        self._active = True
        redirect = getattr(CAPTURE, "redirect", None)  # -s: the fixture captures on its own
        if redirect is not None:
            redirect()
        self._marks = self._sizes()

    @staticmethod
    def _flush():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass

    def _fds(self):
        cap = CAPTURE
        if cap is None:
            return (1, 2)
        return (cap.out_fd, cap.err_fd)

    def _sizes(self):
        self._flush()
        sizes = []
        for fd in self._fds():
            try:
                sizes.append(os.fstat(fd).st_size)
            except OSError:
                sizes.append(0)
        return sizes

    def _take(self, fd, mark):
        try:
            size = os.fstat(fd).st_size
        except OSError:
            return b""
        if size <= mark:
            return b""
        try:
            data = os.pread(fd, size - mark, mark)
            os.ftruncate(fd, mark)
            os.lseek(fd, mark, os.SEEK_SET)
        except OSError:
            return b""
        return data

    def readouterr(self):
        if not self._active:
            empty = b"" if self._binary else ""
            return CaptureResult(empty, empty)
        self._flush()
        out_fd, err_fd = self._fds()
        out = self._take(out_fd, self._marks[0])
        err = self._take(err_fd, self._marks[1])
        if not self._binary:
            out = out.decode("utf-8", "replace")
            err = err.decode("utf-8", "replace")
        return CaptureResult(out, err)

    def close(self):
        self._active = False
        release = getattr(CAPTURE, "release", None)
        if release is not None:
            release()

    def _suspend(self):
        pass

    def _resume(self):
        pass

    def _is_started(self):
        return self._active

    @contextlib.contextmanager
    def disabled(self):
        """Output inside goes to the report (the terminal, under pytest)."""
        self._flush()
        before = self._sizes()
        try:
            yield
        finally:
            self._flush()
            # What was written inside stays in the file but is no longer ours to read.
            after = self._sizes()
            self._marks = [m + (a - b) if a >= b else m for m, a, b in zip(self._marks, after, before)]


def _capture_fixture(request, binary, name):
    item = request.node
    other = getattr(item, "_capture_fixture_name", None)
    if other is not None:
        from . import outcomes

        outcomes.fail(f"cannot use {name} and {other} at the same time", pytrace=False)
    item._capture_fixture_name = name
    fixture = CaptureFixture(binary, request)
    yield fixture
    fixture.close()
    item._capture_fixture_name = None


@_builtin()
def capsys(request):
    yield from _capture_fixture(request, False, "capsys")


@_builtin()
def capsysbinary(request):
    yield from _capture_fixture(request, True, "capsysbinary")


@_builtin()
def capfd(request):
    yield from _capture_fixture(request, False, "capfd")


@_builtin()
def capfdbinary(request):
    yield from _capture_fixture(request, True, "capfdbinary")


@_builtin()
def capteesys(request):
    yield from _capture_fixture(request, False, "capteesys")


# --- caplog --------------------------------------------------------------------------------------

DEFAULT_LOG_FORMAT = "%(levelname)-8s %(name)s:%(filename)s:%(lineno)d %(message)s"
DEFAULT_LOG_DATE_FORMAT = "%H:%M:%S"


class LogCaptureHandler(logging.StreamHandler):
    def __init__(self):
        import io

        super().__init__(io.StringIO())
        self.records = []

    def emit(self, record):
        self.records.append(record)
        super().emit(record)

    def reset(self):
        import io

        self.records = []
        self.stream = io.StringIO()

    def clear(self):
        import io

        self.records.clear()
        self.stream = io.StringIO()

    def handleError(self, record):  # noqa: N802 - logging's name
        if logging.raiseExceptions:
            raise  # noqa: PLE0704 - as pytest: fail the test that logged badly


class LogCaptureFixture:
    def __init__(self, item, config):
        self._item = item
        self._initial_handler_level = None
        self._initial_logger_levels = {}
        self._initial_disabled_logging_level = None
        self.handler = LogCaptureHandler()
        try:
            fmt = config.getini("log_format") or DEFAULT_LOG_FORMAT
            datefmt = config.getini("log_date_format") or DEFAULT_LOG_DATE_FORMAT
        except ValueError:
            fmt, datefmt = DEFAULT_LOG_FORMAT, DEFAULT_LOG_DATE_FORMAT
        self.handler.setFormatter(logging.Formatter(fmt, datefmt))
        level = None
        try:
            level = config.getini("log_level") or None
        except ValueError:
            pass
        if level:
            try:
                self.handler.setLevel(int(level) if str(level).isdigit() else level.upper())
            except (ValueError, TypeError):
                pass
        self._by_phase = {}
        self._phase = "setup"
        self._by_phase["setup"] = self.handler.records
        root = logging.getLogger()
        root.addHandler(self.handler)

    def _start_phase(self, when):
        self._phase = when
        self.handler.reset()
        self._by_phase[when] = self.handler.records

    def _finalize(self):
        for logger_name, level in self._initial_logger_levels.items():
            logging.getLogger(logger_name).setLevel(level)
        if self._initial_handler_level is not None:
            self.handler.setLevel(self._initial_handler_level)
        if self._initial_disabled_logging_level is not None:
            logging.disable(self._initial_disabled_logging_level)
            self._initial_disabled_logging_level = None
        logging.getLogger().removeHandler(self.handler)

    def get_records(self, when):
        return self._by_phase.get(when, [])

    @property
    def text(self):
        return self.handler.stream.getvalue()

    @property
    def records(self):
        return self.handler.records

    @property
    def record_tuples(self):
        return [(r.name, r.levelno, r.getMessage()) for r in self.records]

    @property
    def messages(self):
        return [r.getMessage() for r in self.records]

    def clear(self):
        self.handler.clear()

    def _force_enable_logging(self, level, logger_obj):
        original_disable_level = logger_obj.manager.disable
        if isinstance(level, str):
            level = logging.getLevelName(level)
        if not isinstance(level, int):
            return original_disable_level
        if logger_obj.isEnabledFor(level):
            return original_disable_level
        disable_level = max(level - 10, logging.NOTSET)
        logging.disable(disable_level)
        return original_disable_level

    def set_level(self, level, logger=None):
        logger_obj = logging.getLogger(logger)
        self._initial_logger_levels.setdefault(logger, logger_obj.level)
        logger_obj.setLevel(level)
        if self._initial_handler_level is None:
            self._initial_handler_level = self.handler.level
        self.handler.setLevel(level)
        initial = self._force_enable_logging(level, logger_obj)
        if self._initial_disabled_logging_level is None:
            self._initial_disabled_logging_level = initial

    @contextlib.contextmanager
    def at_level(self, level, logger=None):
        logger_obj = logging.getLogger(logger)
        orig_level = logger_obj.level
        logger_obj.setLevel(level)
        handler_orig_level = self.handler.level
        self.handler.setLevel(level)
        original_disable_level = self._force_enable_logging(level, logger_obj)
        try:
            yield
        finally:
            logger_obj.setLevel(orig_level)
            self.handler.setLevel(handler_orig_level)
            logging.disable(original_disable_level)

    @contextlib.contextmanager
    def filtering(self, filter_):
        self.handler.addFilter(filter_)
        try:
            yield
        finally:
            self.handler.removeFilter(filter_)


@_builtin()
def caplog(request):
    item = request.node
    result = LogCaptureFixture(item, request.config)
    item._caplog = result
    yield result
    result._finalize()
    item._caplog = None


# --- recwarn -----------------------------------------------------------------------------------


class WarningsRecorder(warnings.catch_warnings):
    def __init__(self):
        super().__init__(record=True)
        self._entered = False
        self._list = []

    @property
    def list(self):
        return self._list

    def __getitem__(self, i):
        return self._list[i]

    def __iter__(self):
        return iter(self._list)

    def __len__(self):
        return len(self._list)

    def pop(self, cls=Warning):
        best_idx = None
        for i, w in enumerate(self._list):
            if w.category == cls:
                return self._list.pop(i)
            if issubclass(w.category, cls) and (
                    best_idx is None or not issubclass(w.category, self._list[best_idx].category)):
                best_idx = i
        if best_idx is not None:
            return self._list.pop(best_idx)
        raise AssertionError(f"{cls!r} not found in warning list")

    def clear(self):
        self._list[:] = []

    def __enter__(self):
        if self._entered:
            raise RuntimeError(f"Cannot enter {self!r} twice")
        _list = super().__enter__()
        self._list = _list
        self._entered = True
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc_info):
        if not self._entered:
            raise RuntimeError(f"Cannot exit {self!r} without entering first")
        super().__exit__(*exc_info)
        self._entered = False


@_builtin()
def recwarn():
    pytest = sys.modules.get("pytest")
    cls = getattr(pytest, "WarningsRecorder", None) if pytest is not None else None
    if cls is not None:
        try:
            wrec = cls(_ispytest=True)
        except TypeError:
            wrec = WarningsRecorder()
    else:
        wrec = WarningsRecorder()
    with wrec:
        warnings.simplefilter("default")
        yield wrec


# --- subtests ------------------------------------------------------------------------------------


class _SubTest:
    def __init__(self, owner, msg, kwargs):
        self.owner = owner
        self.msg = msg
        self.kwargs = kwargs

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            return False
        from . import outcomes

        if isinstance(exc, (KeyboardInterrupt, SystemExit)) or type(exc).__name__ == "Exit":
            return False
        kind = outcomes.classify(exc)
        if kind not in (outcomes.SKIPPED, outcomes.XFAILED):
            self.owner._failures.append((self.msg, self.kwargs, exc))
            self.owner._item._subtest_reports.append((self.msg, self.kwargs, exc))
        return True


class Subtests:
    def __init__(self, item):
        self._item = item
        self._failures = []
        item._subtests = self
        if getattr(item, "_subtest_reports", None) is None:
            item._subtest_reports = []

    def test(self, msg=None, **kwargs):
        return _SubTest(self, msg, kwargs)


@_builtin()
def subtests(request):
    return Subtests(request.node)


# --- cache ---------------------------------------------------------------------------------------


class Cache:
    """config.cache as pytest's cacheprovider keeps it (.pytest_cache/v/...)."""

    def __init__(self, config):
        from pathlib import Path

        try:
            cache_dir = config.getini("cache_dir") or ".pytest_cache"
        except ValueError:
            cache_dir = ".pytest_cache"
        self._cachedir = Path(config.rootpath, cache_dir)

    def mkdir(self, name):
        path = self._cachedir / "d" / name
        path.mkdir(exist_ok=True, parents=True)
        return path

    makedir = mkdir

    def get(self, key, default):
        import json

        path = self._cachedir / "v" / key
        try:
            with path.open("r", encoding="UTF-8") as f:
                return json.load(f)
        except (ValueError, OSError):
            return default

    def set(self, key, value):
        import json

        path = self._cachedir / "v" / key
        try:
            path.parent.mkdir(exist_ok=True, parents=True)
            path.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True), encoding="UTF-8")
        except OSError:
            pass


@_builtin()
def cache(request):
    config = request.config
    if config.cache is None:
        config.cache = Cache(config)
    return config.cache


# --- pytest-xdist's fixtures, when it is installed ------------------------------------------------


def _xdist_installed():
    try:
        import importlib.util

        return importlib.util.find_spec("xdist") is not None
    except (ImportError, ValueError):
        return False


def register_plugins(manager):
    if _xdist_installed():
        manager.register("worker_id", _worker_id, None, scope="session")
        manager.register("testrun_uid", _testrun_uid, None, scope="session")


def _worker_id():
    return f"gw{WORKER_ID}"


def _testrun_uid():
    return os.environ.get("DXPY_RUN_UID") or "dx-py"


# --- dx-py's snapshot fixture (docs/snapshots.md) -------------------------------------------------


@_builtin()
def snapshot():
    from ..snapshots import SnapshotAssertion

    return SnapshotAssertion()
