"""Assertion rewriting: a failed `assert` says what its parts were, as under pytest.

    install(config)        puts the import hook first in sys.meta_path (once a worker)
    take_counts()          (passed, failed) asserts since the last call; resets them
    register_assert_rewrite(*names)
                           modules (and their submodules) to rewrite too

What is rewritten: modules whose file name matches `python_files` (default test_*.py,
*_test.py; a pattern with a "/" is matched against the whole path), every conftest.py,
the files named on the command line, and registered modules: by this module's
register_assert_rewrite, by pytest.register_assert_rewrite (our hook passes pytest's
isinstance test once pytest is imported), and the `pytest_plugins` a rewritten conftest
names. A module whose docstring holds PYTEST_DONT_REWRITE is compiled as it is.

How an assert is rewritten (on the AST):

    def test():
        assert f(x) == [1, 2] and ok, "msg"

becomes, in effect,

    def test():
        @dx_s = 0
        try:
            @dx0 = f(x)                  # each part evaluated once, in Python's order
            @dx1 = [1, 2]
            if @dx0 == @dx1:             # and/or/not/chains become branches, as Python
                if ok:                   # compiles a condition: each __bool__ runs once
                    @dx_s = 1            # passed: this function's 1st straight-line assert
                else:
                    raise @dx_ar.fail(PLAN, (2, f, x, @dx0, ...), @dx_ar.locals(), "msg")
            else:
                raise @dx_ar.fail(PLAN, (1, f, x, @dx0, ..., None), @dx_ar.locals(), "msg")
            @dx0 = @dx1 = None           # no reference kept
        finally:
            @dx_ar.p += @dx_s            # the passed-assert count, once per call

PLAN is a constant tuple describing the expression (which value is a call's result,
which is a name, where the comparisons are); each `raise` passes the values evaluated on
its way (None for operands that did not run, and how many operands of each and/or ran);
the failure path turns them into pytest's explanation ("assert [1, 3] == [1, 2]",
"+  where [1, 3] = f(2)", the comparison details of reprcompare.py). A passing assert
runs its expression and one store. Unlike pytest, chained comparisons keep their
short-circuit and nothing is evaluated twice. `@dx_ar` (the helper) is found among the
builtins: the module's namespace gets nothing added.

The rewritten code is cached next to the source, as pytest does, in
__pycache__/<name>.<cache_tag>-dxpy-<REWRITE_VERSION>[.opt-N].pyc: written to a temporary
file then renamed, checked against the interpreter's magic number, this rewriter's
version and the source's mtime (ns) and size; a stale or corrupt file is rewritten, an
unwritable folder only means no cache.

This module needs the standard library and its sibling reprcompare.py only: it can be
loaded by path, without the package (whose __init__ loads the compiled core).
"""
import builtins
import fnmatch
import importlib.machinery
import importlib.util
import marshal
import os
import struct
import sys
import types

try:
    from . import reprcompare as _rc
