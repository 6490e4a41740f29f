"""The collection tree as far as the worker builds it: Session, Dir/Package, Module, Class and
Function (the item), each with pytest's node API that suites and fixtures use (nodeid, name,
keywords, markers, addfinalizer, getparent, path, ...). A node also holds the finalizers of
its scope: fixtures register theirs on the node of their scope and SetupState runs them when
the node goes out of use, as pytest's SetupState does.
"""
import os

from . import marks as _marks

SEP = "/"


class NodeKeywords:
    """A node's keywords: its own, then its parents' (pytest's NodeKeywords)."""

    __slots__ = ("node", "parent", "_markers")

    def __init__(self, node):
        self.node = node
        self.parent = node.parent
        self._markers = {node.name: True}

    def __getitem__(self, key):
        try:
            return self._markers[key]
        except KeyError:
            if self.parent is None:
                raise
            return self.parent.keywords[key]

    def __setitem__(self, key, value):
        self._markers[key] = value

    def __delitem__(self, key):
        raise ValueError("cannot delete key in keywords dict")

    def __contains__(self, key):
        return key in self._markers or (self.parent is not None and key in self.parent.keywords)

    def update(self, other=(), **kwds):
        self._markers.update(other)
        self._markers.update(kwds)

    def __iter__(self):
        seen = set()
        node = self.node
        while node is not None:
            for k in node.keywords._markers:
                if k not in seen:
                    seen.add(k)
                    yield k
            node = node.parent

    def __len__(self):
        return sum(1 for _ in self)

    def keys(self):
        return list(self)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self):
        return f"<NodeKeywords for node {self.node}>"


class Node:
    kind = "Node"
    # pytest class names this node answers to in getparent()/isinstance-like checks.
    type_names = ("Node",)

    def __init__(self, name, parent, nodeid, config, session=None, path=None, obj=None):
        self.name = name
        self.parent = parent
        self.nodeid = nodeid
        self.config = config
        self.session = session if session is not None else (parent.session if parent is not None else self)
        self.path = path
        self.obj = obj
        self.own_markers = []
        self.keywords = NodeKeywords(self)
        self.extra_keyword_matches = set()
        self.stash = {}
        self._finalizers = []

    # --- tree ---------------------------------------------------------------------------

    def listchain(self):
        chain = []
        node = self
        while node is not None:
            chain.append(node)
            node = node.parent
        chain.reverse()
        return chain

    def iter_parents(self):
        node = self
        while node is not None:
            yield node
            node = node.parent

    def getparent(self, cls):
        names = {getattr(cls, "__name__", str(cls))}
        for node in self.iter_parents():
            if isinstance(cls, type) and isinstance(node, cls):
                return node
            if names & set(node.type_names):
                return node
        return None

    @property
    def fspath(self):
        from .config import _legacy_path

        return _legacy_path(self.path)

    @property
    def ihook(self):
        return self.config.hook

    # --- markers ------------------------------------------------------------------------

    def iter_markers(self, name=None):
        for _, mark in self.iter_markers_with_node(name):
            yield mark

    def iter_markers_with_node(self, name=None):
        for node in self.iter_parents():
            for mark in node.own_markers:
                if name is None or getattr(mark, "name", None) == name:
                    yield node, mark

    def get_closest_marker(self, name, default=None):
        return next(self.iter_markers(name), default)

    def add_marker(self, marker, append=True):
        if isinstance(marker, str):
            mark = _marks.make_mark(marker)
        else:
            mark = getattr(marker, "mark", marker)
            if not hasattr(mark, "name"):
                raise ValueError("is not a string or pytest.mark.* Marker")
        self.keywords[mark.name] = marker
        if append:
            self.own_markers.append(mark)
        else:
            self.own_markers.insert(0, mark)
        self._marks_changed()

    def _marks_changed(self):
        pass

    # --- finalizers ---------------------------------------------------------------------

    def addfinalizer(self, fin):
        self._finalizers.append(fin)

    def setup(self):
        pass

    def teardown(self):
        pass

    def warn(self, warning):
        import warnings

        warnings.warn(warning, stacklevel=2)

    def __repr__(self):
        return f"<{self.kind} {self.name}>"

    def __hash__(self):
        return hash(self.nodeid)


