"""Prompt templates: analysis, prompt references and rendering (pure, no Django).

A template is Jinja2 source run in `sandbox.PromptEnvironment`, checked first by
`checking.check`. `inline` splices each `{% include_prompt %}` with the referenced text prompt
before rendering, so the included text sees the same variables and a service that renders the
resolved prompt with plain Jinja2 gets the same output.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SecurityError
from jinja2.visitor import NodeTransformer

from prompts import sandbox
from prompts.checking import (
    ENV,
    INCLUDE_TAG,
    Problem,
    Reference,
    TemplateInvalid,
    check,
    references_in,
)
from prompts.sandbox import MAX_SOURCE_CHARS, RenderLimit, UndefinedUse

# Provided by Crossover, never by the caller: `few_shot` is the version's examples.
PROVIDED = frozenset({"few_shot"})
BUILTIN_NAMES = frozenset({"range", "dict", "loop"})


@dataclass(frozen=True)
class Analysis:
    variables: tuple[str, ...]  # every variable the caller may give, sorted
    required: frozenset[str]  # used outside any condition or loop: must be given
    references: tuple[Reference, ...]
    uses_few_shot: bool
    static_text: str  # what is sent whatever the variables (see static_text)
    names_by_line: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


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
    required = _collect_required(ast, variables)
    by_line: dict[int, set[str]] = {}
    for name in ast.find_all(nodes.Name):
        if name.ctx == "load" and name.name in variables:
            by_line.setdefault(name.lineno, set()).add(name.name)
    references = tuple(references_in(ast))
    return Analysis(
        variables=tuple(sorted(variables)),
        required=frozenset(required),
        references=tuple(dict.fromkeys(references)),
        uses_few_shot="few_shot" in undeclared,
        static_text=static_text(ast),
        names_by_line={line: tuple(sorted(names)) for line, names in by_line.items()},
    )


def _collect_required(ast: nodes.Node, variables: frozenset[str]) -> set[str]:
    """Variables whose absence fails every render: used outside conditions and loop bodies,
    and not guarded by `is defined` or `|default`."""
    required: set[str] = set()
    stack = [(ast, False, False)]
    while stack:
        node, conditional, guarded = stack.pop()
        if isinstance(node, nodes.Name):
            if node.ctx == "load" and node.name in variables and not (conditional or guarded):
                required.add(node.name)
            continue
        stack.extend(
            (child, conditional or in_condition, is_guard)
            for child, in_condition, is_guard in _children(node)
        )
    return required


def _children(node: nodes.Node) -> list[tuple[nodes.Node, bool, bool]]:
    """(child, runs only under a condition, is the guarded name) for each child of `node`."""
    if isinstance(node, nodes.If):
        return [(node.test, False, False),
                *_conditional([*node.body, *node.elif_, *node.else_])]  # fmt: skip
    if isinstance(node, nodes.For):
        return [(node.iter, False, False), *_conditional([node.test, *node.body, *node.else_])]
    if isinstance(node, nodes.CondExpr):
        return [(node.test, False, False), *_conditional([node.expr1, node.expr2])]
    if isinstance(node, nodes.And | nodes.Or):
        return [(node.left, False, False), (node.right, True, False)]
    if _is_guard(node):
        return [(node.node, False, True), *((c, False, False) for c in [*node.args, *node.kwargs])]
    return [(child, False, False) for child in node.iter_child_nodes()]


def _conditional(children) -> list[tuple[nodes.Node, bool, bool]]:
    return [(child, True, False) for child in children if child is not None]


def _is_guard(node: nodes.Node) -> bool:
    return (isinstance(node, nodes.Test) and node.name in ("defined", "undefined")) or (
        isinstance(node, nodes.Filter) and node.name in ("default", "d")
    )


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
    for match, ref in zip(INCLUDE_TAG.finditer(source), tags, strict=True):
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
    tags = tuple(references_in(ast))
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