except ImportError:  # loaded by path, outside the package: load the sibling the same way
    def _load_sibling(name):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
        spec = importlib.util.spec_from_file_location("_dxpy_" + name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    _rc = _load_sibling("reprcompare")

__all__ = [
    "install", "uninstall", "register_assert_rewrite", "take_counts", "set_verbosity",
    "set_test_path", "add_compare_hook", "exception_text", "rewrite_source", "stats", "REWRITE_VERSION",
]

# Bump when the rewritten code changes: older cache files are then ignored.
REWRITE_VERSION = 1
_HELPER = "@dx_ar"      # the global holding the runtime helper in rewritten modules
_TEMP = "@dx"           # temporaries: @dx0, @dx1, ... (not valid identifiers: no clash)
_COUNT = "@dx_n"        # a function's count of passed asserts (in loops, branches, ...)
_RANK = "@dx_s"         # the rank of its last passed straight-line assert
_CACHE_MAGIC = b"DXAR"
_HEADER = struct.Struct("<4s4sIIQQ")   # magic, "DXAR", version, flags, mtime_ns, size
_FLAG_REWRITTEN = 1

# What the import hook did, for tests and diagnostics: modules rewritten (parsed and
# transformed), cache files used and written.
stats = {"rewritten": 0, "cache_hits": 0, "cache_writes": 0}

_settings = _rc.Settings()
_options = {}
_ini = {}
_rootdir = ""
_test_path = None
_finder = None
_compare_hooks = []     # (folder, function) of conftest pytest_assertrepr_compare hooks


def exception_text(exc):
    """The text pytest shows for an exception under a failed test (its E lines and, first
    line only, the short summary): "assert ..." alone for a rewritten assert without a
    message, "AssertionError: <text>" otherwise. See reprcompare.exception_text."""
    return _rc.exception_text(exc)


# --------------------------------------------------------------------------------------
# Runtime: what rewritten code calls


class _Runtime:
    """The object rewritten code sees as `@dx_ar`: the counters (slots: the additions of
    module and class bodies, and of each function as it ends, are specialised attribute
    stores) and the failure path."""

    __slots__ = ("p", "f", "locals")

    def __init__(self):
        self.p = 0              # passed asserts
        self.f = 0              # failed asserts
        self.locals = builtins.locals   # called from the asserting frame: its locals

    def fail(self, plan, values, names, *msg):
        """The AssertionError of a failed assert (the caller raises it, so that the
        traceback ends at the assert)."""
        self.f += 1
        try:
            text = _explain_assert(plan, values, names, msg, sys._getframe(1))
        except Exception as e:  # noqa: BLE001 - an explanation must never hide the failure
            text = f"assert <dx-py could not explain this assertion: {type(e).__name__}: {e}>"
        return AssertionError(text)


_RT = _Runtime()
# Rewritten code finds the helper among the builtins: the modules' own namespaces get
# nothing added, and code run with other globals (runpy, exec) still finds it.
setattr(builtins, _HELPER, _RT)


def take_counts():
    """(passed, failed) asserts run by rewritten code since the last call; resets both."""
    counts = (_RT.p, _RT.f)
    _RT.p = _RT.f = 0
    return counts


def set_verbosity(verbose):
    """The assertion verbosity explanations use (install() reads it from the config)."""
    _settings.verbose = int(verbose)


def set_test_path(path):
    """The file of the test about to run: conftest pytest_assertrepr_compare hooks apply
    when their folder holds it (without it, the failing assert's file decides)."""
    global _test_path
    _test_path = os.path.abspath(path) if path else None


def _value_text(obj):
    """A value in an explanation: its safe repr, newlines escaped; a bound method is
    shown by its name."""
    if isinstance(obj, types.MethodType):
        return obj.__name__
    verbose = _settings.verbose
    if verbose >= 2:
        text = _rc.saferepr_unlimited(obj)
    else:
        text = _rc.saferepr(obj, maxsize=_rc.DEFAULT_REPR_MAX_SIZE * (10 if verbose >= 1 else 1))
    return text.replace("\n", "\\n")


def _message_text(obj):
    """The assert's own message in the explanation language: every line kept."""
    if not isinstance(obj, str):
        size = None if _settings.verbose >= 2 else _rc.DEFAULT_REPR_MAX_SIZE * (10 if _settings.verbose >= 1 else 1)
        return _rc.saferepr(obj, size).replace("\n", "\n~").replace("\\n", "\n~")
    return obj.replace("\n", "\n~")


def _shows_global_value(obj):
    """Whether a name that is not a local shows its value (pytest's rule: not for
    functions, classes, modules, anything with a __name__; yes for pytest fixtures)."""
    if callable(obj):
        fixtures = sys.modules.get("_pytest.fixtures")
        kind = getattr(fixtures, "FixtureFunctionDefinition", None) if fixtures is not None else None
        return kind is not None and isinstance(obj, kind)
    try:
        return not hasattr(obj, "__name__")
    except Exception:  # noqa: BLE001
        return True


def add_compare_hook(hook, folder=None):
    """Adds a pytest_assertrepr_compare implementation (a plugin's; conftest.py files
    loaded through the hook are found by themselves): it is tried before the built-in
    explanations for asserts of tests under `folder` (None: every test), the nearest
    folder's first; the first non-empty answer is used."""
    folder = os.path.abspath(folder) if folder else ""
    _compare_hooks[:] = [(f, h) for f, h in _compare_hooks if h is not hook]
    _compare_hooks.append((folder, hook))


def _named_arguments(hook, values):
    """Only the arguments the hook names, as pluggy passes them."""
    code = getattr(hook, "__code__", None) or getattr(getattr(hook, "__func__", None), "__code__", None)
    if code is None or code.co_flags & 0x08:  # not Python code, or **kwargs: everything
        return values
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return {k: v for k, v in values.items() if k in names}


def _hooks_for(frame):
    if not _compare_hooks:
        return ()
    where = _test_path or os.path.abspath(frame.f_code.co_filename)
    config = _HookConfig()
    chosen = [(folder, hook) for folder, hook in reversed(_compare_hooks)
              if not folder or where == folder or where.startswith(folder.rstrip(os.sep) + os.sep)]
    chosen.sort(key=lambda item: -len(item[0]))  # the nearest conftest first, then the latest added

    def call(hook):
        return lambda **values: hook(**_named_arguments(hook, dict(values, config=config)))

    return [(call(hook), config) for _, hook in chosen]


class _Explainer:
    """Turns a PLAN and the values of its slots into the explanation language of
    reprcompare.format_explanation."""

    def __init__(self, values, names, frame):
        self.values = values
        self.names = names
        self.frame = frame

    def text(self, node):
        kind = node[0]
        values = self.values
        if kind == "v":                     # any value: its repr
            return _value_text(values[node[1]])
        if kind == "n":                     # a name: its value, or the name for globals
            obj = values[node[1]]
            if (self.names is not None and node[2] in self.names) or _shows_global_value(obj):
                return _value_text(obj)
            return node[2]
        if kind == "c":                     # call: result, "where result = f(args)"
            res = _value_text(values[node[1]])
            args = ", ".join(self.text(a) for a in node[3])
            return f"{res}\n{{{res} = {self.text(node[2])}({args})\n}}"
        if kind == "a":                     # attribute: "where value = obj.attr"
            res = _value_text(values[node[1]])
            return f"{res}\n{{{res} = {self.text(node[2])}.{node[3]}\n}}"
        if kind == "k":                     # comparison (chain)
            return self.comparison(node)
        if kind == "o":                     # and/or: the operands that were evaluated
            evaluated = values[node[2]]
            sep = " or " if node[1] else " and "
            return "(" + sep.join(self.text(p) for p in node[3][:evaluated]) + ")"
        if kind == "u":                     # unary operator
            return node[1] + self.text(node[2])
        if kind == "b":                     # binary operator
            return f"({self.text(node[2])} {node[1]} {self.text(node[3])})"
        if kind == "s":                     # *args
            return "*" + self.text(node[1])
        if kind == "kw":                    # name=value, **kwargs
            return (f"{node[1]}=" if node[1] is not None else "**") + self.text(node[2])
        raise ValueError(f"unknown plan node {kind!r}")

    def comparison(self, node):
        # ("k", count slot or None, operand plans, operand slots, operators, parenthesised)
        _, count_slot, plans, slots, ops, parens = node
        # The chain stopped at its first false comparison, or went to the end: either
        # way the last comparison evaluated is the one to explain.
        i = (self.values[count_slot] if count_slot is not None else 1) - 1
        op = ops[i]
        custom = _rc.explain(op, self.values[slots[i]], self.values[slots[i + 1]],
                             _settings, _hooks_for(self.frame))
        if custom is not None:
            return custom
        left, right = self.text(plans[i]), self.text(plans[i + 1])
        if parens[i]:
            left = f"({left})"
        if parens[i + 1]:
            right = f"({right})"
        return f"{left} {op} {right}"


def _explain_assert(plan, values, names, msg, frame):
    explanation = _Explainer(values, names, frame).text(plan)
    if msg:
        text = _message_text(msg[0]) + "\n>assert " + explanation
    else:
        text = "assert " + explanation
    return _rc.format_explanation(text)


class _HookConfig:
    """What conftest pytest_assertrepr_compare hooks get as `config`: the verbosity,
    options and ini values of the run."""

    def __init__(self):
        self.option = types.SimpleNamespace(**{k.replace("-", "_"): v for k, v in _options.items()})
        if not hasattr(self.option, "verbose"):
            self.option.verbose = _settings.verbose

    def get_verbosity(self, verbosity_type=None):
        if verbosity_type == "assertions":
            return _settings.verbose
        return int(_options.get("verbose", 0) or 0)

    def getoption(self, name, default=None, skip=False):
        return _options.get(name.lstrip("-").replace("-", "_"), default)

    def getini(self, name):
        return _ini.get(name)

    @property
    def rootpath(self):
        import pathlib

        return pathlib.Path(_rootdir)


# --------------------------------------------------------------------------------------
# The AST transformation


# ast and copy are imported when a module is rewritten, not when the cache serves it.
ast = copy = None


def _import_ast():
    global ast, copy
    if ast is None:
        import ast as ast_module
        import copy as copy_module

        ast, copy = ast_module, copy_module


_UNARY = {"Not": "not ", "Invert": "~", "USub": "-", "UAdd": "+"}
_OPERATORS = {
    "BitOr": "|", "BitXor": "^", "BitAnd": "&", "LShift": "<<", "RShift": ">>",
    "Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "FloorDiv": "//",
    "Mod": "%", "Pow": "**", "MatMult": "@",
    "Eq": "==", "NotEq": "!=", "Lt": "<", "LtE": "<=", "Gt": ">", "GtE": ">=",
    "Is": "is", "IsNot": "is not", "In": "in", "NotIn": "not in",
}


def _runs_code(node):
    """Whether rewriting `node` puts statements that run code of the test (calls,
    attribute lookups, ...) before the expression that uses it."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant:
        return False
    if kind is ast.UnaryOp:
        return _runs_code(node.operand)
    if kind is ast.BinOp:
        return _runs_code(node.left) or _runs_code(node.right)
    if kind is ast.Tuple or kind is ast.List:  # building them runs nothing of the test's
        return any(_runs_code(e) for e in node.elts)
    return True


def _name(id_, store=False):
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def _is_temp(expr):
    return type(expr) is ast.Name and expr.id.startswith(_TEMP)


class _Leaf:
    """Code small enough to emit at several places: where the outcome is known (PASS
    counts, FAIL raises), possibly after storing a constant."""

    def __init__(self, emit):
        self.emit = emit

    def __call__(self):
        self.emit()


_DONE = None  # set below: the leaf that emits nothing


class _AssertRewriter:
    """Rewrites one assert statement (see the module's docstring).

    The test is compiled like Python compiles a condition, as branches: `a and b` tests a,
    then b, each value's __bool__ once. Where the assert is known to fail, a `raise`
    passes the failure path the values evaluated on the way there; operands that did not
    run are None there, and how many operands of each and/or (or comparisons of a chain)
    ran is a constant of that place. Parts used as values (a call's argument, an operand)
    are evaluated into temporaries first, in order."""

    def __init__(self, node, in_function, rank=None):
        self.node = node
        self.in_function = in_function
        self.rank = rank        # in a function: its rank among the body's own asserts
        self.counter = 0
        self.out = []           # the statement list being filled
        self.preset = []        # temporaries bound inside conditional value code: set first
        self.temps = []         # every temporary, cleared after a pass
        self.scalars = set()    # temporaries holding a bool or an int of ours
        self.slots = []         # expressions whose values the failure path receives
        self.live = set()       # slots evaluated on the path being generated
        self.consts = {}        # slot -> its constant on this path (counts)
        self.depth = 0          # > 0 inside value code that may not run (and/or, chains)
        self.value_depth = 0    # > 0 inside value_code
        self.wants_names = False
        self.fails = []         # the failure calls, completed at the end
        self.PASS = _Leaf(self._emit_pass)
        self.FAIL = _Leaf(self._emit_fail)

    # -- helpers
    def temp(self):
        name = f"{_TEMP}{self.counter}"
        self.counter += 1
        self.temps.append(name)
        if self.depth:
            self.preset.append(name)
        return name

    def scalar(self):
        name = self.temp()
        self.scalars.add(name)
        return name

    def assign(self, expr):
        name = self.temp()
        self.out.append(ast.Assign(targets=[_name(name, True)], value=expr))
        return _name(name)

    def slot(self, expr):
        self.slots.append(expr)
        index = len(self.slots) - 1
        self.live.add(index)
        return index

    def count_slot(self):
        """A slot whose value is a constant of each failure place."""
        self.slots.append(None)
        return len(self.slots) - 1

    def stable(self, expr, later):
        """`expr` as it can be used after the later operands were rewritten: kept when
        it is a constant or temporary, or nothing before its use runs code."""
        if type(expr) is ast.Constant or _is_temp(expr):
            return expr
        if any(_runs_code(n) for n in later):
            return self.assign(expr)
        return expr

    def reloadable(self, expr, later):
        """`expr` as a name or constant (a comparison's operands are seen again on failure)."""
        if type(expr) is ast.Constant or _is_temp(expr):
            return expr
        if type(expr) is ast.Name and not any(_runs_code(n) for n in later):
            return expr
        return self.assign(expr)

    def branch(self, continuation):
        """The statements `continuation` emits, the path's state restored after."""
        saved = self.out, set(self.live), dict(self.consts)
        self.out = []
        try:
            continuation()
            return self.out or [ast.Pass()]
        finally:
            self.out, self.live, self.consts = saved

    def _emit_pass(self):
        if self.rank is not None:  # the function's count is at least this rank (_Walker)
            stmt = ast.Assign(targets=[_name(_RANK, True)], value=ast.Constant(value=self.rank))
        elif self.in_function:  # a local count, added to the global one when the function ends
            stmt = ast.AugAssign(target=_name(_COUNT, True), op=ast.Add(), value=ast.Constant(value=1))
        else:
            stmt = ast.AugAssign(target=ast.Attribute(value=_name(_HELPER), attr="p", ctx=ast.Store()),
                                 op=ast.Add(), value=ast.Constant(value=1))
        self.out.append(stmt)

    def _emit_fail(self):
        values = []
        used = 0  # slots past the last one evaluated here are never read: left out
        for index, expr in enumerate(self.slots):
            if index in self.consts:
                values.append(ast.Constant(value=self.consts[index]))
            elif index in self.live and expr is not None:
                values.append(_copy_load(expr))
            else:
                values.append(ast.Constant(value=None))
                continue
            used = index + 1
        args = [ast.Constant(value=None), ast.Tuple(elts=values[:used], ctx=ast.Load()), ast.Constant(value=None)]
        if self.node.msg is not None:
            args.append(copy.deepcopy(self.node.msg) if self.fails else self.node.msg)
        call = ast.Call(func=ast.Attribute(value=_name(_HELPER), attr="fail", ctx=ast.Load()), args=args, keywords=[])
        self.fails.append(call)
        self.out.append(ast.Raise(exc=call, cause=None))

    # -- the statement
    def rewrite(self):
        node = self.node
        test = node.test
        if isinstance(test, ast.Tuple) and test.elts:
            import warnings

            warnings.warn_explicit(SyntaxWarning("assertion is always true, perhaps remove parentheses?"),
                                   SyntaxWarning, _current_filename, node.lineno)
        plan = self.gen(test, self.PASS, self.FAIL)
        for call in self.fails:
            call.args[0] = ast.Constant(value=plan)
            if self.wants_names:
                call.args[2] = ast.Call(func=ast.Attribute(value=_name(_HELPER), attr="locals", ctx=ast.Load()),
                                        args=[], keywords=[])
        body = []
        if self.preset:
            body.append(ast.Assign(targets=[_name(t, True) for t in self.preset], value=ast.Constant(value=None)))
        body.extend(self.out)
        values = [t for t in self.temps if t not in self.scalars]
        if self.in_function:  # let go of the values (flags and counts hold nothing)
            if values:
                body.append(ast.Assign(targets=[_name(t, True) for t in values], value=ast.Constant(value=None)))
        elif self.temps:  # module or class namespace: leave nothing behind
            body.append(ast.Assign(targets=[_name(t, True) for t in self.temps], value=ast.Constant(value=None)))
            body.append(ast.Delete(targets=[ast.Name(id=t, ctx=ast.Del()) for t in self.temps]))
        original = {id(n) for n in ast.walk(node)}
        for stmt in body:
            _locate(stmt, node, original)
        return body

    # -- the test: emits branches to on_true / on_false; returns the plan
    def gen(self, node, on_true, on_false):
        kind = type(node)
        if kind is ast.UnaryOp and type(node.op) is ast.Not:
            return ("u", "not ", self.gen(node.operand, on_false, on_true))
        if kind is ast.BoolOp:
            shared = on_false if isinstance(node.op, ast.And) else on_true
            if isinstance(shared, _Leaf):  # else it would be emitted once per operand
                return self.gen_BoolOp(node, on_true, on_false)
        elif kind is ast.Compare and len(node.ops) > 1:
            if isinstance(on_false, _Leaf):
                return self.gen_chain(node, on_true, on_false)
        elif kind is ast.IfExp:
            if isinstance(on_true, _Leaf) and isinstance(on_false, _Leaf):
                return self.value_into(node, self.temp(), on_true, on_false, True)
        if kind is ast.BoolOp or kind is ast.IfExp or (kind is ast.Compare and len(node.ops) > 1):
            expr, plan = self.visit_test(node)  # into a flag
        else:
            expr, plan = self.visit(node)
        self.out.append(ast.If(test=expr, body=self.branch(on_true), orelse=self.branch(on_false)))
        return plan

    # How many operands of an and/or (comparisons of a chain) ran: a constant of each
    # failure place in the test, a variable in value code (failures come after it).
    def count(self):
        if self.value_depth:
            name = self.scalar()
            return self.slot(_name(name)), name
        return self.count_slot(), None

    def set_count(self, count, n):
        slot, name = count
        if name is None:
            self.consts[slot] = n
        else:
            self.out.append(self._set(name, n))

    def gen_BoolOp(self, node, on_true, on_false):
        is_or = isinstance(node.op, ast.Or)
        count = self.count()
        plans = [None] * len(node.values)

        def operand(i):
            def run():
                self.set_count(count, i + 1)
                if i == len(node.values) - 1:
                    plans[i] = self.gen(node.values[i], on_true, on_false)
                elif is_or:
                    plans[i] = self.gen(node.values[i], on_true, operand(i + 1))
                else:
                    plans[i] = self.gen(node.values[i], operand(i + 1), on_false)
            return run

        operand(0)()
        return ("o", is_or, count[0], tuple(plans))

    def gen_chain(self, node, on_true, on_false):
        operands = [node.left] + list(node.comparators)
        parens = tuple(isinstance(o, (ast.Compare, ast.BoolOp)) for o in operands)
        ops = tuple(_OPERATORS[type(op).__name__] for op in node.ops)
        count = self.count()
        left, left_plan = self.visit(node.left)
        left = self.reloadable(left, operands[1:])
        plans = [left_plan]
        slots = [self.slot(_copy_load(left))]

        def pair(n, left):
            def run():
                self.set_count(count, n + 1)
                right, right_plan = self.visit(node.comparators[n])
                right = self.reloadable(right, operands[n + 2:])
                plans.append(right_plan)
                slots.append(self.slot(_copy_load(right)))
                compare = ast.copy_location(
                    ast.Compare(left=_copy_load(left), ops=[node.ops[n]], comparators=[right]), node)
                then = on_true if n == len(node.ops) - 1 else pair(n + 1, right)
                self.out.append(ast.If(test=compare, body=self.branch(then), orelse=self.branch(on_false)))
            return run

        pair(0, left)()
        return ("k", count[0], tuple(plans), tuple(slots), ops, parens)

    def value_into(self, node, result, on_true, on_false, jump=False):
        """Evaluates `node` into the variable `result`, then goes on to on_true or
        on_false by its truth, each value's __bool__ run once: an and/or whose value is
        tested again by an enclosing and/or is not tested twice (CPython threads those
        jumps). With `jump` the node is a condition (an assert's, an if-else's), where
        Python tests `not x` through x's own branches too."""
        kind = type(node)
        if kind is ast.BoolOp or kind is ast.IfExp:
            if kind is ast.IfExp:
                leaves = isinstance(on_true, _Leaf) and isinstance(on_false, _Leaf)
            else:
                leaves = isinstance(on_true if isinstance(node.op, ast.Or) else on_false, _Leaf)
            if not leaves:  # a continuation used at several places: through a flag
                ok = self._flag()
                plan = self.value_into(node, result, _Leaf(lambda: self.out.append(self._set(ok, True))), _DONE,
                                       jump)
                self.out.append(ast.If(test=_name(ok), body=self.branch(on_true), orelse=self.branch(on_false)))
                return plan
        if kind is ast.BoolOp:
            is_or = isinstance(node.op, ast.Or)
            count = self.count()
            last = len(node.values) - 1
            plans = [None] * len(node.values)

            def operand(i):
                def run():
                    self.set_count(count, i + 1)
                    then = on_true if i == last or is_or else operand(i + 1)
                    otherwise = operand(i + 1) if is_or and i != last else on_false
                    plans[i] = self.value_into(node.values[i], result, then, otherwise, jump)
                return run

            operand(0)()
            return ("o", is_or, count[0], tuple(plans))
        if kind is ast.IfExp:
            own = self.temp()  # `result` may be overwritten by a later operand
            plan = ("v", self.slot(_name(own)))  # shown as its value, as by pytest

            def then(leaf):
                def emit():
                    self.out.append(ast.Assign(targets=[_name(result, True)], value=_name(own)))
                    leaf()
                return _Leaf(emit)

            on_true, on_false = then(on_true), (then(on_false) if on_false is not on_true else None)
            on_false = on_false or on_true
            self.gen(node.test, lambda: self.value_into(node.body, own, on_true, on_false, jump),
                     lambda: self.value_into(node.orelse, own, on_true, on_false, jump))
            return plan
        if jump and kind is ast.UnaryOp and type(node.op) is ast.Not:
            def outcome(value, leaf):
                def emit():
                    self.out.append(self._set(result, value))
                    leaf()
                return _Leaf(emit) if isinstance(leaf, _Leaf) else emit

            return ("u", "not ", self.gen(node.operand, outcome(False, on_false), outcome(True, on_true)))
        expr, plan = self.visit(node)
        self.out.append(ast.Assign(targets=[_name(result, True)], value=expr))
        if on_true is on_false:  # the value is not tested (the last operand of an and/or)
            on_true()
        else:
            self.out.append(ast.If(test=_name(result), body=self.branch(on_true), orelse=self.branch(on_false)))
        return plan

    def value_code(self, node, on_true, on_false, jump=False):
        """value_into for code whose failures come after it: its temporaries set first,
        its counts kept in variables, all its slots readable afterwards."""
        start = len(self.slots)
        self.value_depth += 1
        self.depth += 1
        try:
            result = self.temp()
            return result, self.value_into(node, result, on_true, on_false, jump)
        finally:
            self.value_depth -= 1
            self.depth -= 1
            self.live.update(i for i in range(start, len(self.slots)) if self.slots[i] is not None)

    # -- a test whose truth is needed as a value (a flag): the operands of and/or/not
    # tested once each, the expression returned a real bool or a value tested once.
    def visit_test(self, node):
        kind = type(node)
        if kind is ast.BoolOp or kind is ast.IfExp:
            ok = self._flag()
            _, plan = self.value_code(node, _Leaf(lambda: self.out.append(self._set(ok, True))), _DONE, True)
            return _name(ok), plan
        if kind is ast.Compare and len(node.ops) > 1:
            return self.test_chain(node)
        if kind is ast.UnaryOp and type(node.op) is ast.Not:
            operand, plan = self.visit_test(node.operand)
            return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=operand), node), ("u", "not ", plan)
        return self.visit(node)

    def _flag(self):
        ok = self.scalar()
        self.out.append(ast.Assign(targets=[_name(ok, True)], value=ast.Constant(value=False)))
        return ok

    def _set(self, name, value):
        return ast.Assign(targets=[_name(name, True)], value=ast.Constant(value=value))

    def test_chain(self, node):
        operands = [node.left] + list(node.comparators)
        parens = tuple(isinstance(o, (ast.Compare, ast.BoolOp)) for o in operands)
        ops = tuple(_OPERATORS[type(op).__name__] for op in node.ops)
        ok = self._flag()
        count = self.scalar()
        left, left_plan = self.visit(node.left)
        left = self.reloadable(left, operands[1:])
        plans = [left_plan]
        slots = [self.slot(_copy_load(left))]
        saved, depth = self.out, self.depth
        last = len(node.ops)
        for n, (op, operand) in enumerate(zip(node.ops, node.comparators), start=1):
            right, right_plan = self.visit(operand)
            right = self.reloadable(right, operands[n + 1:])
            plans.append(right_plan)
            slots.append(self.slot(_copy_load(right)))
            self.out.append(self._set(count, n))
            compare = ast.copy_location(ast.Compare(left=_copy_load(left), ops=[op], comparators=[right]), node)
            inner = [self._set(ok, True)] if n == last else []
            self.out.append(ast.If(test=compare, body=inner, orelse=[]))
            self.out = inner
            self.depth += 1
            left = right
        self.out, self.depth = saved, depth
        return _name(ok), ("k", self.slot(_name(count)), tuple(plans), tuple(slots), ops, parens)

    # -- expressions: each returns (expression to use, plan)
    def visit(self, node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return self.generic(node)
        return method(node)

    def generic(self, node):
        value = self.assign(node)
        return value, ("v", self.slot(_name(value.id)))

    def visit_Constant(self, node):
        return node, ("v", self.slot(ast.Constant(value=node.value)))

    def visit_Tuple(self, node):
        if isinstance(node.ctx, ast.Load) and all(type(e) is ast.Constant for e in node.elts):
            # A tuple of constants is a constant (the compiler folds it): seen again on failure.
            value = tuple(e.value for e in node.elts)
            return ast.Constant(value=value), ("v", self.slot(ast.Constant(value=value)))
        return self.generic(node)

    def visit_Name(self, node):
        self.wants_names = True
        if self.depth:  # may not run: the failure path must not load it again
            value = self.assign(node)
            return value, ("n", self.slot(_name(value.id)), node.id)
        return node, ("n", self.slot(_name(node.id)), node.id)

    def visit_NamedExpr(self, node):
        self.wants_names = True
        value = self.assign(node)
        return value, ("n", self.slot(_name(value.id)), node.target.id)

    def visit_UnaryOp(self, node):
        operand, plan = self.visit(node.operand)
        return ast.copy_location(ast.UnaryOp(op=node.op, operand=operand), node), \
            ("u", _UNARY[type(node.op).__name__], plan)

    def visit_BinOp(self, node):
        left, left_plan = self.visit(node.left)
        left = self.stable(left, [node.right])
        right, right_plan = self.visit(node.right)
        expr = ast.copy_location(ast.BinOp(left=left, op=node.op, right=right), node)
        return expr, ("b", _OPERATORS[type(node.op).__name__], left_plan, right_plan)

    def visit_Attribute(self, node):
        if not isinstance(node.ctx, ast.Load):
            return self.generic(node)
        value, value_plan = self.visit(node.value)
        result = self.assign(ast.copy_location(ast.Attribute(value=value, attr=node.attr, ctx=ast.Load()), node))
        return result, ("a", self.slot(_name(result.id)), value_plan, node.attr)

    def visit_Call(self, node):
        parts = [node.func] + [a.value if isinstance(a, ast.Starred) else a for a in node.args] \
            + [k.value for k in node.keywords]
        func, func_plan = self.visit(node.func)
        func = self.stable(func, parts[1:])
        at = 1
        args, arg_plans = [], []
        for arg in node.args:
            starred = isinstance(arg, ast.Starred)
            value, plan = self.visit(arg.value if starred else arg)
            value = self.stable(value, parts[at + 1:])
            at += 1
            if starred:
                value = ast.copy_location(ast.Starred(value=value, ctx=ast.Load()), arg)
                plan = ("s", plan)
            args.append(value)
            arg_plans.append(plan)
        keywords = []
        for kw in node.keywords:
            value, plan = self.visit(kw.value)
            value = self.stable(value, parts[at + 1:])
            at += 1
            keywords.append(ast.keyword(arg=kw.arg, value=value))
            arg_plans.append(("kw", kw.arg, plan))
        call = ast.copy_location(ast.Call(func=func, args=args, keywords=keywords), node)
        result = self.assign(call)
        return result, ("c", self.slot(_name(result.id)), func_plan, tuple(arg_plans))

    def visit_BoolOp(self, node):
        result, plan = self.value_code(node, _DONE, _DONE)
        return _name(result), plan

    def visit_Compare(self, node):
        operands = [node.left] + list(node.comparators)
        parens = tuple(isinstance(o, (ast.Compare, ast.BoolOp)) for o in operands)
        ops = tuple(_OPERATORS[type(op).__name__] for op in node.ops)
        left, left_plan = self.visit(node.left)
        left = self.reloadable(left, operands[1:])
        plans = [left_plan]
        slots = [self.slot(_copy_load(left))]
        if len(node.ops) == 1:
            right, right_plan = self.visit(node.comparators[0])
            right = self.reloadable(right, ())
            plans.append(right_plan)
            slots.append(self.slot(_copy_load(right)))
            expr = ast.copy_location(ast.Compare(left=left, ops=node.ops, comparators=[right]), node)
            return expr, ("k", None, tuple(plans), tuple(slots), ops, parens)
        # A chain: a < b < c runs b < c only when a < b held, as Python does.
        result = self.temp()
        count = self.scalar()
        saved = self.out
        depth = self.depth
        for n, (op, operand) in enumerate(zip(node.ops, node.comparators)):
            if n:
                inner = []
                self.out.append(ast.If(test=_name(result), body=inner, orelse=[]))
                self.out = inner
                self.depth += 1
            right, right_plan = self.visit(operand)
            right = self.reloadable(right, operands[n + 2:])
            plans.append(right_plan)
            slots.append(self.slot(_copy_load(right)))
            compare = ast.copy_location(ast.Compare(left=_copy_load(left), ops=[op], comparators=[right]), node)
            self.out.append(ast.Assign(targets=[_name(result, True)], value=compare))
            self.out.append(ast.Assign(targets=[_name(count, True)], value=ast.Constant(value=n + 1)))
            left = right
        self.out = saved
        self.depth = depth
        return _name(result), ("k", self.slot(_name(count)), tuple(plans), tuple(slots), ops, parens)


_DONE = _Leaf(lambda: None)


def _plain_assert(node, in_function, rank):
    """`node` kept as a plain assert, followed by what counts it as passed."""
    count = ast.Assign(targets=[_name(_RANK, True)], value=ast.Constant(value=rank))
    _locate(count, node)
    return [node, count]


def _copy_load(expr):
    if type(expr) is ast.Name:
        return ast.copy_location(_name(expr.id), expr)
    if type(expr) is ast.Constant:
        return ast.copy_location(ast.Constant(value=expr.value), expr)
    return expr


def _locate(tree, where, skip=frozenset()):
    """Gives every generated node (one without a position) the position of `where`; the
    nodes whose ids are in `skip` (the original expression's) are not entered."""
    lineno, col = where.lineno, where.col_offset
    end_lineno = getattr(where, "end_lineno", None)
    end_col = getattr(where, "end_col_offset", None)
    todo = [tree]
    pop, push = todo.pop, todo.append
    while todo:
        node = pop()
        if "lineno" in node._attributes and getattr(node, "lineno", None) is None:
            node.lineno, node.col_offset = lineno, col
            node.end_lineno, node.end_col_offset = end_lineno, end_col
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and id(item) not in skip:
                        push(item)
            elif isinstance(value, ast.AST) and id(value) not in skip:
                push(value)


_current_filename = "<unknown>"


def rewrite_tree(tree, filename="<unknown>"):
    """Rewrites the asserts of a parsed module in place; returns how many there were
    (0 as well when its docstring holds PYTEST_DONT_REWRITE)."""
    global _current_filename
    _import_ast()
    doc = ast.get_docstring(tree, clean=False) if tree.body else None
    if doc is not None and "PYTEST_DONT_REWRITE" in doc:
        return 0
    _current_filename = filename
    walker = _Walker()
    tree.body = walker.block(tree.body, False)
    return walker.total


class _Walker:
    """Finds the asserts of a module, scope by scope, and how each counts its passes.

    In a function, an assert among the body's own statements stores its rank there
    (`@dx_s = 3`: the third such assert passed, so the two before it did) and any other
    increments a local (`@dx_n += 1`); a `finally` around the body adds both to the
    global count when the function ends. A constant store costs a third of an increment,
    and most asserts of a test are such straight-line statements. Module and class
    bodies count on `@dx_ar` directly."""

    def __init__(self):
        self.total = 0
        self.ranked = 0         # the current function's straight-line asserts so far
        self.counted = False    # whether it has asserts counted by increments

    def block(self, stmts, in_function, top=False):
        """The statements with their asserts rewritten."""
        new = []
        for stmt in stmts:
            kind = type(stmt)
            if kind is ast.Assert:
                if top:
                    self.ranked += 1
                    count = self.ranked
                else:
                    self.counted = True
                    count = None
                try:
                    new.extend(_AssertRewriter(stmt, in_function, count).rewrite())
                except RecursionError:  # an expression too deep to rewrite: left as it is
                    if count is None:
                        new.append(stmt)
                        continue
                    new.extend(_plain_assert(stmt, in_function, count))
                self.total += 1
                continue
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self.function(stmt)
            elif kind is ast.ClassDef:
                saved = self.ranked, self.counted
                stmt.body = self.block(stmt.body, False)
                self.ranked, self.counted = saved
            else:
                self.compound(stmt, in_function)
            new.append(stmt)
        return new

    def compound(self, stmt, in_function):
        for field, value in ast.iter_fields(stmt):
            if not isinstance(value, list) or not value:
                continue
            if isinstance(value[0], ast.stmt):
                setattr(stmt, field, self.block(value, in_function))
            elif isinstance(value[0], ast.excepthandler) or type(value[0]).__name__ == "match_case":
                for part in value:
                    part.body = self.block(part.body, in_function)

    def function(self, node):
        saved = self.ranked, self.counted
        self.ranked, self.counted = 0, False
        try:
            node.body = self.block(node.body, True, top=True)
            ranked, counted = self.ranked, self.counted
        finally:
            self.ranked, self.counted = saved
        if not ranked and not counted:
            return
        body = node.body
        head = []
        if (type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant
                and isinstance(body[0].value.value, str)):
            head, body = body[:1], body[1:]
        names = ([_RANK] if ranked else []) + ([_COUNT] if counted else [])
        start = ast.Assign(targets=[_name(n, True) for n in names], value=ast.Constant(value=0))
        total = _name(names[0])
        if len(names) == 2:
            total = ast.BinOp(left=total, op=ast.Add(), right=_name(names[1]))
        flush = ast.AugAssign(target=ast.Attribute(value=_name(_HELPER), attr="p", ctx=ast.Store()),
                              op=ast.Add(), value=total)
        guarded = ast.Try(body=body, handlers=[], orelse=[], finalbody=[flush])
        _locate(flush, node)
        _locate(start, body[0])
        _locate(guarded, body[0], {id(stmt) for stmt in body})  # the body is located
        node.body = head + [start, guarded]


def rewrite_source(source, filename="<unknown>"):
    """(code object, rewritten?) of a module's source (bytes or str)."""
    _import_ast()
    tree = ast.parse(source, filename=filename)
    if rewrite_tree(tree, filename):
        try:
            return compile(tree, filename, "exec", dont_inherit=True), True
        except (RecursionError, MemoryError, SyntaxError, ValueError):
            pass  # too deep for the compiler, or an error the plain source shows too
    return compile(source, filename, "exec", dont_inherit=True), False


# --------------------------------------------------------------------------------------
# The cache


def _cache_path(source_path):
    folder, filename = os.path.split(source_path)
    if sys.pycache_prefix:
        folder = os.path.join(sys.pycache_prefix, os.path.splitdrive(os.path.abspath(folder))[1].lstrip(os.sep))
    else:
        folder = os.path.join(folder, "__pycache__")
    tag = f"{sys.implementation.cache_tag}-dxpy-{REWRITE_VERSION}"
    opt = sys.flags.optimize
    stem = filename[:-3] if filename.endswith(".py") else filename
    return os.path.join(folder, f"{stem}.{tag}{f'.opt-{opt}' if opt else ''}.pyc")


def _read_cache(pyc, st):
    """(code, rewritten) from a valid cache file for a source of stat `st`, else None."""
    try:
        with open(pyc, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < _HEADER.size:
        return None
    magic, tag, version, flags, mtime_ns, size = _HEADER.unpack_from(data)
    if (magic != importlib.util.MAGIC_NUMBER or tag != _CACHE_MAGIC or version != REWRITE_VERSION
            or mtime_ns != st.st_mtime_ns or size != st.st_size):
        return None
    try:
        code = marshal.loads(memoryview(data)[_HEADER.size:])
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(code, types.CodeType):
        return None
    return code, bool(flags & _FLAG_REWRITTEN)


def _write_cache(pyc, code, rewritten, st):
    """Writes the cache file atomically; any failure only means no cache."""
    if sys.dont_write_bytecode:
        return False
    try:
        os.makedirs(os.path.dirname(pyc), exist_ok=True)
    except OSError:
        return False
    header = _HEADER.pack(importlib.util.MAGIC_NUMBER, _CACHE_MAGIC, REWRITE_VERSION,
                          _FLAG_REWRITTEN if rewritten else 0, st.st_mtime_ns, st.st_size)
    tmp = f"{pyc}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(header)
            f.write(marshal.dumps(code))
        os.replace(tmp, pyc)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    stats["cache_writes"] += 1
    return True


def _load_code(path):
    """(code, rewritten) of a module file: from the cache when it is valid, else
    rewritten and cached."""
    st = os.stat(path)
    pyc = _cache_path(path)
    cached = _read_cache(pyc, st)
    if cached is not None:
        stats["cache_hits"] += 1
        return cached
    with open(path, "rb") as f:
        source = f.read()
    code, rewritten = rewrite_source(source, path)
    stats["rewritten"] += 1
    if len(source) == st.st_size:  # not changed while we read it
        _write_cache(pyc, code, rewritten, st)
    return code, rewritten


# --------------------------------------------------------------------------------------
# The import hook


class _RewritingLoader(importlib.machinery.SourceFileLoader):
    """A source loader whose code has its asserts rewritten."""

    def get_code(self, fullname):
        return _load_code(self.path)[0]

    def exec_module(self, module):
        super().exec_module(module)
        if os.path.basename(self.path) == "conftest.py":
            _adopt_conftest(module)


class _PytestAdoptingLoader(importlib.machinery.SourceFileLoader):
    """Loads _pytest.assertion.rewrite as usual, then makes our hook pass its isinstance
    test (pytest.register_assert_rewrite looks for its own hook in sys.meta_path)."""

    def exec_module(self, module):
        super().exec_module(module)
        _adopt_pytest(module)


def _adopt_pytest(module=None):
    if module is None:
        module = sys.modules.get("_pytest.assertion.rewrite")
    cls = getattr(module, "AssertionRewritingHook", None) if module is not None else None
    register = getattr(cls, "register", None)  # an ABC: importlib.abc.MetaPathFinder
    if register is not None and not issubclass(_Finder, cls):
        register(_Finder)


def _adopt_conftest(module):
    plugins = module.__dict__.get("pytest_plugins")
    if isinstance(plugins, str):
        plugins = [plugins]
    if isinstance(plugins, (list, tuple)):
        names = [p for p in plugins if isinstance(p, str)]
        if names:
            register_assert_rewrite(*names)
    hook = module.__dict__.get("pytest_assertrepr_compare")
    if callable(hook):
        folder = os.path.dirname(os.path.abspath(module.__file__))
        _compare_hooks[:] = [(f, h) for f, h in _compare_hooks if f != folder]
        add_compare_hook(hook, folder)


def _path_match(pattern, path):
    """pytest's fnmatch_ex: a pattern without a separator matches the file name; one with
    a separator matches the whole path (relative patterns anywhere below)."""
    if os.sep not in pattern and "/" not in pattern:
        return fnmatch.fnmatch(os.path.basename(path), pattern)
    pattern = pattern.replace("/", os.sep)
    if os.path.isabs(path) and not os.path.isabs(pattern):
        pattern = f"*{os.sep}{pattern}"
    return fnmatch.fnmatch(path, pattern)


class _Finder:
    """The sys.meta_path hook: claims the modules to rewrite, leaves the rest to the
    next finder after a cheap test of the module's name."""

    def __init__(self, patterns, initial_paths=()):
        self.patterns = list(patterns)
        self.path_patterns = any(os.sep in p or "/" in p for p in self.patterns)
        self.initial_paths = {os.path.abspath(p) for p in initial_paths}
        self.initial_names = {os.path.splitext(os.path.basename(p))[0] for p in self.initial_paths}
        self.marked = set()
        self._name_cache = {}

    def _may_rewrite(self, name):
        try:
            return self._name_cache[name]
        except KeyError:
            pass
        base = name.rpartition(".")[2]
        answer = (base == "conftest" or base in self.initial_names or self.path_patterns
                  or any(fnmatch.fnmatch(base + ".py", p) for p in self.patterns)
                  or self._is_marked(name))
        self._name_cache[name] = answer
        return answer

    def _is_marked(self, name):
        return any(name == m or name.startswith(m + ".") for m in self.marked)

    def _should_rewrite(self, name, path):
        if os.path.basename(path) == "conftest.py" or path in self.initial_paths:
            return True
        return any(_path_match(p, path) for p in self.patterns) or self._is_marked(name)

    def find_spec(self, name, path=None, target=None):
        if name == "_pytest.assertion.rewrite":
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
                spec.loader = _PytestAdoptingLoader(name, spec.origin)
                return spec
            return None
        if not self._may_rewrite(name):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None and path is not None:  # a folder or file path given directly
            for entry in path:
                spec = importlib.util.spec_from_file_location(name, entry)
                if spec is not None:
                    break
        if (spec is None or spec.origin is None
                or not isinstance(spec.loader, importlib.machinery.SourceFileLoader)
                or not os.path.exists(spec.origin)):
            return None
        origin = os.path.abspath(spec.origin)
        if not self._should_rewrite(name, origin):
            return None
        spec.loader = _RewritingLoader(name, spec.origin)
        return spec

    def mark_rewrite(self, *names):
        """pytest's name for register_assert_rewrite (pytest.register_assert_rewrite
        calls it on the first hook of sys.meta_path that passes its isinstance test)."""
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"expected module names as *args, got {names!r} instead")
        for name in set(names).intersection(sys.modules):
            module = sys.modules[name]
            if not isinstance(getattr(module, "__loader__", None), _RewritingLoader) \
                    and "PYTEST_DONT_REWRITE" not in (getattr(module, "__doc__", None) or ""):
                _warn_already_imported(name)
        self.marked.update(names)
        self._name_cache.clear()

    def invalidate_caches(self):
        self._name_cache.clear()


def _warn_already_imported(name):
    import warnings

    warning_types = sys.modules.get("_pytest.warning_types")
    category = getattr(warning_types, "PytestAssertRewriteWarning", UserWarning)
    warnings.warn(category(f"Module already imported so cannot be rewritten; {name}"), stacklevel=4)


def register_assert_rewrite(*names):
    """Rewrite these modules (and their submodules) when they are imported from now on."""
    if _finder is None:
        _pending_marks.update(names)
    else:
        _finder.mark_rewrite(*names)


_pending_marks = set()


def _configure(config):
    global _options, _ini, _rootdir
    _options = dict(config.get("options") or {})
    _ini = dict(config.get("ini") or {})
    _rootdir = config.get("rootdir") or os.getcwd()
    verbose = int(_options.get("verbose", 0) or 0)
    level = _ini.get("verbosity_assertions")
    if isinstance(level, str) and level.strip() and level.strip() != "auto":
        try:
            verbose = int(level)
        except ValueError:
            pass
    _settings.verbose = verbose
    for key, attr in (("truncation_limit_lines", "max_lines"), ("truncation_limit_chars", "max_chars")):
        value = _ini.get(key)
        try:
            setattr(_settings, attr, int(value) if value not in (None, "") else None)
        except (TypeError, ValueError):
            setattr(_settings, attr, None)


def _initial_paths(config):
    base = config.get("invocation_dir") or os.getcwd()
    paths = []
    for arg in config.get("args") or ():
        path = arg.split("::", 1)[0]
        if path.endswith(".py"):
            paths.append(os.path.join(base, path))
    return paths


def install(config=None):
    """Installs the import hook first in sys.meta_path (again: reconfigures it).
    `config` is the run's configuration (the JSON of DXPY_CONFIG): python_files,
    options.verbose, ini (verbosity_assertions, truncation_limit_lines/_chars), args."""
    global _finder
    config = config or {}
    _configure(config)
    patterns = config.get("python_files") or ["test_*.py", "*_test.py"]
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    marked = _finder.marked if _finder is not None else set()
    _finder = _Finder(patterns, _initial_paths(config))
    _finder.marked.update(marked | _pending_marks)
    _pending_marks.clear()
    sys.meta_path.insert(0, _finder)
    _adopt_pytest()
    return _finder


def uninstall():
    """Removes the import hook and forgets the configuration (modules already imported
    stay rewritten)."""
    global _finder
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None
    _compare_hooks.clear()
    _configure({})
