"""Turning an exception into what pytest prints: the one-line message of the short summary
(`reprcrash.message`, first line) and the long representation of the FAILURES section
(`--tb=auto`: the first and last entries in long form, the ones between short):

        def test_fail():
            got = f(85)
    >       assert got == 89, 'off by one'
    E       AssertionError: off by one
    E       assert 88 == 89

    tests/test_a.py:97: AssertionError

Frames of the worker itself, of pytest and of pluggy are left out, as pytest hides its own.
"""
import linecache
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_HIDDEN_DIRS = (_HERE + os.sep,)

# --tb and -l (set once by the runner from the run's options): the traceback style
# (auto|long|short|line|native|no) and whether long and short entries show the frame's locals.
STYLE = "auto"
SHOWLOCALS = False


def configure(style, showlocals):
    global STYLE, SHOWLOCALS
    STYLE = style if style in ("auto", "long", "short", "line", "native", "no") else "auto"
    SHOWLOCALS = bool(showlocals)


def _hidden_prefixes():
    prefixes = list(_HIDDEN_DIRS)
    for name in ("_pytest", "pluggy"):
        mod = sys.modules.get(name)
        path = getattr(mod, "__file__", None)
        if path:
            prefixes.append(os.path.dirname(os.path.abspath(path)) + os.sep)
    return tuple(prefixes)


def exconly(exc, tryshort=False):
    """pytest's ExceptionInfo.exconly()."""
    if tryshort and isinstance(exc, AssertionError):
        rc = sys.modules.get(__package__ + ".reprcompare")
        if rc is not None:
            try:
                return rc.exception_text(exc)
            except Exception:  # noqa: BLE001
                pass
    try:
        import traceback

        text = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    except Exception:  # noqa: BLE001 - a broken __str__
        text = f"{type(exc).__name__}: <exception str() failed>"
    if tryshort and isinstance(exc, AssertionError) and text.startswith("AssertionError: assert "):
        text = text[len("AssertionError: "):]
    return text


def short_message(exc):
    """pytest's reprcrash message, whole: the short test summary shows its first line, or all
    of it on CI and with -vv (the console decides); JUnit's message attribute has all of it."""
    if isinstance(exc, AssertionError) and not exc.args:
        tb = exc.__traceback__
        if tb is not None:
            while tb.tb_next is not None:
                tb = tb.tb_next
            line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno).strip()
            if line.startswith("assert"):
                return line
        return "AssertionError"
    return exconly(exc, tryshort=True).rstrip("\n")


def _entries(tb):
    hidden = _hidden_prefixes()
    out = []
    while tb is not None:
        frame = tb.tb_frame
        filename = frame.f_code.co_filename
        if not filename.startswith(hidden) and not (filename.startswith("<") and filename.endswith(">")) \
                and not frame.f_locals.get("__tracebackhide__", False) \
                and not frame.f_globals.get("__tracebackhide__", False) and not frame.f_globals.get("__unittest"):
            out.append((frame, tb.tb_lineno, tb.tb_lasti))
        tb = tb.tb_next
    return out


def _relpath(path, rootdir):
    """pytest's bestrelpath from the current folder, when it is shorter."""
    try:
        rel = os.path.relpath(path, os.getcwd())
    except ValueError:
        return path
    return rel if len(rel) < len(path) else path


def _saferepr(obj):
    rc = sys.modules.get(__package__ + ".reprcompare")
    if rc is not None:
        try:
            return rc.saferepr(obj)
        except Exception:  # noqa: BLE001
            pass
    import reprlib

    try:
        return reprlib.repr(obj)
    except Exception as e:  # noqa: BLE001
        return f"<[{type(e).__name__} raised in repr()] {type(obj).__name__} object at {id(obj):#x}>"


def _statement_lines(frame, lineno):
    """The function's source up to the end of the statement at `lineno`, dedented, and the
    index of `lineno` in it (None when the source is not available)."""
    code = frame.f_code
    filename = code.co_filename
    first = code.co_firstlineno
    if lineno < first or lineno - first > 500:
        first = lineno
    lines = [linecache.getline(filename, n).rstrip("\n") for n in range(first, lineno + 1)]
    if not any(lines):
        return None, None, 0
    # A statement continued on the next lines (an open bracket) is shown whole.
    n = lineno + 1
    depth = _bracket_depth(lines[-1])
    while depth > 0 and n - lineno < 50:
        nxt = linecache.getline(filename, n)
        if not nxt:
            break
        lines.append(nxt.rstrip("\n"))
        depth += _bracket_depth(nxt)
        n += 1
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return [line[indent:] for line in lines], lineno - first, indent


def _bracket_depth(line):
    depth = 0
    for ch in line.split("#", 1)[0]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth


