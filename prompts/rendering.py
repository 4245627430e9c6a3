"""Prompt templates: checking, analysis, prompt references and rendering (pure, no Django).

A template is Jinja2 source run in `sandbox.PromptEnvironment`. `check` refuses, with the line and
the reason, everything the sandbox would refuse at render time (fields starting with `_`, method
calls, macros, imports, unknown filters …), so a version that saved cleanly can only fail on its
variables. `{% include_prompt "slug" %}` (optionally `label="staging"` or `version=3`; the
default label is `production`) references a text prompt of the same team: `inline` splices the
referenced source in before rendering, so the included text sees the same variables and a
service that renders the resolved prompt with plain Jinja2 gets the same output.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.ext import Extension
from jinja2.sandbox import SecurityError
from jinja2.visitor import NodeTransformer

from prompts import sandbox
from prompts.sandbox import MAX_SOURCE_CHARS, RenderLimit, UndefinedUse

DEFAULT_LABEL = "production"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Provided by Crossover, never by the caller: `few_shot` is the version's examples.
PROVIDED = frozenset({"few_shot"})
BUILTIN_NAMES = frozenset({"range", "dict", "loop"})
RESERVED_NAMES = frozenset(
    {"self", "caller", "varargs", "kwargs", "namespace", "lipsum", "cycler", "joiner"}
)
_UNSUPPORTED = {
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %} blocks (apply the filter to an expression instead)",
    nodes.AssignBlock: "{% set %}…{% endset %} blocks (use {% set name = … %})",
    nodes.Include: '{% include %} (use {% include_prompt "slug" %})',
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.NSRef: "namespace assignments",
    nodes.ScopedEvalContextModifier: "{% autoescape %}",
    nodes.EvalContextModifier: "{% autoescape %}",
    nodes.ExprStmt: "{% do %}",
    nodes.Scope: "{% autoescape %}",
}
_ALLOWED = (
    nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name, nodes.Getattr, nodes.Getitem,
    nodes.Slice, nodes.Filter, nodes.Test, nodes.CondExpr, nodes.And, nodes.Or, nodes.Not,
    nodes.Neg, nodes.Pos, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod,
    nodes.Pow, nodes.Compare, nodes.Operand, nodes.Concat, nodes.List, nodes.Tuple, nodes.Dict,
    nodes.Pair, nodes.Keyword, nodes.Call, nodes.For, nodes.If, nodes.Assign, nodes.With,
    nodes.ExtensionAttribute,
)  # fmt: skip
_INCLUDE_TAG = re.compile(
    r"\{%(?P<left>[-+]?)\s*include_prompt\s+(?P<quote>[\"'])(?P<slug>.*?)(?P=quote)"
    r"(?P<args>.*?)(?P<right>[-+]?)%\}",
    re.S,
)


@dataclass(frozen=True)
class Reference:
    """`{% include_prompt "slug" label="…" %}` or `… version=N %}`."""

    slug: str
    label: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.slug} v{self.version}"
        return f"{self.slug}@{self.label}"


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class TemplateInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class Analysis:
    variables: tuple[str, ...]  # every variable the caller may give, sorted
    required: frozenset[str]  # used outside any condition or loop: must be given
    references: tuple[Reference, ...]
    uses_few_shot: bool
    static_text: str  # what is sent whatever the variables (see static_text)
    names_by_line: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


class _IncludePrompt(Extension):
    tags = {"include_prompt"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        slug = parser.stream.expect("string").value
        options: dict[str, Any] = {}
        while parser.stream.current.type != "block_end":
            parser.stream.skip_if("comma")
            key = parser.stream.expect("name")
            parser.stream.expect("assign")
            if key.value == "label" and "label" not in options:
                options["label"] = parser.stream.expect("string").value
            elif key.value == "version" and "version" not in options:
                options["version"] = parser.stream.expect("integer").value
            else:
                parser.fail('include_prompt takes label="…" or version=N', key.lineno)
        if len(options) > 1:
            parser.fail("include_prompt takes label or version, not both", lineno)
        args = [nodes.Const(slug), nodes.Const(options.get("label")),
                nodes.Const(options.get("version"))]  # fmt: skip
        return nodes.Output([self.call_method("_unresolved", args)], lineno=lineno)

    def _unresolved(self, slug, label, version):
        raise RenderLimit(f"{Reference(slug, label, version)} was not resolved before rendering")


class _Environment(sandbox.PromptEnvironment):
    def __init__(self) -> None:
        super().__init__()
        self.add_extension(_IncludePrompt)


ENV = _Environment()
_INCLUDE_ID = _IncludePrompt.identifier


# Checking ---------------------------------------------------------------------------------------


def _parse(source: str, limit: int = MAX_SOURCE_CHARS) -> nodes.Template:
    if len(source) > limit:
        raise TemplateInvalid([Problem(f"longer than {limit:,} characters")])
    try:
        return ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid([Problem(exc.message or "syntax error", exc.lineno)]) from None
    except (RecursionError, ValueError, OverflowError, MemoryError) as exc:
        # Jinja's own limits: nesting deeper than Python's stack, number literals too long.
        message = f"could not parse the template ({exc.__class__.__name__}: {exc})"
        raise TemplateInvalid([Problem(message[:300])]) from None


def _is_include(node: nodes.Call) -> bool:
    callee = node.node
    return isinstance(callee, nodes.ExtensionAttribute) and callee.identifier == _INCLUDE_ID


def _reference(node: nodes.Call) -> Reference:
    slug, label, version = (arg.value for arg in node.args)
    if label is None and version is None:
        label = DEFAULT_LABEL
    return Reference(slug, label, version)


def _check_node(node: nodes.Node) -> str | None:
    """Why `node` is not allowed in a prompt template, or None."""
    if not isinstance(node, _ALLOWED):
        return f"{_UNSUPPORTED.get(type(node), type(node).__name__)} is not supported"
    if isinstance(node, nodes.Name):
        if node.name.startswith("_"):
            return f"'{node.name}': names starting with '_' are reserved"
        if node.name in RESERVED_NAMES:
            return f"'{node.name}' is not available in prompt templates"
    elif isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return _internal(node.attr)
    elif isinstance(node, nodes.Getitem) and _const_str(node.arg, "").startswith("_"):
        return _internal(node.arg.value)
    elif isinstance(node, nodes.Filter | nodes.Test):
        return _check_filter_or_test(node)
    elif isinstance(node, nodes.Call):
        return _check_call(node)
    elif isinstance(node, nodes.For) and node.recursive:
        return "recursive loops are not supported"
    elif isinstance(node, nodes.ExtensionAttribute) and node.identifier != _INCLUDE_ID:
        return "extensions are not supported"
    return None


def _with_parents(ast: nodes.Node):
    stack = [(child, ast) for child in ast.iter_child_nodes()]
    while stack:
        node, parent = stack.pop(0)
        yield node, parent
        stack[:0] = [(child, node) for child in node.iter_child_nodes()]


def _line(node: nodes.Node) -> int | None:
    while node.lineno is None:
        node = next(node.iter_child_nodes(), None)
        if node is None:
            return None
    return node.lineno


def _check_bare(node: nodes.Node, parent: nodes.Node) -> str | None:
    """range, dict and loop's methods are there to be called, and loop to be read field by
    field: used as values they would print Python objects."""
    called = isinstance(parent, nodes.Call) and parent.node is node
    if isinstance(node, nodes.Name) and node.ctx == "load":
        if node.name in ("range", "dict") and not called:
            return f"'{node.name}' can only be called, e.g. {node.name}(…)"
        if node.name == "loop" and not isinstance(parent, nodes.Getattr):
            return "'loop' is read through its fields: loop.index, loop.first, loop.length …"
    if (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "loop"
        and node.attr in sandbox.LOOP_METHODS
        and not called
    ):
        return f"'loop.{node.attr}' can only be called, e.g. loop.{node.attr}(…)"
    return None


def _internal(name: str) -> str:
    return f"'{name}': fields starting with '_' reach Python internals and are refused (sandbox)"


def _const_str(node: nodes.Node | None, default: str | None = None) -> str | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return node.value
    return default


def _check_filter_or_test(node: nodes.Filter | nodes.Test) -> str | None:
    kind = "filter" if isinstance(node, nodes.Filter) else "test"
    known = sandbox.FILTERS if kind == "filter" else sandbox.TESTS
    if node.name not in known:
        return f"unknown {kind} '{node.name}'"
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        return f"*args and **kwargs are not supported in the {node.name} {kind}"
    if kind == "filter":
        named = sandbox.FILTERS if node.name in sandbox.NAMED_FILTER_ARG else None
        position = 0 if named else sandbox.NAMED_TEST_ARG.get(node.name)
        if position is not None and len(node.args) > position:
            name = _const_str(node.args[position])
            if name is None or name not in (named or sandbox.TESTS):
                which = "filter" if named else "test"
                return f"|{node.name} needs the name of a known {which} written as a string"
        fields = [k.value for k in node.kwargs if k.key == "attribute"]
        at = sandbox.ATTRIBUTE_ARG.get(node.name)
        if at is not None and len(node.args) > at:
            fields.append(node.args[at])
        for value in fields:
            name = _const_str(value)
            if name is None or name.startswith("_"):
                return (f"|{node.name} needs a field name written as a string, not starting "
                        "with '_'")  # fmt: skip
    return None


def _check_call(node: nodes.Call) -> str | None:
    callee = node.node
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        return "*args and **kwargs are not supported"
    if _is_include(node):
        return None
    if isinstance(callee, nodes.Name) and callee.name in ("range", "dict"):
        return None
    if (
        isinstance(callee, nodes.Getattr)
        and isinstance(callee.node, nodes.Name)
        and callee.node.name == "loop"
        and callee.attr in sandbox.LOOP_METHODS
    ):
        return None
    if isinstance(callee, nodes.Getattr) and callee.attr in ("format", "format_map"):
        return (
            f"'.{callee.attr}()' is refused: format strings can reach Python internals "
            "(sandbox); use ~ or the |format filter"
        )
    if isinstance(callee, nodes.Getattr):
        return (
            f"'.{callee.attr}()': templates cannot call methods; use filters "
            "(|upper, |trim, |replace, |join …)"
        )
    return "templates may only call range(), dict(), loop.cycle() and loop.changed()"


def check(source: str, limit: int = MAX_SOURCE_CHARS) -> nodes.Template:
    """Parse and check `source`; raises TemplateInvalid listing every problem with its line."""
    ast = _parse(source, limit)
    problems = []
    for node, parent in _with_parents(ast):
        reason = _check_node(node) or _check_bare(node, parent)
        if reason:
            problems.append(Problem(reason, _line(node)))
    if not problems:
        problems = _check_include_tags(source, ast)
    if problems:
        raise TemplateInvalid(problems)
    return ast


def _check_include_tags(source: str, ast: nodes.Template) -> list[Problem]:
    parsed = [_reference(call) for call in ast.find_all(nodes.Call) if _is_include(call)]
    written = [match["slug"] for match in _INCLUDE_TAG.finditer(source)]
    problems = [
        Problem(f"'{ref.slug}' is not a template slug (lowercase letters, digits, hyphens)")
        for ref in parsed
        if not SLUG_RE.match(ref.slug)
    ]
    problems += [
        Problem(f"include_prompt {ref}: a label is a slug (lowercase letters, digits, hyphens)")
        for ref in parsed
        if ref.label is not None and not SLUG_RE.match(ref.label)
    ]
    problems += [
        Problem(f"include_prompt {ref.slug}: versions start at 1")
        for ref in parsed
        if ref.version is not None and ref.version < 1
    ]
    if [ref.slug for ref in parsed] != written:
        # `inline` splices by these tags: one inside a comment, raw block or string would
        # splice where Jinja does not include.
        problems.append(
            Problem(
                "write include_prompt only as a tag of its own, not inside a comment, a "
                "raw block or a string"
            )  # fmt: skip
        )
    return problems


# Analysis ---------------------------------------------------------------------------------------


def analyze(source: str) -> Analysis:
    """Check a template as written and describe it; raises TemplateInvalid."""
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateInvalid([Problem(f"longer than {MAX_SOURCE_CHARS:,} characters")])
    return _compiled(source).analysis


def analyze_inlined(inlined: Inlined) -> Analysis:
    """The analysis of a template with its references spliced in (checked again: refused at
    render as at save)."""
    return _compiled(inlined.text).analysis


def _analysis(ast: nodes.Template) -> Analysis:
    try:
        undeclared = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid([Problem(exc.message or "invalid template", exc.lineno)]) from None
    variables = frozenset(undeclared - BUILTIN_NAMES - PROVIDED)
    required: set[str] = set()
    _collect_required(ast, variables, required, conditional=False, guarded=False)
    by_line: dict[int, set[str]] = {}
    for name in ast.find_all(nodes.Name):
        if name.ctx == "load" and name.name in variables:
            by_line.setdefault(name.lineno, set()).add(name.name)
    references = tuple(_reference(call) for call in ast.find_all(nodes.Call) if _is_include(call))
    return Analysis(
        variables=tuple(sorted(variables)),
        required=frozenset(required),
        references=tuple(dict.fromkeys(references)),
        uses_few_shot="few_shot" in undeclared,
        static_text=static_text(ast),
        names_by_line={line: tuple(sorted(names)) for line, names in by_line.items()},
    )


def _collect_required(node, variables, required, *, conditional: bool, guarded: bool) -> None:
    """Variables whose absence fails every render: used outside conditions and loop bodies."""

    def visit(child, in_condition=conditional, is_guarded=False):
        _collect_required(child, variables, required, conditional=in_condition,
                          guarded=is_guarded)  # fmt: skip

    if isinstance(node, nodes.Name):
        if node.ctx == "load" and node.name in variables and not (conditional or guarded):
            required.add(node.name)
        return
    if isinstance(node, nodes.If):
        visit(node.test)
        for child in [*node.body, *node.elif_, *node.else_]:
            visit(child, True)
    elif isinstance(node, nodes.For):
        visit(node.iter)
        for child in [node.test, *node.body, *node.else_]:
            if child is not None:
                visit(child, True)
    elif isinstance(node, nodes.CondExpr):
        visit(node.test)
        for child in (node.expr1, node.expr2):
            if child is not None:
                visit(child, True)
    elif isinstance(node, nodes.And | nodes.Or):
        visit(node.left)
        visit(node.right, True)
    elif (isinstance(node, nodes.Test) and node.name in ("defined", "undefined")) or (
        isinstance(node, nodes.Filter) and node.name in ("default", "d")
    ):
        visit(node.node, conditional, True)
        for child in [*node.args, *node.kwargs]:
            visit(child)
    else:
        for child in node.iter_child_nodes():
            visit(child)


def static_text(ast: nodes.Node) -> str:
    """The literal text of a template: what is sent whatever the variables are.

    `{{ … }}` contributes nothing, a loop body counts once and a condition its longest branch,
    so the figure is the fixed overhead every request pays.
    """
    if isinstance(ast, nodes.TemplateData):
        return ast.data
    if isinstance(ast, nodes.If):
        branches = [node.body for node in [ast, *ast.elif_]] + [ast.else_]
        return max((_joined(branch) for branch in branches), key=len)
    if isinstance(ast, nodes.For):
        return max(_joined(ast.body), _joined(ast.else_), key=len)
    if isinstance(ast, nodes.Expr):
        return ""
    return _joined(ast.iter_child_nodes())


def _joined(children: Iterable[nodes.Node]) -> str:
    return "".join(static_text(child) for child in children)


# References -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inlined:
    """A template with its references spliced in; `pieces` map its lines back to their origin."""

    text: str
    pieces: tuple[tuple[str, str, int], ...]  # (text, origin or "" for the template itself, line)

    def origin(self, line: int) -> tuple[str, int]:
        """(origin, line there) of line `line`: the first piece with text on that line."""
        at = 1
        for text, origin, first in self.pieces:
            segments = text.split("\n")
            offset = line - at
            # Splice markers (first == 0) have no line of their own.
            if first and 0 <= offset < len(segments) and segments[offset].strip():
                return origin, first + offset
            at += len(segments) - 1
        return "", line


def plain(source: str) -> Inlined:
    return Inlined(source, ((source, "", 1),))


def inline(source: str, resolved: Mapping[Reference, tuple[str, Inlined]]) -> Inlined:
    """Splice each `{% include_prompt %}` of `source` with its resolved text.

    `resolved` maps each reference to (a name for messages, e.g. "tone v4", its own inlined
    text). Whitespace control on the tag (`{%- … -%}`) keeps its meaning.
    """
    pieces: list[tuple[str, str, int]] = []
    position = 0
    tags = _compiled(source).tags
    for match, ref in zip(_INCLUDE_TAG.finditer(source), tags, strict=True):
        name, included = resolved[ref]
        before = source[position : match.start()]
        pieces.append((before, "", source.count("\n", 0, position) + 1))
        left, right = match["left"], match["right"]
        if left or right:
            pieces.append((f"{{%{left} if true %}}", "", 0))
        pieces.extend((text, origin or name, line) for text, origin, line in included.pieces)
        if left or right:
            pieces.append((f"{{% endif {right}%}}", "", 0))
        position = match.end()
    pieces.append((source[position:], "", source.count("\n", 0, position) + 1))
    return Inlined("".join(text for text, _, _ in pieces), tuple(pieces))


# Rendering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    template: Any
    analysis: Analysis
    tags: tuple[Reference, ...]  # every include_prompt tag in source order


class _Guard(NodeTransformer):
    """Route loops and `~` through the sandbox's budgeted helpers."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        node.iter = _helper("iterate", [node.iter, nodes.Const(_expression(node.iter))], node)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        node = self.generic_visit(node)
        return _helper("concat", [nodes.List(node.nodes, lineno=node.lineno)], node)


