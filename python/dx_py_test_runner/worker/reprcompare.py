"""What a failed comparison says: pytest's assertion explanations, written for dx-py.

`explain(op, left, right, settings)` is the text the rewritten assert shows for a failed
`left <op> right` (rewrite.py), or None when the plain "left <op> right" says it all. It
gives, line for line, what pytest 9 gives at the same verbosity:

    ==, !=   strings        a diff (difflib.ndiff of the lines, right side first), with
                            identical leading/trailing runs skipped below -v
             sequences      first differing index, length difference
             sets           extra items on either side
             dicts          identical/differing items, extra keys
             dataclasses,   identical/differing fields, drilling into each difference
             attrs, namedtuples
             pytest.approx  approx's own table
             iterables      "Use -v to get more diff", or a full diff of the pretty-printed
                            values at -v
    not in   strings        where the term is contained
    <, <=, >, >= of sets    the items that break the relation

Long explanations are cut to 8 lines / 640 characters below -vv (as pytest does, and
not on CI). Nothing here imports pytest: pytest.approx is recognised only when
_pytest.python_api is already loaded (an approx object cannot exist otherwise).

This module stands alone (the standard library only) so that it can be loaded without
the package's compiled core.
"""
import os
import reprlib
import sys
import types

__all__ = [
    "Settings", "explain", "compare", "saferepr", "saferepr_unlimited", "pformat",
    "format_explanation", "truncate", "running_on_ci",
]

DEFAULT_REPR_MAX_SIZE = 240   # characters of a value's repr in an explanation
TRUNCATE_LINES = 8            # below -vv an explanation is cut to this many lines ...
TRUNCATE_CHARS = 8 * 80       # ... or characters
_TRUNCATED_USAGE = "use '-vv' to show"


class Settings:
    """What the explanations depend on: the assertion verbosity and the truncation limits
    (the ini options truncation_limit_lines / truncation_limit_chars, None when unset)."""

    __slots__ = ("verbose", "max_lines", "max_chars")

    def __init__(self, verbose=0, max_lines=None, max_chars=None):
        self.verbose = verbose
        self.max_lines = max_lines
        self.max_chars = max_chars


def running_on_ci():
    """pytest's test for CI (it shows full diffs there): CI or BUILD_NUMBER set and non-empty."""
    env = os.environ
    return bool(env.get("CI") or env.get("BUILD_NUMBER"))


# --------------------------------------------------------------------------------------
# Safe, size-limited reprs


def _repr_failure(exc, obj):
    """What stands for the repr of an object whose __repr__ raised `exc`."""
    try:
        try:
            what = repr(exc)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            what = f'{type(exc).__name__}("{exc}")'
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as inner:
        try:
            inner_text = repr(inner)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            inner_text = f'{type(inner).__name__}("{inner}")'
        what = f"unpresentable exception ({inner_text})"
    return f"<[{what} raised in repr()] {type(obj).__name__} object at 0x{id(obj):x}>"


