"""Hostile templates, as a class: escapes are refused when checked and when rendered, and every
resource bomb stops at a bound with a clear error (prompts.sandbox, prompts.rendering)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompts import checking, rendering, sandbox
from prompts.checking import TemplateInvalid
from prompts.rendering import RenderFailure

# Ways in that the Jinja sandbox literature and CVEs describe, spelled every way Jinja allows.
ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''['__class__'] }}",
    "{{ ''|attr('__class__') }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__class__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ loop.__class__ }}",
    "{% for x in range(1) %}{{ loop.__init__ }}{% endfor %}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ '{0.__class__.__base__}'.format_map({}) }}",
    "{{ name.format(name) }}",
    "{{ (name.format)('{0.__class__}') }}",
    "{{ x|map(attribute='__class__')|list }}",
    "{{ x|selectattr('__class__')|list }}",
    "{{ x|map('attr', '__class__')|list }}",
    "{{ x|sort(attribute='__class__') }}",
    "{{ name.__len__() }}",
    "{{ name.upper() }}",
    "{{ name.encode('utf-8') }}",
    "{{ x.pop() }}",
    "{{ [].append.__self__ }}",
    "{{ x.items() }}",
    "{% set f = name.format %}{{ f('{0.__class__}') }}",
    "{% macro m() %}{% endmacro %}{{ m.__globals__ }}",
    "{% call dict() %}{% endcall %}",
    "{% import 'os' as os %}",
    "{% from 'x' import y %}",
    "{% include 'x' %}",
    "{% extends 'x' %}",
    "{% block b %}{% endblock %}",
    "{% set x %}{{ 1 }}{% endset %}",
    "{% filter upper %}x{% endfilter %}",
    "{% set ns = namespace(a=1) %}",
    "{% set ns.a = 1 %}",
    "{% autoescape false %}x{% endautoescape %}",
    "{{ x|random }}",
    "{{ x|safe }}",
    "{{ x|pprint }}",
    "{{ x|xmlattr }}",
    "{{ x|batch(3) }}",
    "{{ _private }}",
    "{{ x._private }}",
    "{{ range(*x) }}",
    "{{ dict(**x) }}",
    "{% for a in x recursive %}{{ loop(a) }}{% endfor %}",
]
LEAKS = (
    "<class",
    "<function",
    "<built-in",
    "<module",
    "<bound",
    " at 0x",
    "<generator",
    "<Loop",
    "<jinja2",
    "<prompts",
)


def render(source: str, variables: dict | None = None, **budget) -> str:
    return rendering.render(
        rendering.plain(source), variables or {}, budget=sandbox.Budget(**budget)
    )


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_refused_when_checked_with_the_line_and_a_reason(source):
    with pytest.raises(TemplateInvalid) as caught:
        checking.check(source)
    problem = caught.value.problems[0]
    assert problem.line == 1
    assert problem.message  # a reason a person can act on, e.g. "… reach Python internals"


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_refused_at_render_too(source):
    # Rendering checks again (a stored version may predate a rule): nothing is evaluated.
    with pytest.raises(TemplateInvalid):
        render(source, {"name": "Ann", "x": [{"a": 1}]})


def test_format_string_tricks_say_why():
    with pytest.raises(TemplateInvalid, match="format strings can reach Python internals"):
        checking.check("{{ '{0.__class__}'.format(1) }}")


def test_dunder_fields_say_sandbox():
    with pytest.raises(TemplateInvalid, match=r"'__globals__'.*sandbox"):
        checking.check("{{ cycler.__init__.__globals__ }}")


def test_every_problem_of_a_template_is_listed_with_its_line():
    with pytest.raises(TemplateInvalid) as caught:
        checking.check("fine\n{{ a.__class__ }}\n{{ b|nope }}\n{{ c.upper() }}")
    assert sorted(p.line for p in caught.value.problems) == [2, 3, 4]


@pytest.mark.parametrize(
    "key", ["__class__", "__init__", "__globals__", "mro", "format", "gi_frame", "func_globals"]
)
def test_data_keys_named_like_internals_are_only_data(key):
    # A key looked up dynamically reads the object's own keys, never a Python attribute.
    with pytest.raises(RenderFailure, match=f"has no key '{key}'"):
        render("{{ d[k] }}", {"d": {"a": 1}, "k": key})
    assert render("{{ d[k] }}", {"d": {key: "plain"}, "k": key}) == "plain"


def test_fields_of_text_and_lists_are_not_python_attributes():
    with pytest.raises(RenderFailure, match="text has no field 'upper'"):
        render("{{ name.upper }}", {"name": "ann"})
    with pytest.raises(RenderFailure, match="a list has no field 'pop'"):
        render("{{ items.pop }}", {"items": [1]})


# Property: whatever chain of names, fields, keys, filters and calls a template is built from,
# it is refused, fails with our error, or renders text that shows no Python object.

NAMES = ["name", "items", "obj", "range", "dict", "loop", "cycler", "self", "few_shot", "x"]
FIELDS = [
    "__class__",
    "__mro__",
    "__subclasses__",
    "__globals__",
    "__init__",
    "__dict__",
    "__builtins__",
    "format",
    "format_map",
    "mro",
    "gi_frame",
    "upper",
    "items",
    "keys",
    "title",
    "a",
    "b",
    "0",
    "_x",
    "func_globals",
    "f_back",
    "__self__",
    "append",
]
FILTERS = [
    "upper",
    "attr",
    "map",
    "join",
    "list",
    "string",
    "tojson",
    "first",
    "sort",
    "items",
    "length",
    "format",
    "replace",
    "center",
    "default",
    "selectattr",
    "safe",
    "e",
]


@st.composite
def expressions(draw) -> str:
    expr = draw(st.sampled_from(NAMES))
    for _ in range(draw(st.integers(0, 4))):
        step = draw(st.sampled_from(["field", "key", "filter", "call"]))
        field = draw(st.sampled_from(FIELDS))
        if step == "field":
            expr += f".{field}" if field.isidentifier() else f"[{field}]"
        elif step == "key":
            expr += f"[{field!r}]"
        elif step == "filter":
            expr += f"|{draw(st.sampled_from(FILTERS))}({field!r})"
        else:
            expr += (
                "("
                + ", ".join(draw(st.lists(st.sampled_from(["1", repr(field)]), max_size=2)))
                + ")"
            )
    return expr


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_no_expression_reaches_a_python_object(expression):
    variables = {"name": "Ann", "items": [1, 2], "obj": {"a": {"b": "c"}}, "x": "y"}
    source = f"{{% for i in items %}}{{{{ {expression} }}}}{{% endfor %}}"
    try:
        output = render(source, variables)
    except (TemplateInvalid, RenderFailure):
        return
    assert not any(leak in output for leak in LEAKS), output


# Bounds ----------------------------------------------------------------------------------------

BOMBS = [
    ("{% for i in range(10**9) %}x{% endfor %}", "range()"),
    ("{% for i in range(1000000000) %}{% endfor %}", "range()"),
    (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "iterations",
    ),
    (
        "{% for a in items %}{% for b in items %}{% for c in items %}{% endfor %}{% endfor %}"
        "{% endfor %}",
        "iterations",
    ),
    ("{{ 'a' * 1000000000 }}", "longer than"),
    ("{{ 'a' * 10**9 }}", "longer than"),
    ("{{ 1000000000 * 'a' }}", "longer than"),
    ("{{ [1] * 10**9 }}", "longer than"),
    ("{{ 'a' * n }}", "longer than"),
    ("{{ 10 ** 100000 }}", "bits"),
    ("{{ n ** n }}", "bits"),
    ("{{ 2 ** 5000 * 2 ** 5000 }}", "bits"),
    ("{% set a = big ~ big %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c ~ c }}", "longer than"),
    ("{{ big + big + big + big + big + big }}", "longer than"),
    ("{{ 'x'|center(10**9) }}", "|center"),
    ("{{ 'x'|center(1000000000) }}", "|center"),
    ("{{ lines|indent(100000) }}", "|indent"),
    ("{{ big|wordwrap(1, wrapstring=big) }}", "|wordwrap"),
    ("{{ big|replace('', big) }}", "|replace"),
    ("{{ [big, big, big, big, big, big]|join }}", "|join"),
    ("{{ items|map('string')|join(big) }}", "|join"),
    ("{{ '%999999999s' % 'x' }}", "widths"),
    ("{{ '%*s' % (1000000000, 'x') }}", "'*'"),
    ("{{ '%.999999999f' % 1 }}", "widths"),
    ("{{ '%999999999s'|format('x') }}", "widths"),
    ("{{ x|tojson(indent=1000000) }}", "indents"),
    ("{% for i in range(100000) %}{{ big }}{% endfor %}", "output"),
    ("{{ range(100000)|list }}{{ range(100000)|list }}", "output"),
]
BOMB_VARIABLES = {
    "items": list(range(100)),
    "n": 10**9,
    "big": "b" * 200_000,
    "lines": "a\n" * 10_000,
    "x": {"a": [1, 2, 3]},
}


@pytest.mark.parametrize(("source", "reason"), BOMBS)
def test_resource_bombs_stop_at_a_bound_quickly(source, reason):
    started = time.perf_counter()
    with pytest.raises(RenderFailure) as caught:
        render(source, BOMB_VARIABLES)
    assert time.perf_counter() - started < 3
    assert reason in caught.value.message


def test_the_deadline_stops_slow_work_that_stays_within_the_other_bounds():
    slow = "{% for i in range(100000) %}{{ big|upper|length }}{% endfor %}"
    with pytest.raises(RenderFailure, match="longer than 0.05 s"):
        render(slow, {"big": "x" * 50_000}, seconds=0.05)


def test_work_within_the_bounds_renders():
    source = "{% for i in range(1000) %}{{ loop.index }}{% endfor %}|{{ 'ab' * 3 }}|{{ 2 ** 10 }}"
    out = render(source)
    assert out.endswith("|ababab|1024") and out.startswith("12345")


def test_budget_is_shared_by_every_template_of_one_render():
    budget = sandbox.Budget(iterations=150)
    source = rendering.plain("{% for i in range(100) %}{% endfor %}")
    rendering.render(source, {}, budget=budget)
    with pytest.raises(RenderFailure, match="150 iterations"):
        rendering.render(source, {}, budget=budget)


@pytest.mark.parametrize(
    "source",
    [
        "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",  # deeper than Python's stack
        "{{ 1" + "0" * 6000 + " }}",  # a number literal Python refuses to convert
        "{% if %}",
        "{{ }",
        "{% for %}",
        "\x00{{ \x00 }}",
        "{{ a }" * 10_000,
        "x" * (sandbox.MAX_SOURCE_CHARS + 1),
    ],
)
def test_unparsable_templates_are_refused_cleanly(source):
    with pytest.raises(TemplateInvalid):
        checking.check(source)