def _helper(name: str, args: list[nodes.Expr], near: nodes.Node) -> nodes.Call:
    callee = nodes.Name(sandbox.GUARD_NAMES[name], "load", lineno=near.lineno)
    return nodes.Call(callee, args, [], None, None, lineno=near.lineno)


def _expression(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_expression(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_expression(node.node)}[{node.arg.value!r}]"
    return "the loop's value"


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> _Compiled:
    ast = check(source, sandbox.MAX_OUTPUT_CHARS)
    analysis = _analysis(ast)
    tags = tuple(_reference(call) for call in ast.find_all(nodes.Call) if _is_include(call))
    guarded = _Guard().visit(ast)
    guarded.set_environment(ENV)
    return _Compiled(ENV.from_string(guarded), analysis, tags)


@dataclass(frozen=True)
class RenderFailure(Exception):
    field: str  # e.g. "variables.ticket.customer", "variables.items.2"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def render(inlined: Inlined, variables: Mapping[str, Any], *, budget: sandbox.Budget,
           where: str = "template") -> str:  # fmt: skip
    """Render a checked, inlined template under `budget`; raises RenderFailure naming what
    to fix (a variable when one is at fault) or TemplateInvalid."""
    compiled = _compiled(inlined.text)
    token = sandbox.use_budget(budget)
    try:
        chunks = []
        for chunk in compiled.template.generate(variables):
            budget.emit(len(chunk))
            chunks.append(chunk)
        return "".join(chunks)
    except Exception as exc:  # noqa: BLE001 - any failure of a user template is the user's to fix
        raise _failure(exc, compiled.analysis, inlined, variables, where) from None
    finally:
        sandbox.release_budget(token)