def _middle_cut(text, size):
    """`text` cut to `size` characters by an ellipsis in its middle."""
    if len(text) <= size:
        return text
    head = max(0, (size - 3) // 2)
    tail = max(0, size - 3 - head)
    return text[:head] + "..." + text[len(text) - tail:]


class _LimitedRepr(reprlib.Repr):
    """reprlib's abbreviated reprs (6 list items, 4 dict items, 6 levels, long ints and
    strings cut), never raising, the whole cut to `size` characters."""

    def __init__(self, size, use_ascii=False):
        super().__init__()
        self.maxstring = size if size is not None else 1_000_000_000
        self._size = size
        self._ascii = use_ascii

    def repr(self, x):
        try:
            text = ascii(x) if self._ascii else reprlib.Repr.repr(self, x)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            text = _repr_failure(e, x)
        return text if self._size is None else _middle_cut(text, self._size)

    def repr_instance(self, x, level):
        try:
            text = repr(x)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            text = _repr_failure(e, x)
        return text if self._size is None else _middle_cut(text, self._size)


def saferepr(obj, maxsize=DEFAULT_REPR_MAX_SIZE, use_ascii=False):
    """A repr of at most `maxsize` characters (None: no cut) that never raises."""
    return _LimitedRepr(maxsize, use_ascii).repr(obj)


def saferepr_unlimited(obj, use_ascii=True):
    """The full repr (ascii() by default), or what stands for it when it raises."""
    try:
        return ascii(obj) if use_ascii else repr(obj)
    except Exception as e:  # noqa: BLE001
        return _repr_failure(e, obj)


# --------------------------------------------------------------------------------------
# Pretty printing for full diffs: one item a line, with trailing commas, dicts and sets
# sorted (the layout pytest's own printer gives, which is not the standard pprint's).


class _SortKey:
    """Orders anything: by value where the values compare, else by type name and id."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        try:
            return self.v < other.v
        except TypeError:
            return (str(type(self.v)), id(self.v)) < (str(type(other.v)), id(other.v))


def _pair_key(item):
    return _SortKey(item[0]), _SortKey(item[1])


def _recursion_text(obj):
    return f"<Recursion on {type(obj).__name__} with id={id(obj)}>"


_SCALARS = frozenset({str, bytes, bytearray, float, complex, bool, type(None), int})


class _Pretty:
    INDENT = 4
    WIDTH = 80

    def __init__(self):
        self.out = []
        self.seen = set()

    # The layout of one object at a given indentation, `room` characters being reserved
    # after it (a closing bracket or comma), `level` its depth (1 for the top).
    def put(self, obj, indent, room, level):
        key = id(obj)
        if key in self.seen:
            self.out.append(_recursion_text(obj))
            return
        method = self.by_repr.get(type(obj).__repr__)
        if method is not None:
            self.seen.add(key)
            method(self, obj, indent, room, level + 1)
            self.seen.discard(key)
        elif self._generated_dataclass_repr(obj):
            self.seen.add(key)
            self._dataclass(obj, indent, room, level + 1)
            self.seen.discard(key)
        else:
            self.out.append(self.flat(obj, set(self.seen), level))

    @staticmethod
    def _generated_dataclass_repr(obj):
        import dataclasses

        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            return False
        if not obj.__dataclass_params__.repr:
            return False
        wrapped = getattr(obj.__repr__, "__wrapped__", None)
        return wrapped is not None and "__create_fn__" in wrapped.__qualname__

    def _items(self, items, indent, level):
        if not items:
            return
        inner = indent + self.INDENT
        sep = "\n" + " " * inner
        for item in items:
            self.out.append(sep)
            self.put(item, inner, 1, level)
            self.out.append(",")
        self.out.append("\n" + " " * indent)

    def _mapping_items(self, pairs, indent, level):
        if not pairs:
            return
        inner = indent + self.INDENT
        sep = "\n" + " " * inner
        for key, value in pairs:
            self.out.append(sep)
            self.out.append(self.flat(key, set(self.seen), level))
            self.out.append(": ")
            self.put(value, inner, 1, level)
            self.out.append(",")
        self.out.append("\n" + " " * indent)

    def _fields(self, pairs, indent, level):
        if not pairs:
            return
        inner = indent + self.INDENT
        sep = "\n" + " " * inner
        for name, value in pairs:
            self.out.append(sep)
            self.out.append(name)
            self.out.append("=")
            if id(value) in self.seen:
                self.out.append("...")
            else:
                self.put(value, inner + len(name) + 1, 1, level)
            self.out.append(",")
        self.out.append("\n" + " " * indent)

    def _dataclass(self, obj, indent, room, level):
        import dataclasses

        pairs = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.repr]
        self.out.append(type(obj).__name__ + "(")
        self._fields(pairs, indent, level)
        self.out.append(")")

    def _dict(self, obj, indent, room, level):
        self.out.append("{")
        self._mapping_items(sorted(obj.items(), key=_pair_key), indent, level)
        self.out.append("}")

    def _ordered_dict(self, obj, indent, room, level):
        if not len(obj):
            self.out.append(repr(obj))
            return
        self.out.append(type(obj).__name__ + "(")
        self._dict(obj, indent, room, level)
        self.out.append(")")

    def _list(self, obj, indent, room, level):
        self.out.append("[")
        self._items(obj, indent, level)
        self.out.append("]")

    def _tuple(self, obj, indent, room, level):
        self.out.append("(")
        self._items(obj, indent, level)
        self.out.append(")")

    def _set(self, obj, indent, room, level):
        if not len(obj):
            self.out.append(repr(obj))
            return
        if type(obj) is set:
            self.out.append("{")
            close = "}"
        else:
            self.out.append(type(obj).__name__ + "({")
            close = "})"
        self._items(sorted(obj, key=_SortKey), indent, level)
        self.out.append(close)

    def _str(self, obj, indent, room, level):
        if not len(obj):
            self.out.append(repr(obj))
            return
        import re

        if level == 1:
            indent += 1
            room += 1
        width = self.WIDTH - indent
        lines = obj.splitlines(True)
        chunks = []
        last_repr = ""
        for n, line in enumerate(lines):
            last_repr = repr(line)
            is_last_line = n == len(lines) - 1
            if len(last_repr) <= (width - room if is_last_line else width):
                chunks.append(last_repr)
                continue
            words = re.findall(r"\S*\s*", line)
            words.pop()  # the empty match at the end
            limit = width
            current = ""
            for m, word in enumerate(words):
                candidate = current + word
                if m == len(words) - 1 and is_last_line:
                    limit -= room
                if len(repr(candidate)) > limit:
                    if current:
                        chunks.append(repr(current))
                    current = word
                else:
                    current = candidate
            if current:
                chunks.append(repr(current))
        if len(chunks) == 1:
            self.out.append(last_repr)
            return
        if level == 1:
            self.out.append("(")
        self.out.append(("\n" + " " * indent).join(chunks))
        if level == 1:
            self.out.append(")")

    def _bytes(self, obj, indent, room, level):
        if len(obj) <= 4:
            self.out.append(repr(obj))
            return
        top = level == 1
        if top:
            indent += 1
            room += 1
            self.out.append("(")
        width = self.WIDTH - indent
        pieces = []
        current = b""
        last_start = len(obj) // 4 * 4
        for start in range(0, len(obj), 4):
            part = obj[start:start + 4]
            candidate = current + part
            if start == last_start:
                width -= room
            if len(repr(candidate)) > width:
                if current:
                    pieces.append(repr(current))
                current = part
            else:
                current = candidate
        if current:
            pieces.append(repr(current))
        self.out.append(("\n" + " " * indent).join(pieces))
        if top:
            self.out.append(")")

    def _bytearray(self, obj, indent, room, level):
        self.out.append("bytearray(")
        self._bytes(bytes(obj), indent + 10, room + 1, level + 1)
        self.out.append(")")

    def _mappingproxy(self, obj, indent, room, level):
        self.out.append("mappingproxy(")
        self.put(obj.copy(), indent, room, level)
        self.out.append(")")

    def _namespace(self, obj, indent, room, level):
        name = "namespace" if type(obj) is types.SimpleNamespace else type(obj).__name__
        self.out.append(name + "(")
        self._fields(obj.__dict__.items(), indent, level)
        self.out.append(")")

    def _defaultdict(self, obj, indent, room, level):
        factory = self.flat(obj.default_factory, set(self.seen), level)
        self.out.append(f"{type(obj).__name__}({factory}, ")
        self._dict(obj, indent, room, level)
        self.out.append(")")

    def _counter(self, obj, indent, room, level):
        self.out.append(type(obj).__name__ + "(")
        if obj:
            self.out.append("{")
            self._mapping_items(obj.most_common(), indent, level)
            self.out.append("}")
        self.out.append(")")

    def _chainmap(self, obj, indent, room, level):
        if not len(obj.maps) or (len(obj.maps) == 1 and not len(obj.maps[0])):
            self.out.append(repr(obj))
            return
        self.out.append(type(obj).__name__ + "(")
        self._items(obj.maps, indent, level)
        self.out.append(")")

    def _deque(self, obj, indent, room, level):
        self.out.append(type(obj).__name__ + "(")
        if obj.maxlen is not None:
            self.out.append(f"maxlen={obj.maxlen}, ")
        self.out.append("[")
        self._items(obj, indent, level)
        self.out.append("])")

    def _user_wrapper(self, obj, indent, room, level):
        self.put(obj.data, indent, room, level - 1)

    # A value inside a line: builtin containers recursively (dicts sorted), anything
    # else by its repr.
    def flat(self, obj, seen, level):
        kind = type(obj)
        if kind in _SCALARS:
            return repr(obj)
        rep = getattr(kind, "__repr__", None)
        if issubclass(kind, dict) and rep is dict.__repr__:
            if not obj:
                return "{}"
            if id(obj) in seen:
                return _recursion_text(obj)
            seen.add(id(obj))
            parts = [f"{self.flat(k, seen, level + 1)}: {self.flat(v, seen, level + 1)}"
                     for k, v in sorted(obj.items(), key=_pair_key)]
            seen.discard(id(obj))
            return "{" + ", ".join(parts) + "}"
        is_list = issubclass(kind, list) and rep is list.__repr__
        if is_list or (issubclass(kind, tuple) and rep is tuple.__repr__):
            if is_list:
                if not obj:
                    return "[]"
                head, tail = "[", "]"
            elif len(obj) == 1:
                head, tail = "(", ",)"
            else:
                if not obj:
                    return "()"
                head, tail = "(", ")"
            if id(obj) in seen:
                return _recursion_text(obj)
            seen.add(id(obj))
            parts = [self.flat(o, seen, level + 1) for o in obj]
            seen.discard(id(obj))
            return head + ", ".join(parts) + tail
        return repr(obj)


def _pretty_dispatch():
    import collections

    table = {
        dict.__repr__: _Pretty._dict,
        collections.OrderedDict.__repr__: _Pretty._ordered_dict,
        list.__repr__: _Pretty._list,
        tuple.__repr__: _Pretty._tuple,
        set.__repr__: _Pretty._set,
        frozenset.__repr__: _Pretty._set,
        str.__repr__: _Pretty._str,
        bytes.__repr__: _Pretty._bytes,
        bytearray.__repr__: _Pretty._bytearray,
        types.MappingProxyType.__repr__: _Pretty._mappingproxy,
        types.SimpleNamespace.__repr__: _Pretty._namespace,
        collections.defaultdict.__repr__: _Pretty._defaultdict,
        collections.Counter.__repr__: _Pretty._counter,
        collections.ChainMap.__repr__: _Pretty._chainmap,
        collections.deque.__repr__: _Pretty._deque,
        collections.UserDict.__repr__: _Pretty._user_wrapper,
        collections.UserList.__repr__: _Pretty._user_wrapper,
        collections.UserString.__repr__: _Pretty._user_wrapper,
    }
    return table


_Pretty.by_repr = _pretty_dispatch()


def pformat(obj):
    """`obj` laid out one item a line (the layout of pytest's full diffs)."""
    p = _Pretty()
    p.put(obj, 0, 0, 0)
    return "".join(p.out)


# --------------------------------------------------------------------------------------
# The explanations


def _is_text(x):
    return isinstance(x, str)


def _is_sequence(x):
    import collections.abc

    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _is_set(x):
    return isinstance(x, (set, frozenset))


def _is_dict(x):
    return isinstance(x, dict)


def _is_namedtuple(x):
    return isinstance(x, tuple) and getattr(x, "_fields", None) is not None


def _is_dataclass_instance(x):
    return getattr(x, "__dataclass_fields__", None) is not None


def _is_attrs_instance(x):
    return getattr(x, "__attrs_attrs__", None) is not None


def _is_iterable(x):
    try:
        iter(x)
    except Exception:  # noqa: BLE001 - an __iter__ may raise anything
        return False
    return not _is_text(x)


def _eq_is_generated(obj):
    """True when obj's __eq__ is the one dataclasses or attrs wrote (or is not Python code)."""
    eq = obj.__eq__
    code = getattr(eq, "__code__", None)
    if code is None or not hasattr(code, "co_filename"):
        return True
    if _is_attrs_instance(obj):
        return "attrs generated " in code.co_filename
    return code.co_filename == "<string>"


def _approx_base():
    module = sys.modules.get("_pytest.python_api")
    return getattr(module, "ApproxBase", None) if module is not None else None


def _describe_crash(exc):
    """'file:line: ExcType: message' of where `exc` was raised (pytest's crash line)."""
    tb = exc.__traceback__
    path, lineno = "???", 0
    while tb is not None:
        if not tb.tb_frame.f_locals.get("__tracebackhide__", False):
            path, lineno = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    first = exception_text(exc).split("\n", 1)[0]
    return f"{path}:{lineno}: {first}"


def exception_text(exc):
    """An exception as pytest shows it under a failed test (ExceptionInfo.exconly with
    tryshort): format_exception_only's text, without "AssertionError: " when the
    exception's repr starts with "AssertionError('assert " (a rewritten assert's message
    with no quote in its first characters)."""
    import traceback

    text = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    if isinstance(exc, AssertionError):
        info = getattr(exc, "msg", None)
        if info is None:
            info = saferepr(exc)
        if info and info.startswith("AssertionError('assert ") and text.startswith("AssertionError: "):
            text = text[len("AssertionError: "):]
    return text


def compare(op, left, right, verbose=0):
    """The lines explaining a failed `left <op> right` (the first is the "left op right"
    summary), or None when there is nothing more to say than the summary."""
    import unicodedata

    # Strings that normalise equal are hard to tell apart: show them with ascii().
    use_ascii = (isinstance(left, str) and isinstance(right, str)
                 and unicodedata.normalize("NFD", left) == unicodedata.normalize("NFD", right))
    if verbose > 1:
        left_text = saferepr_unlimited(left, use_ascii=use_ascii)
        right_text = saferepr_unlimited(right, use_ascii=use_ascii)
    else:
        # Half of an 80-column line each, after "E       AssertionError: assert ".
        size = (80 - 15 - len(op) - 2) // 2
        left_text = saferepr(left, maxsize=size, use_ascii=use_ascii)
        right_text = saferepr(right, maxsize=size, use_ascii=use_ascii)
    summary = f"{left_text} {op} {right_text}"

    lines = None
    try:
        explain = _explainer(left, right) if op == "==" else None
        if explain is not None:
            lines = explain()
        elif op == "==":
            lines = _eq_any(left, right, verbose)
        elif op == "not in":
            if _is_text(left) and _is_text(right):
                lines = _not_in_text(left, right, verbose)
        elif op == "!=":
            if _is_set(left) and _is_set(right):
                lines = ["Both sets are equal"]
        elif op in (">=", "<=", ">", "<"):
            if _is_set(left) and _is_set(right):
                lines = _set_order(op, left, right)
    except Exception as e:  # noqa: BLE001 - a __repr__, __eq__ or __iter__ of the test's
        lines = [
            f"(pytest_assertion plugin: representation of details failed: {_describe_crash(e)}.",
            " Probably an object has a faulty __repr__.)",
        ]
    if not lines:
        return None
    if lines[0] != "":
        lines.insert(0, "")
    return [summary, *lines]


def _explainer(left, right):
    """A side's own explanation of a failed ==: dx-py's `snapshot` fixture has one (its diff)."""
    for side in (right, left):
        explain = getattr(type(side), "dx_explain_eq", None)
        if explain is not None:
            return lambda: explain(side)
    return None


def _set_order(op, left, right):
    if op == ">=":
        return _one_side_extra("right", right, left)
    if op == "<=":
        return _one_side_extra("left", left, right)
    lines = _one_side_extra("right", right, left) if op == ">" else _one_side_extra("left", left, right)
    return lines or ["Both sets are equal"]


def _eq_any(left, right, verbose):
    if _is_text(left) and _is_text(right):
        return _text_diff(left, right, verbose)
    lines = []
    approx = _approx_base()
    if approx is not None and (isinstance(left, approx) or isinstance(right, approx)):
        if isinstance(left, approx):
            lines = left._repr_compare(right)
        else:
            lines = right._repr_compare(left)
    elif type(left) is type(right) and (
        _is_dataclass_instance(left) or _is_attrs_instance(left) or _is_namedtuple(left)
    ):
        lines = _eq_fields(left, right, verbose)
    elif _is_sequence(left) and _is_sequence(right):
        lines = _eq_sequence(left, right)
    elif _is_set(left) and _is_set(right):
        lines = _one_side_extra("left", left, right) + _one_side_extra("right", right, left)
    elif _is_dict(left) and _is_dict(right):
        lines = _eq_dict(left, right, verbose)
    if _is_iterable(left) and _is_iterable(right):
        lines.extend(_eq_iterable(left, right, verbose))
    return lines


def _text_diff(left, right, verbose):
    """The diff of two strings: right is the expected base, left what was got."""
    import difflib

    lines = []
    if verbose < 1:
        common = 0
        for common in range(min(len(left), len(right))):
            if left[common] != right[common]:
                break
        if common > 42:
            common -= 10  # keep some context
            lines.append(f"Skipping {common} identical leading characters in diff, use -v to show")
            left = left[common:]
            right = right[common:]
        if len(left) == len(right):
            # Counts from the end; left[-0] is left[0], so strings that differ in their
            # first character are never trimmed at the end (as in pytest).
            for common in range(len(left)):
                if left[-common] != right[-common]:
                    break
            if common > 42:
                common -= 10
                lines.append(f"Skipping {common} identical trailing characters in diff, use -v to show")
                left = left[:-common]
                right = right[:-common]
    if left.isspace() or right.isspace():
        left = repr(str(left))
        right = repr(str(right))
        lines.append("Strings contain only whitespace, escaping them using repr()")
    diff = difflib.ndiff(right.splitlines(True), left.splitlines(True))
    lines.extend("\n".join(line.strip("\n") for line in diff).splitlines())
    return lines


def _eq_iterable(left, right, verbose):
    if verbose <= 0 and not running_on_ci():
        return ["Use -v to get more diff"]
    import difflib

    left_lines = pformat(left).splitlines()
    right_lines = pformat(right).splitlines()
    lines = ["", "Full diff:"]
    diff = difflib.ndiff(right_lines, left_lines)
    lines.extend("\n".join(line.rstrip() for line in diff).splitlines())
    return lines


def _eq_sequence(left, right):
    both_bytes = isinstance(left, bytes) and isinstance(right, bytes)
    lines = []
    n_left, n_right = len(left), len(right)
    for i in range(min(n_left, n_right)):
        if left[i] != right[i]:
            if both_bytes:  # b'f', not 102
                a, b = left[i:i + 1], right[i:i + 1]
            else:
                a, b = left[i], right[i]
            lines.append(f"At index {i} diff: {a!r} != {b!r}")
            break
    if both_bytes:
        return lines
    extra = n_left - n_right
    if extra:
        if extra > 0:
            side, first = "Left", saferepr(left[n_right])
        else:
            extra = -extra
            side, first = "Right", saferepr(right[n_left])
        if extra == 1:
            lines.append(f"{side} contains one more item: {first}")
        else:
            lines.append(f"{side} contains {extra} more items, first extra item: {first}")
    return lines


def _one_side_extra(side, these, others):
    extra = these - others
    if not extra:
        return []
    return [f"Extra items in the {side} set:", *(saferepr(item) for item in extra)]


def _eq_dict(left, right, verbose):
    import pprint

    lines = []
    left_keys, right_keys = set(left), set(right)
    common = left_keys & right_keys
    same = {k: left[k] for k in common if left[k] == right[k]}
    if same and verbose < 2:
        lines.append(f"Omitting {len(same)} identical items, use -vv to show")
    elif same:
        lines.append("Common items:")
        lines.extend(pprint.pformat(same).splitlines())
    differing = {k for k in common if left[k] != right[k]}
    if differing:
        lines.append("Differing items:")
        for k in differing:
            lines.append(saferepr({k: left[k]}) + " != " + saferepr({k: right[k]}))
    for side, mine, other, source in (("Left", left_keys, right_keys, left),
                                      ("Right", right_keys, left_keys, right)):
        extra = mine - other
        if extra:
            lines.append(f"{side} contains {len(extra)} more item{'' if len(extra) == 1 else 's'}:")
            lines.extend(pprint.pformat({k: source[k] for k in extra}).splitlines())
    return lines


def _eq_fields(left, right, verbose):
    import pprint

    if not _eq_is_generated(left):
        return []
    if _is_dataclass_instance(left):
        import dataclasses

        names = [f.name for f in dataclasses.fields(left) if f.compare]
    elif _is_attrs_instance(left):
        names = [a.name for a in left.__attrs_attrs__ if getattr(a, "eq")]
    else:
        names = left._fields
    same, differing = [], []
    for name in names:
        (same if getattr(left, name) == getattr(right, name) else differing).append(name)
    lines = []
    if same or differing:
        lines.append("")
    if same and verbose < 2:
        lines.append(f"Omitting {len(same)} identical items, use -vv to show")
    elif same:
        lines.append("Matching attributes:")
        lines.extend(pprint.pformat(same).splitlines())
    if differing:
        lines.append("Differing attributes:")
        lines.extend(pprint.pformat(differing).splitlines())
        for name in differing:
            a, b = getattr(left, name), getattr(right, name)
            lines += ["", f"Drill down into differing attribute {name}:", f"  {name}: {a!r} != {b!r}"]
            lines += ["  " + line for line in _eq_any(a, b, verbose)]
    return lines


def _not_in_text(term, text, verbose):
    at = text.find(term)
    without = text[:at] + text[at + len(term):]
    lines = [f"{saferepr(term, maxsize=42)} is contained here:"]
    for line in _text_diff(text, without, verbose):
        if line.startswith("Skipping") or line.startswith("- "):
            continue
        lines.append("  " + line[2:] if line.startswith("+ ") else line)
    return lines


# --------------------------------------------------------------------------------------
# From lines to the text of an assertion message


def truncate(lines, settings):
    """`lines` cut as pytest cuts explanations: below -vv and off CI, to max_lines lines
    or max_chars characters (8 and 640 unless the ini options say otherwise; 0 and 0 turn
    it off), with a last line telling how much was hidden."""
    max_lines = TRUNCATE_LINES if settings.max_lines is None else int(settings.max_lines)
    max_chars = TRUNCATE_CHARS if settings.max_chars is None else int(settings.max_chars)
    if settings.verbose >= 2 or running_on_ci() or (max_lines <= 0 and max_chars <= 0):
        return lines
    total_chars = len("".join(lines))
    # Room for the two lines and ~70 characters the truncation notice itself takes.
    if len(lines) <= max_lines + 2 and total_chars <= max_chars + 70:
        return lines
    kept = lines[:max_lines] if max_lines > 0 else list(lines)
    cut_chars = False
    if max_chars > 0 and len("".join(kept)) > max_chars + 70:
        cut_chars = True
        used = 0
        for n, line in enumerate(kept):
            if used + len(line) > max_chars:
                break
            used += len(line)
        last = kept[n]
        kept = kept[:n] + [last[:max_chars - used] if last else last]
    if kept == lines:
        return kept
    hidden = len(lines) - len(kept)
    if kept[-1]:
        kept[-1] += "..."
        if cut_chars:
            hidden += 1
    else:
        kept[-1] = "..."
    return [*kept, "", f"...Full output truncated ({hidden} line{'' if hidden == 1 else 's'} hidden), "
            + _TRUNCATED_USAGE]


def explain(op, left, right, settings, hooks=()):
    """The explanation of a failed `left <op> right` in the explanation language of
    format_explanation ("\\n~" before each continuation line), or None.

    `hooks` are pytest_assertrepr_compare(config, op, left, right) functions of conftest
    files, tried first, each as (function, config); the first non-empty answer wins."""
    lines = None
    for hook, config in hooks:
        try:
            lines = hook(config=config, op=op, left=left, right=right)
        except Exception:  # noqa: BLE001 - a broken hook must not hide the failure
            lines = None
        if lines:
            break
    if not lines:
        lines = compare(op, left, right, settings.verbose)
        if not lines:
            return None
    lines = truncate(list(lines), settings)
    return "\n~".join(line.replace("\n", "\\n") for line in lines)


def format_explanation(text):
    r"""The final text of an explanation written in pytest's little layout language.

    Newlines are escaped ("\\n") except before '{' (a nested "where"/"and" clause
    opens), '}' (it closes; what follows continues the line that opened it), '~' (a
    continuation line, indented one level deeper) and '>' (a line at the current level).
    """
    raw = (text or "").split("\n")
    lines = [raw[0]]
    for part in raw[1:]:
        if part and part[0] in "{}~>":
            lines.append(part)
        else:
            lines[-1] += "\\n" + part
    out = [lines[0]]
    opened = [0]    # per open clause: the index of the line its closing text joins
    clauses = [0]   # per level: how many clauses it has had ("where", then "and")
    for line in lines[1:]:
        mark, rest = line[0], line[1:]
        if mark == "{":
            word = "and   " if clauses[-1] else "where "
            opened.append(len(out))
            clauses[-1] += 1
            clauses.append(0)
            out.append(" +" + "  " * (len(opened) - 1) + word + rest)
        elif mark == "}":
            opened.pop()
            clauses.pop()
            out[opened[-1]] += rest
        else:
            opened[-1] += 1
            depth = len(opened) if mark == "~" else len(opened) - 1
            out.append("  " * depth + rest)
    return "\n".join(out)
