"""The order a conftest's pytest_collection_modifyitems gives the whole session's items.

The workers call pytest_collection_modifyitems with one test's items at a time (runner.py):
its marks, skips and deselection are applied there. The order it gives across tests needs
the whole session's items, which no worker holds; the orchestrator (session/hook_order.cpp)
asks this process for it before the run, and only when a conftest of the run names the hook:

    python -m dx_py_test_runner.worker.order CONFTEST...

    CONFTEST    the conftest.py files of the run whose text names the hook
    stdin       the selected tests, each a little-endian u32 length and an encoded TestCase
    DXPY_CONFIG, DXPY_ROOTDIR   as for a worker (main.py)

First a static look at each conftest (`may_reorder`, no import): when no hook can change the
order of its `items` (only reads them, marks them, skips them), the answer is `keep` and
nothing is imported. Else the session is collected once, as pytest does: every test module
imported, every item made (parametrize, generated tests), the hooks called once with all of
them, and the answer is `order` and the tests' indices in the order of the items that are
left, then `deselected` and those of the tests whose items all went. A test the worker
expands at run time (parametrized fixtures, ids static discovery cannot know) is named once
per item, `INDEX<TAB>ID` with the item's parametrize id in hex (UTF-8): the orchestrator
then runs each item as a test of its own, where the hooks put it. Tests without an item (a
module that cannot be imported: its collection error) are not named: the orchestrator runs
them first, as pytest reports collection errors before the run. Anything that goes wrong
here is `error MESSAGE`: the run keeps the order of static collection and says so.

What the conftests and test modules print while collected is dropped: the workers import
them again, and their output belongs to the run.
"""
import ast
import os
import re
import struct
import sys

_HOOK = "pytest_collection_modifyitems"
# Methods of a list that change it in place: any of them on `items` may change the order.
_MUTATORS = frozenset(("sort", "reverse", "insert", "append", "extend", "pop", "remove", "clear",
                       "__setitem__", "__delitem__", "__iadd__"))
# A function that takes `items` and whose name says it orders them (random.shuffle,
# sort_items, reorder, ...): taken to change the order.
_ORDERING_NAME = re.compile(r"sort|shuffl|order|random|revers|priorit|permut", re.IGNORECASE)
_COPIES = frozenset(("sorted", "reversed"))  # built-ins that leave their argument as it is