def _failure(exc, analysis, inlined, variables, where) -> RenderFailure:
    line = _template_line(exc)
    origin, origin_line = inlined.origin(line) if line else ("", None)
    at = f"{where}, line {origin_line}" if origin_line else where
    if origin:
        at += f" of the included prompt {origin}"
    if isinstance(exc, UndefinedUse):
        return _undefined_failure(exc, variables, at)
    names = analysis.names_by_line.get(line, ()) if line else ()
    field_name = f"variables.{names[0]}" if len(names) == 1 else "variables"
    if isinstance(exc, sandbox.LoopOverScalar):
        root = exc.path.split(".")[0].split("[")[0]
        field_name = f"variables.{exc.path}" if root in analysis.variables else "variables"
    elif isinstance(exc, RenderLimit | SecurityError):
        field_name = where
    uses = f" (uses {', '.join(names)})" if names and field_name == "variables" else ""
    return RenderFailure(field_name, f"{at}: {_describe(exc)}{uses}")


def _undefined_failure(exc: UndefinedUse, variables: Mapping[str, Any], at: str):
    name = exc.name
    if exc.obj is sandbox.missing:
        if name == "loop":
            return RenderFailure("variables", f"{at}: 'loop' exists only inside a for loop")
        return RenderFailure(f"variables.{name}", f"{at}: the template uses '{name}', which "
                             "was not given")  # fmt: skip
    path = _find(variables, exc.obj)
    if exc.hint:
        return RenderFailure(path or "variables", f"{at}: {path or 'a value'}: {exc.hint}")
    key = name if isinstance(name, str) else repr(name)
    return RenderFailure(
        f"{path}.{key}" if path else "variables",
        f"{at}: {path or 'an object'} has no key {key!r}",
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, RenderLimit | SecurityError | TemplateSyntaxError | sandbox.LoopOverScalar):
        return str(exc)
    return f"{exc.__class__.__name__}: {exc}"[:500]


def _template_line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _find(variables: Mapping[str, Any], target: Any, limit: int = 100_000) -> str | None:
    """The path (variables.a.b.2) of the object `target` inside `variables`, by identity."""
    queue = deque((value, f"variables.{key}") for key, value in variables.items())
    seen = 0
    while queue and seen < limit:
        value, path = queue.popleft()
        seen += 1
        if value is target:
            return path
        if isinstance(value, Mapping):
            queue.extend((child, f"{path}.{key}") for key, child in value.items())
        elif isinstance(value, list | tuple):
            queue.extend((child, f"{path}.{i}") for i, child in enumerate(value))
    return None
