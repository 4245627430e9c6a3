"""The Jinja2 sandbox prompt templates render in (pure Python, no Django).

A template reads the JSON values it is given (text, numbers, booleans, null, lists, objects) and
can loop, branch, set local names and apply the filters listed below. It cannot reach a Python
object: `a.b` is a key lookup on objects only, `a[i]` indexes lists, text and objects, and the
only calls are `range()`, `dict()`, `loop.cycle()` and `loop.changed()`. `checking.check` refuses
anything else when a template is saved; this environment enforces the same at render time.

Every render runs under a `Budget`: loop iterations, the size of every intermediate value and of
the output, and a wall-clock deadline. Values only grow through operators and filters that are
checked *before* they allocate (`'x' * n`, `2 ** n`, `~`, `|join`, `|replace`, `|indent` …), and
output is streamed, so `{% for i in range(10**9) %}` or string multiplication stop with a clear
error instead of taking the process down.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, UndefinedError, filters, tests
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import missing

MAX_SOURCE_CHARS = 100_000  # one message or text
MAX_OUTPUT_CHARS = 500_000  # a whole rendered prompt, and any value built while rendering it
MAX_ITERATIONS = 100_000  # loop iterations in one render, nested loops included
MAX_INT_BITS = 4_096
MAX_FORMAT_WIDTH = 1_000  # widths and precisions in `'%10s' % x` and |format
MAX_JSON_INDENT = 16
RENDER_SECONDS = 1.0

LOOP_FIELDS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
     "previtem", "nextitem", "cycle", "changed"}
)  # fmt: skip
LOOP_METHODS = frozenset({"cycle", "changed"})


class RenderLimit(Exception):
    """A bound of the sandbox was reached (size, iterations or time)."""


class LoopOverScalar(TypeError):
    """A for loop over a number, a boolean or null."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path}: a for loop needs a list, an object or text, not {kind}")
        self.path = path


class UndefinedUse(UndefinedError):
    """A missing variable or key was used; carries what was missing and where it was looked up."""

    def __init__(self, undefined: Undefined, message: str | None = None) -> None:
        super().__init__(message)
        self.name = undefined._undefined_name
        self.obj = undefined._undefined_obj
        self.hint = undefined._undefined_hint


class Missing(StrictUndefined):
    """StrictUndefined whose error says which name or key was missing (see UndefinedUse)."""

    __slots__ = ()

    def __init__(self, hint=None, obj=missing, name=None, exc=UndefinedError) -> None:
        if exc is UndefinedError:
            exc = functools.partial(UndefinedUse, self)
        super().__init__(hint, obj, name, exc)


class Budget:
    """What one render may still spend."""

    def __init__(
        self,
        *,
        seconds: float = RENDER_SECONDS,
        iterations: int = MAX_ITERATIONS,
        output: int = MAX_OUTPUT_CHARS,
    ) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.iterations = iterations
        self.max_iterations = iterations
        self.output = output
        self.max_output = output

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimit(f"rendering took longer than {self.seconds:g} s")

    def step(self) -> None:
        self.iterations -= 1
        if self.iterations < 0:
            raise RenderLimit(f"loops ran more than {self.max_iterations:,} iterations")
        self.tick()

    def emit(self, chars: int) -> None:
        self.output -= chars
        if self.output < 0:
            raise RenderLimit(f"the output is longer than {self.max_output:,} characters")
        self.tick()


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("budget", default=None)


def current_budget() -> Budget | None:
    return _budget.get()


def use_budget(budget: Budget) -> contextvars.Token:
    return _budget.set(budget)


def release_budget(token: contextvars.Token) -> None:
    _budget.reset(token)


def _tick() -> None:
    # Filters may also run while a template compiles (constant folding): no budget then, and
    # the size checks below still apply.
    budget = _budget.get()
    if budget is not None:
        budget.tick()


def ensure_size(size: int, what: str = "a value") -> None:
    if size > MAX_OUTPUT_CHARS:
        raise RenderLimit(f"{what} would be longer than {MAX_OUTPUT_CHARS:,} characters")


def _materialized(value: Any) -> Any:
    # Filters such as map, select and items return generators: as lists they print as data,
    # never as "<generator object … at 0x…>".
    if isinstance(value, Iterator | Generator):
        return list(value)
    return value


def _bounded(value: Any, what: str) -> Any:
    if isinstance(value, str | list | tuple | dict):
        ensure_size(len(value), what)
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise RenderLimit(f"{what} is a number larger than {MAX_INT_BITS:,} bits")
    return value


# Operators -------------------------------------------------------------------------------------