def may_reorder(source):
    """False when no pytest_collection_modifyitems defined in this conftest `source` can change
    the order of its `items`: only conftests that may reorder cost the run a collection.

    In place changes count (`items[:] = ...`, `items.sort()`, `del items[i]`, `items += ...`,
    list methods that insert or remove), also through a plain alias (`its = items`), and
    `items` handed to a function of the same conftest that changes it, or to any function
    whose name says it orders (`random.shuffle(items)`). A call of an outside function with
    another name (a plugin's `on_start_tests(items)`) is taken not to reorder. A hook that is
    not a plain `def` at the top of the module (imported, assigned, a method of a plugin
    class, another name with `specname`) is taken to reorder: it cannot be looked at."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False  # the workers report the conftest's error; there is no order to take
    funcs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    top = funcs.get(_HOOK)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not top:
            if node.name == _HOOK or _has_specname(node):
                return True
        elif isinstance(node, (ast.Name, ast.alias)) and _name_of(node) == _HOOK and top is None:
            return True  # bound some other way: an import, an assignment
    if top is None:
        return False
    return _changes(top, "items", funcs, set())


def _name_of(node):
    if isinstance(node, ast.alias):
        return node.asname or node.name.rsplit(".", 1)[-1]
    return node.id


def _has_specname(func):
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call):
            for kw in deco.keywords:
                if kw.arg == "specname" and isinstance(kw.value, ast.Constant) and kw.value.value == _HOOK:
                    return True
    return False


def _params(func):
    a = func.args
    return [p.arg for p in (*a.posonlyargs, *a.args)], [p.arg for p in a.kwonlyargs]


def _changes(func, param, funcs, seen):
    """Whether `func` may change the order of the list its parameter `param` names."""
    key = (func.name, param)
    if key in seen:
        return False
    seen.add(key)
    positional, kwonly = _params(func)
    if param not in positional and param not in kwonly:
        return False
    aliases = {param}

    def is_list(expr):
        return isinstance(expr, ast.Name) and expr.id in aliases

    def target_changes(t):
        if isinstance(t, ast.Subscript):
            return is_list(t.value)
        if isinstance(t, (ast.Tuple, ast.List)):
            return any(target_changes(e) for e in t.elts)
        if isinstance(t, ast.Starred):
            return target_changes(t.value)
        return False

    # Aliases first (a name bound to the list anywhere in the function), then the uses.
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and is_list(node.value):
            aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and any(target_changes(t) for t in node.targets):
            return True
        if isinstance(node, (ast.AugAssign, ast.AnnAssign)) and (target_changes(node.target) or (
                isinstance(node, ast.AugAssign) and is_list(node.target))):
            return True
        if isinstance(node, ast.Delete) and any(target_changes(t) for t in node.targets):
            return True
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        if isinstance(callee, ast.Attribute) and is_list(callee.value) and callee.attr in _MUTATORS:
            return True
        passed = [(i, a.value if isinstance(a, ast.Starred) else a) for i, a in enumerate(node.args)]
        named = [(kw.arg, kw.value) for kw in node.keywords]
        if not any(is_list(v) for _, v in passed) and not any(is_list(v) for _, v in named):
            continue
        name = callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else ""
        if name and _ORDERING_NAME.search(name) and not (isinstance(callee, ast.Name) and name in _COPIES):
            return True
        local = funcs.get(name) if isinstance(callee, ast.Name) else None
        if local is None:
            continue
        lpos, lkw = _params(local)
        for i, v in passed:
            if is_list(v) and (i >= len(lpos) or _changes(local, lpos[i], funcs, seen)):
                return True  # beyond its parameters: *args, not followed
        for k, v in named:
            if is_list(v) and (k is None or _changes(local, k, funcs, seen)):
                return True
    return False


def _conftest_may_reorder(path):
    try:
        with open(path, "rb") as f:
            return may_reorder(f.read())
    except OSError:
        return False


def decode_cases(data):
    from .. import _core

    cases, at = [], 0
    while at < len(data):
        if at + 4 > len(data):
            raise ValueError("truncated test list")
        (n,) = struct.unpack_from("<I", data, at)
        at += 4
        if at + n > len(data):
            raise ValueError("truncated test list")
        cases.append(_core.decode_test_case(data[at:at + n]))
        at += n
    return cases


def session_order(cases):
    """(kept, deselected): (index in `cases`, item id or None) in the order the hooks left
    the items, and those the hooks took away. The item id is there for a test expanded here
    (its case has no parametrize id); else None, one entry for the case."""
    from . import config as _config
    from . import main as _main
    from . import runner as _runner

    config = _config.load()
    _main._install_rewrite(config)
    _runner._plain_function = lambda func, owner, name: False  # every test gets an item
    runner = _runner.Runner(rootdir=os.environ.get("DXPY_ROOTDIR") or os.getcwd(), config=config)
    items, owner = [], {}
    for index, case in enumerate(cases):
        key = (case.file, tuple(case.id.classes), case.id.name)
        defn = runner._defs.get(key)
        if defn is None:
            defn = runner._define(case, key)
        if defn.error is not None or not isinstance(defn, _runner.Definition):
            continue
        for item in runner._items(case, defn, modify=False):
            # A test expanded here (parametrized fixtures, ids static discovery cannot
            # know) is named with each item's id: the orchestrator runs each on its own.
            callspec = getattr(item, "callspec", None)
            param = callspec.id if case.id.param is None and callspec is not None and callspec._idlist else None
            owner[id(item)] = (index, param)
            items.append(item)
    every = list(dict.fromkeys(owner.values()))
    runner.hooks.call(_HOOK, session=runner.session, config=runner.config, items=items)
    kept = list(dict.fromkeys(owner[id(item)] for item in items if id(item) in owner))
    left = set(kept)
    return kept, [key for key in every if key not in left]


def _line(key):
    index, param = key
    return f"{index}\n" if param is None else f"{index}\t{param.encode('utf-8', 'surrogatepass').hex()}\n"


def main(argv):
    data = sys.stdin.buffer.read()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        if not any(_conftest_may_reorder(p) for p in argv):
            out.write("keep\n")
        else:
            kept, deselected = session_order(decode_cases(data))
            out.write("order\n" + "".join(map(_line, kept)))
            if deselected:
                out.write("deselected\n" + "".join(map(_line, deselected)))
    except BaseException as e:  # noqa: BLE001 - the run goes on in the order of static collection
        text = f"{type(e).__name__}: {e}".replace("\n", " ")
        out.write(f"error {text}\n")
    out.flush()
    os._exit(0)  # no interpreter teardown: nothing here outlives the answer


if __name__ == "__main__":
    main(sys.argv[1:])
