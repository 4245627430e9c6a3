"""Checking prompt templates before they run (pure, no Django).

`check` parses a template with the registry's environment and refuses, with the line and the
reason, everything the sandbox would refuse at render time: fields starting with `_`, method
calls (`.format()` included), macros, imports, includes, blocks, unknown filters and tests,
`range`/`dict`/`loop` used as values … so a version that saved cleanly can only fail on its
variables. It also reads `{% include_prompt "slug" %}` references (optionally
`label="staging"` or `version=3`; the default label is `production`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.ext import Extension

from prompts import sandbox
from prompts.sandbox import MAX_SOURCE_CHARS, RenderLimit

DEFAULT_LABEL = "production"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
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
INCLUDE_TAG = re.compile(
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
    check = _NODE_CHECKS.get(type(node))
    return check(node) if check else None


def _check_name(node: nodes.Name) -> str | None:
    if node.name.startswith("_"):
        return f"'{node.name}': names starting with '_' are reserved"
    if node.name in RESERVED_NAMES:
        return f"'{node.name}' is not available in prompt templates"
    return None


def _check_getattr(node: nodes.Getattr) -> str | None:
    return _internal(node.attr) if node.attr.startswith("_") else None


def _check_getitem(node: nodes.Getitem) -> str | None:
    return _internal(node.arg.value) if _const_str(node.arg, "").startswith("_") else None


def _check_for(node: nodes.For) -> str | None:
    return "recursive loops are not supported" if node.recursive else None


def _check_extension(node: nodes.ExtensionAttribute) -> str | None:
    return "extensions are not supported" if node.identifier != _INCLUDE_ID else None


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


_NODE_CHECKS = {
    nodes.Name: _check_name,
    nodes.Getattr: _check_getattr,
    nodes.Getitem: _check_getitem,
    nodes.Filter: _check_filter_or_test,
    nodes.Test: _check_filter_or_test,
    nodes.Call: _check_call,
    nodes.For: _check_for,
    nodes.ExtensionAttribute: _check_extension,
}


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
    written = [match["slug"] for match in INCLUDE_TAG.finditer(source)]
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


def references_in(ast: nodes.Template) -> list[Reference]:
    """Every include_prompt tag of a checked template, in source order."""
    return [_reference(call) for call in ast.find_all(nodes.Call) if _is_include(call)]