class Session(Node):
    kind = "Session"
    type_names = ("Session", "FSCollector", "Collector", "Node")

    def __init__(self, config):
        Node.__init__(self, "", None, "", config, session=None, path=config.rootpath)
        self.session = self
        self.testsfailed = 0
        self.testscollected = 0
        self.shouldstop = False
        self.shouldfail = False
        self.items = []
        self.startpath = config.invocation_params.dir
        self._fixturemanager = None

    def isinitpath(self, path, with_parents=False):
        return False

    def gethookproxy(self, fspath):
        return self.config.hook


class Dir(Node):
    kind = "Dir"
    type_names = ("Dir", "Directory", "FSCollector", "Collector", "Node")


class Package(Dir):
    kind = "Package"
    type_names = ("Package", "Directory", "FSCollector", "Collector", "Node")
    # Whether the package's __init__.py has setup_module/teardown_module (pytest runs them
    # when the package's tests start and end).
    xunit = False

    def setup(self):
        if not self.xunit:
            return
        import importlib

        from .collect import module_name_and_basedir

        name, _ = module_name_and_basedir(os.path.join(str(self.path), "__init__.py"))
        init_mod = importlib.import_module(name[:-len(".__init__")] if name.endswith(".__init__") else name)
        from .runner import _call_with_optional_argument, _first_non_fixture

        setup_module = _first_non_fixture(init_mod, ("setUpModule", "setup_module"))
        if setup_module is not None:
            _call_with_optional_argument(setup_module, init_mod)
        teardown_module = _first_non_fixture(init_mod, ("tearDownModule", "teardown_module"))
        if teardown_module is not None:
            self.addfinalizer(lambda: _call_with_optional_argument(teardown_module, init_mod))


class Module(Node):
    kind = "Module"
    type_names = ("Module", "File", "FSCollector", "PyCollector", "Collector", "Node")

    @property
    def module(self):
        return self.obj


class Class(Node):
    kind = "Class"
    type_names = ("Class", "PyCollector", "Collector", "Node")

    @property
    def cls(self):
        return self.obj

    def newinstance(self):
        return self.obj()


class Function(Node):
    """A test item."""

    kind = "Function"
    type_names = ("Function", "Item", "Node")
    nofuncargs = False

    def __init__(self, name, parent, nodeid, config, definition, callspec=None, originalname=None):
        Node.__init__(self, name, parent, nodeid, config, path=parent.path)
        self.definition = definition
        self.originalname = originalname or name
        if callspec is not None:
            self.callspec = callspec
        self.user_properties = []
        self._mark_names = frozenset()
        self.funcargs = {}
        self._report_sections = []
        self._instance = None
        self._obj = None
        self.fixturenames = []
        self._fixtureinfo = None
        self._request = None
        self.marks_dirty = False

    @property
    def module(self):
        return self.definition.module

    @property
    def cls(self):
        return self.definition.cls

    @property
    def instance(self):
        instance = self._instance
        if instance is None:
            cls = self.definition.cls
            if cls is not None:
                # Each test gets a fresh instance of its class (unittest: for its method).
                instance = self._instance = cls(self.originalname) if self.definition.is_unittest else cls()
        return instance

    @property
    def obj(self):
        if self._obj is None:
            self._obj = self.definition.bound_function(self.instance)
        return self._obj

    @obj.setter
    def obj(self, value):
        self._obj = value

    @property
    def function(self):
        return self.definition.function

    @property
    def location(self):
        return (self.definition.relpath, self.definition.lineno, self.definition.modpath)

    def reportinfo(self):
        return self.path, self.definition.lineno, self.definition.modpath

    def _marks_changed(self):
        self.marks_dirty = True

    def add_report_section(self, when, key, content):
        if content:
            self._report_sections.append((when, key, content))

    def runtest(self):
        self.definition.runner_call(self)

    def _getobj(self):
        return self.obj

    def repr_failure(self, excinfo):
        return str(excinfo)


def module_nodeid(relpath):
    return relpath.replace(os.sep, SEP)
