"""The public functions of `import dx_py_test_runner as dx` (docs/python-api.md).

    dx.discover(paths)              static collection (C++: the .dxti index, no import)
    dx.run(paths, **options)        a `dx-py test` run in a child process -> RunResult
    dx.graph(paths).affected(files) the import graph (C++: src/dxpy/graph)

dx.run starts the `dx-py` executable rather than the session in this process: a run spawns
worker processes, handles SIGINT/SIGTERM with a signalfd and may take minutes, none of which
belongs inside the caller's interpreter. Per-test results come back through the run's JUnit
XML report, whose (classname, name) pairs are mapped back to node ids with the static
collection of the same paths.
"""
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile

from . import _api

__all__ = ["AffectedTests", "CollectionError", "ProjectGraph", "RunResult", "TestOutcome", "discover", "graph", "run"]


class CollectionError(Exception):
    """Static collection found files it cannot collect (a syntax error, a bad parametrize)."""

    def __init__(self, errors, tests):
        self.errors = list(errors)
        self.tests = list(tests)
        lines = [f"{e.path}: {e.message}" for e in self.errors]
        super().__init__(f"{len(self.errors)} error(s) during collection:\n" + "\n".join(lines))


def _paths(paths):
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return [os.fspath(p) for p in paths]


def discover(paths=(), *, rootdir=None, inifile=None, keyword=None, markexpr=None, errors="raise"):
    """The tests under `paths` (files, folders, node ids; none: the rootdir's testpaths) as
    `dx-py test --collect-only` finds them, as a list of TestCase: no test module is imported.

    errors="raise" raises CollectionError when a file cannot be collected (its .tests holds
    what was found); errors="ignore" returns the tests of the other files. A missing path or
    a bad -k/-m expression raises ValueError (pytest's usage error)."""
    found = _api.discover(_paths(paths), rootdir=os.fspath(rootdir or ""), inifile=os.fspath(inifile or ""),
                           keyword=keyword or "", markexpr=markexpr or "")
    if found.errors and errors == "raise":
        raise CollectionError(found.errors, found.tests)
    return list(found.tests)


@dataclasses.dataclass(frozen=True)
class TestOutcome:
    """One test's result in a RunResult."""

    __test__ = False  # not a test class for pytest

    node_id: str
    outcome: str  # passed, failed, error, skipped, xfailed, crashed, timeout
    duration: float  # seconds
    message: str = ""
    details: str = ""  # the traceback or longer text


@dataclasses.dataclass
class RunResult:
    """What dx.run returns: pytest's exit code, per-test outcomes and the run's output."""

    exit_code: int
    tests: list
    stdout: str
    stderr: str

    @property
    def ok(self):
        return self.exit_code == 0

    def by_outcome(self, outcome):
        return [t for t in self.tests if t.outcome == outcome]

    @property
    def passed(self):
        return self.by_outcome("passed")

    @property
    def failed(self):
        return [t for t in self.tests if t.outcome in ("failed", "error", "crashed", "timeout")]

    def __getitem__(self, node_id):
        for t in self.tests:
            if t.node_id == node_id:
                return t
        raise KeyError(node_id)


def _executable():
    here = os.path.join(os.path.dirname(sys.executable), "dx-py")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("dx-py")
    if found is None:
        raise FileNotFoundError("the dx-py executable was found neither beside this Python nor on PATH")
    return found


def _option_words(options):
    words = []
    for key, value in options.items():
        flag = "-" + key if len(key) == 1 else "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                words += [flag, str(v)]
        else:
            words.append(f"{flag}={value}" if flag.startswith("--") else flag)
            if not flag.startswith("--"):
                words.append(str(value))
    return words


