"""Marks at run time, as pytest sees them: read from the objects (`pytestmark` on functions,
classes along their MRO, modules), evaluated as pytest's skipping plugin evaluates them.

The marks the orchestrator found statically (TestCase.markers, source text) are used only
when the objects carry no marks at all (a module that never imported pytest cannot have
any): their arguments are evaluated in the module's namespace.
"""
import os
import platform
import sys

from . import outcomes


class Mark:
    """pytest's Mark (name, args, kwargs), for marks the worker makes itself."""

    __slots__ = ("name", "args", "kwargs")

    def __init__(self, name, args=(), kwargs=None):
        self.name = name
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})

    def __repr__(self):
        return f"Mark(name={self.name!r}, args={self.args!r}, kwargs={self.kwargs!r})"

    def __eq__(self, other):
        return (isinstance(other, Mark) or hasattr(other, "kwargs")) and (
            self.name, self.args, dict(self.kwargs)) == (getattr(other, "name", None), getattr(other, "args", None),
                                                         dict(getattr(other, "kwargs", {}) or {}))

    __hash__ = None

    def combined_with(self, other):
        return Mark(self.name, self.args + tuple(other.args), dict(self.kwargs, **other.kwargs))

    @property
    def mark(self):
        return self


def normalize(items):
    out = []
    for m in items:
        m = getattr(m, "mark", m)
        if hasattr(m, "name") and hasattr(m, "args") and hasattr(m, "kwargs"):
            out.append(m)
    return out


def of_object(obj):
    """Marks stored on a function or a module (`pytestmark`)."""
    try:
        attr = obj.pytestmark
    except Exception:  # noqa: BLE001 - no attribute, or a property that raises
        return []
    if isinstance(attr, list):
        return normalize(attr)
    return normalize([attr])


def of_class(cls):
    """A class's marks and those of its bases, in pytest's order (MRO reversed)."""
    out = []
    try:
        mro = cls.__mro__
    except AttributeError:
        return of_object(cls)
    for klass in reversed(mro):
        attr = klass.__dict__.get("pytestmark", [])
        if isinstance(attr, list):
            out.extend(attr)
        else:
            out.append(attr)
    return normalize(out)


def from_static(markers, namespace):
    """Mark objects from the orchestrator's TestCase.markers (source text)."""
    out = []
    for m in markers:
        args = tuple(_literal(a, namespace) for a in m.args)
        kwargs = {k: _literal(v, namespace) for k, v in m.kwargs}
        out.append(Mark(m.name, args, kwargs))
    return out


def _literal(text, namespace):
    try:
        return eval(text, dict(namespace) if namespace is not None else {})  # noqa: S307 - the test's own source
    except Exception:  # noqa: BLE001 - not evaluable here: keep the text
        return text


# --- skip, skipif and xfail, as _pytest/skipping.py -----------------------------------------


def _fail_eval(lines):
    outcomes.fail("\n".join(lines), pytrace=False)


def evaluate_condition(item, mark, condition):
    if isinstance(condition, str):
        globals_ = {"os": os, "sys": sys, "platform": platform, "config": item.config}
        hooks = item.config._hooks
        if hooks is not None:
            for dictionary in reversed(hooks.call("pytest_markeval_namespace", config=item.config)):
                if isinstance(dictionary, dict):
                    globals_.update(dictionary)
        glb = getattr(getattr(item, "obj", None), "__globals__", None)
        if glb is not None:
            globals_.update(glb)
        try:
            code = compile(condition, f"<{mark.name} condition>", "eval")
            result = eval(code, globals_)  # noqa: S307 - pytest's semantics
        except SyntaxError as exc:
            _fail_eval([f"Error evaluating {mark.name!r} condition", "    " + condition,
                        "    " + " " * (exc.offset or 0) + "^", "SyntaxError: invalid syntax"])
        except Exception as exc:  # noqa: BLE001
            import traceback

            _fail_eval([f"Error evaluating {mark.name!r} condition", "    " + condition,
                        *traceback.format_exception_only(type(exc), exc)])
    else:
        try:
            result = bool(condition)
        except Exception as exc:  # noqa: BLE001
            import traceback

            _fail_eval([f"Error evaluating {mark.name!r} condition as a boolean",
                        *traceback.format_exception_only(type(exc), exc)])
    reason = mark.kwargs.get("reason", None)
    if reason is None:
        if isinstance(condition, str):
            reason = "condition: " + condition
        else:
            outcomes.fail(f"Error evaluating {mark.name!r}: you need to specify reason=STRING when using "
                          "booleans as conditions.", pytrace=False)
    return result, reason


def evaluate_skip(item):
    """The reason to skip `item`, or None."""
    for mark in item.iter_markers("skipif"):
        if "condition" not in mark.kwargs:
            conditions = mark.args
        else:
            conditions = (mark.kwargs["condition"],)
        if not conditions:
            return mark.kwargs.get("reason", "")
        for condition in conditions:
            result, reason = evaluate_condition(item, mark, condition)
            if result:
                return reason
    for mark in item.iter_markers("skip"):
        args, kwargs = mark.args, mark.kwargs
        try:
            return _skip_reason(*args, **kwargs)
        except TypeError as e:
            raise TypeError(str(e) + " - maybe you meant pytest.mark.skipif?") from None
    return None


def _skip_reason(reason="unconditional skip"):
    return reason


class Xfail:
    __slots__ = ("reason", "run", "strict", "raises")

    def __init__(self, reason, run, strict, raises):
        self.reason = reason
        self.run = run
        self.strict = strict
        self.raises = raises


def evaluate_xfail(item):
    for mark in item.iter_markers("xfail"):
        run = mark.kwargs.get("run", True)
        strict = mark.kwargs.get("strict")
        if strict is None:
            strict = item.config.xfail_strict
        raises = mark.kwargs.get("raises", None)
        if "condition" not in mark.kwargs:
            conditions = mark.args
        else:
            conditions = (mark.kwargs["condition"],)
        if not conditions:
            return Xfail(mark.kwargs.get("reason", ""), run, strict, raises)
        for condition in conditions:
            result, reason = evaluate_condition(item, mark, condition)
            if result:
                return Xfail(reason, run, strict, raises)
    return None


def raises_matches(raises, exc):
    if raises is None:
        return True
    if isinstance(raises, (type, tuple)):
        try:
            return isinstance(exc, raises)
        except TypeError:
            return False
    matches = getattr(raises, "matches", None)  # pytest.RaisesExc / RaisesGroup
    if matches is not None:
        try:
            return bool(matches(exc))
        except Exception:  # noqa: BLE001
            return False
    return False


def make_mark(name, *args, **kwargs):
    """A mark object: pytest's when pytest is loaded (so pytest's own code accepts it)."""
    pytest = sys.modules.get("pytest")
    if pytest is not None:
        try:
            return getattr(pytest.mark, name).with_args(*args, **kwargs).mark
        except Exception:  # noqa: BLE001
            pass
    return Mark(name, args, kwargs)
