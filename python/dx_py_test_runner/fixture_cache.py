"""The persistent fixture cache: `@dx.fixture(cache=True)`.

A cached fixture's value outlives the run: it is pickled (protocol 5, its large buffers out
of band) into `<rootdir>/.dx-py/fixtures/<name>-<key>.dxfc` (the format is documented in
src/dxpy/fixture/entry.h) and loaded by the next run through a memory mapping, so that a
numpy array comes back as a view over the mapped file without a copy (copy-on-write: a test
may change it without changing the cache).

The key is BLAKE3 over the fixture's source, the sources of the fixtures it depends on
(transitively, as the requesting test resolves them) with their params, and its own param:
editing any of those computes the value again; editing anything else does not. One value is
computed once per run whatever the number of workers: the first takes the entry's lock and
computes, the others wait on the lock and then load what it wrote.

An entry that does not validate or unpickle is computed again (never a failure). An entry
not owned by the user, or writable by group or others, is ignored with a warning: unpickling
it would run whatever code it holds. The folder is created private (0700).
"""
import inspect
import os
import pickle
import stat
import warnings

from . import _core

__all__ = ["FixtureCache", "FixtureCacheError", "FixtureCacheWarning", "cached_fixture_function"]

ENTRY_SUFFIX = ".dxfc"
_KEY_SALT = b"dx-py fixture cache 1"
_MISS = object()


class FixtureCacheError(Exception):
    """A cached fixture whose value cannot be stored: the test errors at setup with this."""


class FixtureCacheWarning(UserWarning):
    """An entry the cache will not trust (its owner or permissions), or cannot write."""