def _carets(frame, lasti, line, indent_removed, short):
    """pytest's highlight under the failing expression (Python 3.11 positions)."""
    try:
        positions = list(frame.f_code.co_positions())
        lineno, end_lineno, col, end_col = positions[lasti // 2]
    except (AttributeError, IndexError, ValueError, TypeError):
        return None
    if lineno != end_lineno or col is None or end_col is None:
        return None
    raw = linecache.getline(frame.f_code.co_filename, lineno).rstrip("\n")
    start = len(raw.encode("utf-8")[:col].decode("utf-8", "replace"))
    stop = len(raw.encode("utf-8")[:end_col].decode("utf-8", "replace"))
    count = stop - start
    if count >= len(raw.strip()):
        return None
    stripped = len(raw) - len(raw.strip()) if short else indent_removed
    return "    " + " " * (start - stripped) + "^" * count


def _funcargs(frame):
    code = frame.f_code
    # pytest's Code.getargs(var=True), flag values included as it adds them.
    count = code.co_argcount + (code.co_flags & 4) + (code.co_flags & 8)
    values = frame.f_locals
    args = [(name, _saferepr(values[name])) for name in code.co_varnames[:count] if name in values]
    if not args:
        return []
    out = []
    line = ""
    for name, value in args:
        ns = f"{name} = {value}"
        if len(ns) + len(line) + 2 > 80:
            if line:
                out.append(line)
            line = ns
        else:
            line = f"{line}, {ns}" if line else ns
    if line:
        out.append(line)
    out.append("")
    return out


def _locals(frame, indent=""):
    """pytest's repr_locals (-l): every local but "@" names, sorted, as `name = repr`."""
    out = []
    values = frame.f_locals
    for name in sorted(n for n in values if n[:1] != "@"):
        if name == "__builtins__":
            out.append(indent + "__builtins__ = <builtins>")
        else:
            out.append(f"{indent}{name:<10} = {_saferepr(values[name])}")
    return out


def _long_entry(frame, lineno, lasti, exc_lines, last):
    out = [""]
    out.extend(_funcargs(frame))
    src, index, indent = _statement_lines(frame, lineno)
    if src is None:
        out.append(">   ???")
        stmt_indent = 4
    else:
        for line in src[:index]:
            out.append("    " + line)
        out.append(">   " + src[index])
        caret = _carets(frame, lasti, src[index], indent, short=False)
        if caret:
            out.append(caret)
        for line in src[index + 1:]:
            out.append("    " + line)
        stmt = src[index]
        stmt_indent = 4 + len(stmt) - len(stmt.lstrip())
    if last:
        pad = " " * stmt_indent
        for line in exc_lines:
            out.append("E" + pad[1:] + line)
    if SHOWLOCALS:
        out.append("")
        out.extend(_locals(frame))
    out.append("")
    return out


def _format_chain_one(exc, rootdir):
    entries = _entries(exc.__traceback__)
    exc_lines = exconly(exc, tryshort=True).split("\n")
    if not entries:
        return "\n".join("E   " + line for line in exc_lines)
    out = []
    n = len(entries)
    sep = "_ " * 40
    style = STYLE
    for i, (frame, lineno, lasti) in enumerate(entries):
        last = i == n - 1
        long_style = style == "long" or (style == "auto" and (i == 0 or last))
        where = _relpath(frame.f_code.co_filename, rootdir)
        if not long_style:
            # Middle entries: pytest's short form.
            line = linecache.getline(frame.f_code.co_filename, lineno).strip()
            out.append(f"{where}:{lineno}: in {frame.f_code.co_name}")
            if line:
                out.append(f"    {line}")
                caret = _carets(frame, lasti, line, 0, short=True)
                if caret:
                    out.append(caret)
            if last:  # --tb=short: the exception under the last entry
                out.extend("E   " + line for line in exc_lines)
            if SHOWLOCALS:
                out.extend(_locals(frame, " " * 8))
        else:
            out.extend(_long_entry(frame, lineno, lasti, exc_lines, last))
            out.append(f"{where}:{lineno}: {type(exc).__name__ if last else ''}")
        if not last:
            next_long = style == "long" or (style == "auto" and i + 1 == n - 1)
            if long_style or next_long:
                out.append(sep)
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(out)


def longrepr(exc, rootdir):
    """pytest's long representation of an exception (with its chain)."""
    if getattr(exc, "pytrace", True) is False and hasattr(exc, "msg"):
        return str(exc.msg) if exc.msg is not None else ""
    if STYLE == "line":
        return _line_repr(exc)
    if STYLE == "native":
        return _native_filtered(exc)
    try:
        parts = []
        seen = set()
        current = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            parts.append(_format_chain_one(current, rootdir))
            if current.__cause__ is not None:
                parts.append("\nThe above exception was the direct cause of the following exception:\n")
                current = current.__cause__
            elif current.__context__ is not None and not current.__suppress_context__:
                parts.append("\nDuring handling of the above exception, another exception occurred:\n")
                current = current.__context__
            else:
                current = None
        # pytest prints the chain oldest first.
        text_parts = []
        chain = parts[0::2]
        seps = parts[1::2]
        for i in range(len(chain) - 1, -1, -1):
            text_parts.append(chain[i])
            if i > 0:
                text_parts.append(seps[i - 1])
        return "\n".join(text_parts)
    except Exception:  # noqa: BLE001 - never fail while describing a failure
        import traceback

        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip("\n")


def native(exc):
    import traceback

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip("\n")


def _line_repr(exc):
    """--tb=line: pytest prints the exception ("E   " first, then indented), the captured
    output, then the crash line `path:lineno: message` with the absolute path. The crash
    line is the last line here; the console prints the captured output before it."""
    lines = exconly(exc, tryshort=True).split("\n")
    out = ["E   " + lines[0]] + ["    " + line for line in lines[1:]]
    entries = _entries(exc.__traceback__)
    if entries:
        frame, lineno, _ = entries[-1]
        where = f"{os.path.abspath(frame.f_code.co_filename)}:{lineno}"
    else:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "???"
    out.append(f"{where}: {lines[0]}")
    return "\n".join(out)


def _native_filtered(exc):
    """--tb=native: Python's own format, of the test's frames (the worker's left out, as pytest
    cuts its own), the exception chain included."""
    import traceback

    hidden = _hidden_prefixes()
    try:
        te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        seen = te
        while seen is not None:
            seen.stack = traceback.StackSummary.from_list(
                [f for f in seen.stack if not f.filename.startswith(hidden)])
            seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
        return "".join(te.format()).rstrip("\n")
    except Exception:  # noqa: BLE001
        return native(exc)