_SIZED = (str, list, tuple)
PRINTABLE = (str, int, float, list, tuple, dict, range, Undefined)
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_printf(fmt: str) -> None:
    """Refuse `%`-format widths and precisions that would allocate huge strings."""
    for match in _PRINTF.finditer(fmt):
        for part in match.groups():
            if part == "*":
                raise RenderLimit("'*' widths are not allowed in % formatting")
            if part and int(part) > MAX_FORMAT_WIDTH:
                raise RenderLimit(f"% formatting widths are limited to {MAX_FORMAT_WIDTH:,}")


def _check_repeat(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, _SIZED) and isinstance(times, int):
            ensure_size(len(seq) * max(times, 0), "a repeated value")
    both_ints = isinstance(left, int) and isinstance(right, int)
    if both_ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise RenderLimit(f"a product larger than {MAX_INT_BITS:,} bits")


def _check_power(base: Any, exponent: Any) -> None:
    grows = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if grows and base.bit_length() * exponent > MAX_INT_BITS:
        raise RenderLimit(f"a power larger than {MAX_INT_BITS:,} bits")


def _check_add(left: Any, right: Any) -> None:
    if isinstance(left, _SIZED) and isinstance(right, _SIZED):
        ensure_size(len(left) + len(right), "a sum of values")


_BINOP_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "*": _check_repeat,
    "**": _check_power,
    "+": _check_add,
    "%": lambda left, right: check_printf(left) if isinstance(left, str) else None,
}


# Filters ---------------------------------------------------------------------------------------


def _width(value: Any) -> int:
    return len(value) if isinstance(value, str) else int(value)


def _check_center(value: Any, width: Any = 80) -> None:
    ensure_size(_width(width), "|center")


def _check_indent(s: Any, width: Any = 4, *args: Any, **kwargs: Any) -> None:
    s = str(s)
    ensure_size(len(s) + (s.count("\n") + 1) * _width(width), "|indent")