def run(paths=(), *, cwd=None, args=(), timeout=None, **options):
    """Runs `dx-py test` on `paths` and returns a RunResult.

    Keyword options become command-line options: k="slow" -> -k slow, numprocesses=2 -> -n 2
    (n=2 too), last_failed=True -> --lf's long form --last-failed, clear_cache=True ->
    --clear-cache; `args` are further words as on the command line. `cwd` is the folder the
    run starts in (default: this process's). `timeout` (seconds) bounds the whole run."""
    cwd = os.fspath(cwd) if cwd is not None else os.getcwd()
    paths = _paths(paths)
    with tempfile.TemporaryDirectory(prefix="dx-py-run-") as tmp:
        xml = os.path.join(tmp, "junit.xml")
        command = [_executable(), "test", *paths, *_option_words(options), *args, f"--junitxml={xml}"]
        env = dict(os.environ)
        env.setdefault("NO_COLOR", "1")
        p = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        tests = _read_junit(xml, paths, cwd, options) if os.path.exists(xml) else []
    return RunResult(p.returncode, tests, p.stdout, p.stderr)


def _read_junit(xml, paths, cwd, options):
    import xml.etree.ElementTree as ET

    root = ET.parse(xml).getroot()
    names = _node_ids_by_junit_name(paths, cwd, options)
    out = []
    for case in root.iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        node_id = names.get((classname, name)) or _guess_node_id(classname, name, names)
        outcome, message, details = "passed", "", ""
        for child in case:
            tag = child.tag
            if tag not in ("failure", "error", "skipped"):
                continue
            message, details = child.get("message", ""), child.text or ""
            if tag == "failure":
                outcome = ("crashed" if message.startswith("[crashed]")
                           else "timeout" if message.startswith("[timeout]") else "failed")
            elif tag == "error":
                outcome = "error"
            else:
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
            break
        out.append(TestOutcome(node_id, outcome, float(case.get("time", "0") or 0), message, details))
    return out


def _junit_names(node_id):
    """(classname, name) as the JUnit report writes them for a node id."""
    bracket = node_id.find("[")
    head, params = (node_id, "") if bracket < 0 else (node_id[:bracket], node_id[bracket:])
    parts = head.split("::")
    first = parts[0].replace("/", ".")
    if first.endswith(".py"):
        first = first[:-3]
    classname = ".".join([first, *parts[1:-1]]) if len(parts) > 1 else ""
    name = (parts[-1] if len(parts) > 1 else first) + params
    return classname, name


def _node_ids_by_junit_name(paths, cwd, options):
    old = os.getcwd()
    try:
        os.chdir(cwd)
        found = _api.discover(paths, rootdir=str(options.get("rootdir") or ""),
                               inifile=str(options.get("c") or options.get("config_file") or ""))
    except ValueError:
        return {}
    finally:
        os.chdir(old)
    return {_junit_names(t.id.node_id): t.id.node_id for t in found.tests}


def _guess_node_id(classname, name, names):
    """A test expanded at run time (no static id): its file and classes from a static sibling."""
    for (cls, _), node_id in names.items():
        if cls == classname:
            prefix = node_id.split("[", 1)[0].rsplit("::", 1)[0]
            return f"{prefix}::{name}"
    return f"{classname.replace('.', '/')}.py::{name}" if classname else name


class AffectedTests(list):
    """The test files a change can break (graph.AffectedTest: path, reason, chain), sorted by
    path; .everything is True when a config file changed (every test file is listed)."""

    everything = False
    files = ()

    @property
    def paths(self):
        return [t.path for t in self]


class ProjectGraph:
    """A project's import graph (dx.graph(paths)): files by rootdir-relative path."""

    def __init__(self, native):
        self._g = native

    @property
    def rootdir(self):
        return self._g.rootdir

    def affected(self, files):
        """The test files that a change to `files` (paths absolute or relative to the working
        folder) can break, with one import chain each; the answer of --affected-by."""
        a = self._g.affected(_paths(files))
        out = AffectedTests(a.tests)
        out.everything = a.everything
        out.files = list(a.files)
        return out

    def files(self):
        return self._g.paths()

    def test_files(self):
        return self._g.test_files()

    def dependencies(self, path):
        return self._g.dependencies(path)

    def dependents(self, path):
        return self._g.dependents(path)

    def external_modules(self):
        return self._g.external_modules()


def graph(paths=(), *, rootdir=None, inifile=None):
    """The import graph of the project `paths` belong to (rootdir and config by pytest's rules),
    up to date with the files on disk. Starts from .dx-py/graph.dxig when there is one."""
    return ProjectGraph(_api.ProjectGraph.load(_paths(paths), rootdir=os.fspath(rootdir or ""),
                                                inifile=os.fspath(inifile or "")))