def _safe_name(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "fixture"


class FixtureCache:
    """The cache folder: load, store, get-or-compute under the entry's lock, clear.

        cache = dx.FixtureCache.for_rootdir(".")
        value = cache.get_or_compute("data", cache.key([b"source of data"]), build)
    """

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        self._warned = set()

    @classmethod
    def for_rootdir(cls, rootdir):
        return cls(os.path.join(os.fspath(rootdir), ".dx-py", "fixtures"))

    def __repr__(self):
        return f"<FixtureCache {self.directory}>"

    @staticmethod
    def key(parts):
        """The 32-byte key of a value from bytes-like parts (BLAKE3, each part length-prefixed)."""
        return _core.fixture_key([_KEY_SALT, *parts])

    def entry_path(self, name, key):
        return os.path.join(self.directory, f"{_safe_name(name)}-{key.hex()[:40]}{ENTRY_SUFFIX}")

    def entries(self):
        """The paths of the entries in the folder, sorted."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        return sorted(os.path.join(self.directory, n) for n in names if n.endswith(ENTRY_SUFFIX))

    def clear(self):
        """Removes every file of the folder and the folder (as `dx-py test --clear-cache`); the
        number of entries removed."""
        removed = 0
        try:
            names = os.listdir(self.directory)
        except OSError:
            return 0
        for n in names:
            try:
                os.unlink(os.path.join(self.directory, n))
                removed += n.endswith(ENTRY_SUFFIX)
            except FileNotFoundError:
                pass
        try:
            os.rmdir(self.directory)
        except OSError:
            pass
        return removed

    # -- one entry ------------------------------------------------------------------------

    def load(self, name, key, default=None):
        """The value stored for (name, key), or `default` when there is no valid, trusted entry."""
        value = self._load(self.entry_path(name, key), key)
        return default if value is _MISS else value

    def _load(self, path, key):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            return _MISS
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
                self._warn_once(path, f"dx-py: fixture cache entry {path} is not owned by you or is writable by "
                                      "others: ignored (unpickling it could run any code); the value is computed")
                return _MISS
            try:
                (offset, size), spans, file_size = _core.read_fixture_entry(fd, key)
            except (ValueError, OSError):
                return _MISS  # stale, corrupt, truncated: computed again
            import mmap

            # A private (copy-on-write) mapping: the buffers are writable without writing
            # the file, and pages nobody writes stay shared with the page cache.
            mapped = mmap.mmap(fd, file_size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        view = memoryview(mapped)
        buffers = [view[o:o + n] for o, n in spans]
        try:
            return pickle.loads(view[offset:offset + size], buffers=buffers)
        except Exception:  # noqa: BLE001 - a class that moved, a module gone: compute again
            return _MISS

    def store(self, name, key, value):
        """Writes the value's entry. FixtureCacheError when it cannot be pickled; a folder that
        cannot be written gives a warning (the value is still used)."""
        data, raws = _pickled(name, value)
        path = self.entry_path(name, key)
        try:
            self._ensure_dir()
            _core.write_fixture_entry(path, key, data, raws)
        except OSError as e:
            self._warn_once(path, f"dx-py: fixture cache: cannot write {path}: {e}")

    def get_or_compute(self, name, key, compute):
        """The stored value, else compute() stored: the first caller computes under the entry's
        lock, concurrent ones (other workers) wait and load what it stored."""
        path = self.entry_path(name, key)
        value = self._load(path, key)
        if value is not _MISS:
            return value
        try:
            self._ensure_dir()
            lock = _core.FileLock(path + ".lock")
            lock.__enter__()
        except OSError as e:
            self._warn_once(path, f"dx-py: fixture cache: cannot lock {path}: {e}; computed without the cache")
            return compute()
        try:
            value = self._load(path, key)  # computed by another worker while this one waited
            if value is _MISS:
                value = compute()
                self.store(name, key, value)
            return value
        finally:
            lock.__exit__(None, None, None)

    def _ensure_dir(self):
        if os.path.isdir(self.directory):
            return
        parent = os.path.dirname(self.directory)
        for d in (parent, self.directory):
            try:
                os.mkdir(d, 0o700)
            except FileExistsError:
                pass

    def _warn_once(self, path, text):
        if path in self._warned:
            return
        self._warned.add(path)
        warnings.warn(FixtureCacheWarning(text), stacklevel=3)


def _pickled(name, value):
    """(pickle stream, out-of-band buffers) of the value; FixtureCacheError naming the fixture."""
    buffers = []
    try:
        data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        try:
            raws = [b.raw() for b in buffers]
        except BufferError:  # a non-contiguous buffer: keep everything in band
            data, raws = pickle.dumps(value, protocol=5), []
    except Exception as e:  # noqa: BLE001 - PicklingError, TypeError, AttributeError (a local class) ...
        raise FixtureCacheError(f"fixture {name!r} is cached (dx.fixture(cache=True)) but its value cannot be "
                                f"pickled: {type(e).__name__}: {e}") from None
    return data, raws


# --- the key of a fixture in a run --------------------------------------------------------------

_sources = {}


def _source_of(func):
    func = getattr(func, "__dx_cached_function__", func)
    func = getattr(func, "__func__", func)
    try:
        return _sources[func]
    except (KeyError, TypeError):
        pass
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):
        code = getattr(func, "__code__", None)
        text = repr((getattr(func, "__module__", None), getattr(func, "__qualname__", repr(func)),
                     code.co_code if code is not None else None))
    data = text.encode("utf-8", "surrogatepass")
    try:
        _sources[func] = data
    except TypeError:
        pass
    return data


def _param_bytes(param):
    try:
        return b"p" + pickle.dumps(param, protocol=5)
    except Exception:  # noqa: BLE001 - an unpicklable param: its repr
        return b"r" + repr(param).encode("utf-8", "surrogatepass")


def _no_param():
    return b"-"


def fixture_key_parts(name, function, argnames, request):
    """The parts of a cached fixture's key: its name and source, then each fixture it depends
    on (transitively; by name, sorted) with its source and param, then its own param."""
    parts = [name.encode(), _source_of(function)]
    seen = {name, "request"}
    pending = [n for n in argnames if n not in seen]
    deps = {}
    while pending:
        dep = pending.pop()
        if dep in seen:
            continue
        seen.add(dep)
        try:
            fixturedef = request._get_active_fixturedef(dep)
        except Exception:  # noqa: BLE001 - not a fixture we can see: its name alone
            deps[dep] = (b"?", _no_param())
            continue
        func = getattr(fixturedef, "func", None)
        param = _no_param()
        cached = getattr(fixturedef, "cached_result", None)
        if getattr(fixturedef, "params", None) is not None and cached is not None:
            param = _param_bytes(cached[1])
        deps[dep] = (_source_of(func) if func is not None else b"?", param)
        pending.extend(n for n in getattr(fixturedef, "argnames", ()) if n not in seen)
    for dep in sorted(deps):
        parts += [dep.encode(), *deps[dep]]
    parts.append(_param_bytes(request.param) if hasattr(request, "param") else _no_param())
    return parts


_caches = {}


def cache_for(request):
    """The FixtureCache of the run: `fixtures` in dx-py's cache folder ([tool.dx-py] cache_dir,
    as the orchestrator passes it), else in the rootdir's `.dx-py` (pytest's and dx-py's
    config.rootpath); $DXPY_FIXTURE_CACHE_DIR overrides the folder."""
    directory = os.environ.get("DXPY_FIXTURE_CACHE_DIR")
    if not directory:
        config = request.config
        folder = (getattr(config, "_data", None) or {}).get("cache_dir")
        if not folder:
            root = getattr(config, "rootpath", None) or getattr(config, "rootdir", None) or os.getcwd()
            folder = os.path.join(os.fspath(root), ".dx-py")
        directory = os.path.join(folder, "fixtures")
    cache = _caches.get(directory)
    if cache is None:
        cache = _caches[directory] = FixtureCache(directory)
    return cache


def cached_fixture_function(function, name):
    """`function` wrapped for `@dx.fixture(cache=True)`: it asks for `request` too (appended
    keyword-only unless it has it) and gets its value from the cache, computing it there on a
    miss. Both pytest and the dx-py worker call the wrapper as the fixture function."""
    code = getattr(function, "__code__", None)
    if inspect.isgeneratorfunction(function) or inspect.iscoroutinefunction(function) or \
            inspect.isasyncgenfunction(function) or (code is not None and code.co_flags & 0x2A0):
        raise TypeError(f"fixture {name!r}: cache=True needs a fixture that returns its value (a yield or async "
                        "fixture's teardown could not run for a value loaded from the cache)")
    signature = inspect.signature(function)
    argnames = [p.name for p in signature.parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty]
    wants_request = "request" in signature.parameters

    def cached_fixture(*args, **kwargs):
        request = kwargs["request"] if wants_request else kwargs.pop("request")
        key = FixtureCache.key(fixture_key_parts(name, function, argnames, request))
        return cache_for(request).get_or_compute(name, key, lambda: function(*args, **kwargs))

    if not wants_request:
        params = list(signature.parameters.values())
        extra = inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY)
        if params and params[-1].kind is inspect.Parameter.VAR_KEYWORD:
            params.insert(len(params) - 1, extra)
        else:
            params.append(extra)
        signature = signature.replace(parameters=params)
    cached_fixture.__signature__ = signature
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        try:
            setattr(cached_fixture, attr, getattr(function, attr))
        except AttributeError:
            pass
    cached_fixture.__dx_cached_function__ = function
    cached_fixture.__wrapped__ = function  # error messages point at the user's function (__signature__ wins)
    return cached_fixture