def _check_wordwrap(s: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None,
                    *args: Any, **kwargs: Any) -> None:  # fmt: skip
    s, width = str(s), int(width)
    wrap = len(wrapstring) if isinstance(wrapstring, str) else 1
    ensure_size(len(s) + (len(s) // max(width, 1) + 1) * wrap, "|wordwrap")


def _check_replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    s, old, new = str(s), str(old), str(new)
    found = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    ensure_size(len(s) + found * max(len(new) - len(old), 0), "|replace")


def _check_format(value: Any, *args: Any, **kwargs: Any) -> None:
    check_printf(str(value))


def _check_tojson(value: Any, indent: Any = None) -> None:
    if indent is not None and _width(indent) > MAX_JSON_INDENT:
        raise RenderLimit(f"|tojson indents by at most {MAX_JSON_INDENT}")


def _guarded(name: str, func: Callable, check: Callable | None = None) -> Callable:
    """`func` with a deadline tick, a size check before (`check`) and after it runs."""
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(func)  # keeps jinja_pass_arg (pass_context, pass_environment …)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _tick()
        if check is not None:
            check(*args[skip:], **kwargs)
        return _bounded(_materialized(func(*args, **kwargs)), f"|{name}")

    return wrapper


@filters.pass_environment
def _join(environment, value: Any, d: str = "", attribute: Any = None) -> str:
    """|join, sized before it allocates (the items are turned into text once)."""
    _tick()
    if attribute is not None:
        value = map(filters.make_attrgetter(environment, attribute), value)
    parts = [item if isinstance(item, str) else str(item) for item in value]
    d = str(d)
    ensure_size(sum(map(len, parts)) + len(d) * max(len(parts) - 1, 0), "|join")
    return d.join(parts)


_FILTER_CHECKS: dict[str, Callable | None] = {
    "abs": None, "capitalize": None, "center": _check_center, "count": None, "d": None,
    "default": None, "dictsort": None, "first": None, "float": None, "format": _check_format,
    "indent": _check_indent, "int": None, "items": None, "last": None, "length": None,
    "list": None, "lower": None, "map": None, "max": None, "min": None, "reject": None,
    "rejectattr": None, "replace": _check_replace, "reverse": None, "round": None,
    "select": None, "selectattr": None, "sort": None, "string": None, "striptags": None,
    "sum": None, "title": None, "tojson": _check_tojson, "trim": None, "truncate": None,
    "unique": None, "upper": None, "urlencode": None, "wordcount": None,
    "wordwrap": _check_wordwrap,
}  # fmt: skip
FILTERS = frozenset([*_FILTER_CHECKS, "join"])
TESTS = frozenset(
    {"boolean", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "float",
     "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan", "lower", "lt",
     "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "true",
     "undefined", "upper", "==", "!=", "<", "<=", ">", ">="}
)  # fmt: skip
# Filters and tests that take the name of another filter or test as an argument.
NAMED_FILTER_ARG = {"map": FILTERS}
NAMED_TEST_ARG = {"select": 0, "reject": 0, "selectattr": 1, "rejectattr": 1}
# Filters that read a field of each item, and the position of that argument (also attribute=).
ATTRIBUTE_ARG = {"selectattr": 0, "rejectattr": 0, "join": 1, "sort": 2, "sum": 0,
                 "unique": 1, "min": 1, "max": 1, "map": None}  # fmt: skip


# Globals ---------------------------------------------------------------------------------------


def _range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_ITERATIONS:
        raise RenderLimit(
            f"range() of {len(values):,} numbers: at most {MAX_ITERATIONS:,} in a template"
        )
    return values


def iterate(value: Any, path: str) -> Iterator[Any]:
    """What every `{% for %}` loops over: counts each iteration against the budget."""
    if isinstance(value, int | float | bool) or value is None:
        raise LoopOverScalar(path, describe_value(value))
    budget = _budget.get()
    for item in value:
        if budget is not None:
            budget.step()
        yield item


def concat(parts: list[Any]) -> str:
    """The `~` operator, sized before the pieces are joined."""
    _tick()
    texts = [part if isinstance(part, str) else str(part) for part in parts]
    ensure_size(sum(map(len, texts)), "a ~ concatenation")
    return "".join(texts)


GUARD_NAMES = {"iterate": "_cx_iterate", "concat": "_cx_concat"}


# The environment ------------------------------------------------------------------------------


def describe_value(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "a value"


class PromptEnvironment(SandboxedEnvironment):
    """SandboxedEnvironment narrowed to JSON data, a fixed set of filters, and bounded work."""

    # Intercepting every operator also stops Jinja from folding them at compile time.
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self) -> None:
        super().__init__(
            undefined=Missing,
            autoescape=False,
            keep_trailing_newline=True,
            auto_reload=False,
            cache_size=0,
            finalize=self.finalize_output,
        )
        self.filters = {
            name: _guarded(name, filters.FILTERS[name], check)
            for name, check in _FILTER_CHECKS.items()
        }
        self.filters["join"] = _join
        self.tests = {name: tests.TESTS[name] for name in TESTS}
        self.globals = {
            "range": _range,
            "dict": dict,
            GUARD_NAMES["iterate"]: iterate,
            GUARD_NAMES["concat"]: concat,
        }
        self._callables = frozenset(map(id, (_range, dict, iterate, concat)))

    def finalize_output(self, value: Any) -> Any:
        """What `{{ … }}` prints: JSON-like data only."""
        if isinstance(value, PRINTABLE) or value is None:
            return value
        raise SecurityError(f"{describe_value(value)} cannot be printed")

    def call_binop(self, context, operator_: str, left: Any, right: Any) -> Any:
        _tick()
        check = _BINOP_CHECKS.get(operator_)
        if check is not None:
            check(left, right)
        return _bounded(self.binop_table[operator_](left, right), f"the {operator_} operator")

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        if isinstance(obj, Undefined):
            return getattr(obj, attribute)
        if isinstance(obj, Mapping):
            return self._key(obj, attribute)
        if isinstance(obj, LoopContext) and attribute in LOOP_FIELDS:
            return getattr(obj, attribute)
        return self.undefined(
            f"{describe_value(obj)} has no field {attribute!r}", obj=obj, name=attribute
        )

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Undefined):
            return obj[argument]
        if isinstance(obj, Mapping):
            return self._key(obj, argument)
        if isinstance(obj, str | list | tuple) and isinstance(argument, int | slice):
            try:
                return obj[argument]
            except IndexError:
                return self.undefined(
                    f"index {argument} is out of range ({describe_value(obj)} of {len(obj)})",
                    obj=obj,
                    name=str(argument),
                )
            except TypeError:  # a slice with non-integer bounds
                pass
        return self.undefined(
            f"{describe_value(obj)} cannot be indexed with {argument!r}", obj=obj, name=argument
        )

    def _key(self, obj: Mapping, key: Any) -> Any:
        try:
            return obj[key]
        except (KeyError, TypeError):
            return self.undefined(obj=obj, name=key)

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick()
        allowed = (
            id(__obj) in __self._callables
            or isinstance(__obj, Undefined)
            or (
                inspect.ismethod(__obj)
                and isinstance(__obj.__self__, LoopContext)
                and __obj.__name__ in LOOP_METHODS
            )
        )
        if not allowed:
            raise SecurityError("templates may only call range(), dict() and loop.cycle()")
        return _bounded(__context.call(__obj, *args, **kwargs), "a call")
