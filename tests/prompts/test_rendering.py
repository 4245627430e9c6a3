"""Template analysis, errors that name the variable, and prompt references spliced in
(prompts.rendering, pure)."""

from __future__ import annotations

import jinja2
import pytest

from prompts import checking, rendering, sandbox
from prompts.checking import Reference, TemplateInvalid
from prompts.rendering import RenderFailure


def render(source: str, variables: dict | None = None, *, where: str = "messages.0.content"):
    return rendering.render(
        rendering.plain(source), variables or {}, budget=sandbox.Budget(), where=where
    )


def failure(source: str, variables: dict | None = None) -> RenderFailure:
    with pytest.raises(RenderFailure) as caught:
        render(source, variables)
    return caught.value


# Analysis ---------------------------------------------------------------------------------------


def test_variables_are_the_names_the_caller_gives():
    analysis = rendering.analyze(
        "{% set greeting = 'Hi' %}{{ greeting }} {{ name }}\n"
        "{% for t in tickets %}{{ t.title }} {{ loop.index }}{% endfor %}\n"
        "{% for ex in few_shot %}{{ ex.input }}{% endfor %}{{ range(3)|list }}"
    )
    # Locals, loop variables, loop, range and the version's own few_shot are not asked for.
    assert analysis.variables == ("name", "tickets")
    assert analysis.uses_few_shot


def test_required_variables_are_those_used_outside_conditions_and_loop_bodies():
    analysis = rendering.analyze(
        "{{ name }}{% if vip %}{{ tier }}{% endif %}{{ nick|default('friend') }}"
        "{% if extra is defined %}{{ extra }}{% endif %}{% for t in tickets %}{{ row }}{% endfor %}"
        "{{ a if b else c }}{{ d and e }}"
    )
    assert analysis.required == {"name", "vip", "tickets", "b", "d"}
    assert set(analysis.variables) == {
        "name",
        "vip",
        "tier",
        "nick",
        "extra",
        "tickets",
        "row",
        "a",
        "b",
        "c",
        "d",
        "e",
    }


def test_static_text_is_the_literal_text_with_the_longest_branch_and_one_loop_body():
    analysis = rendering.analyze(
        "You classify.{% if short %} Be brief.{% else %} Explain every step you take.{% endif %}"
        "{% for t in items %} Item: {{ t }}.{% endfor %} Answer JSON: {{ schema }}"
    )
    assert analysis.static_text == (
        "You classify. Explain every step you take. Item: . Answer JSON: "
    )


def test_references_are_listed_once_with_production_as_the_default_label():
    analysis = rendering.analyze(
        '{% include_prompt "tone" %}{% include_prompt "tone" %}'
        '{% include_prompt "rules" label="staging" %}{% include_prompt "legal" version=3 %}'
    )
    assert analysis.references == (
        Reference("tone", "production"),
        Reference("rules", "staging"),
        Reference("legal", None, 3),
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('{% include_prompt "Tone Of Voice" %}', "not a template slug"),
        ('{% include_prompt "tone" label="Prod!" %}', "a label is a slug"),
        ('{% include_prompt "tone" version=0 %}', "versions start at 1"),
        ('{% include_prompt "tone" label="a" version=2 %}', "label or version, not both"),
        ('{% include_prompt "tone" colour="red" %}', 'label="…" or version=N'),
        ("{% include_prompt tone %}", "expected token 'string'"),
        ('{# {% include_prompt "tone" %} #}', "not inside a comment"),
        ('{% raw %}{% include_prompt "tone" %}{% endraw %}', "not inside a comment"),
        ("{{ '{% include_prompt \"tone\" %}' }}", "not inside a comment"),
    ],
)
def test_malformed_references_are_refused(source, message):
    with pytest.raises(TemplateInvalid, match=message):
        checking.check(source)


# Errors name the variable ---------------------------------------------------------------------


def test_a_missing_variable_names_it_with_the_line():
    error = failure("Hello\n{{ ticket }}")
    assert error.field == "variables.ticket"
    assert "messages.0.content, line 2" in error.message and "'ticket'" in error.message


def test_a_missing_key_names_its_path():
    error = failure("{{ ticket.customer.email }}", {"ticket": {"customer": {"name": "A"}}})
    assert error.field == "variables.ticket.customer.email"
    assert "variables.ticket.customer has no key 'email'" in error.message


def test_a_missing_key_inside_a_loop_names_the_item():
    error = failure(
        "{% for t in tickets %}{{ t.title }}{% endfor %}", {"tickets": [{"title": "a"}, {}]}
    )
    assert error.field == "variables.tickets.1.title"


def test_an_index_out_of_range_names_the_list():
    error = failure("{{ items[5] }}", {"items": [1, 2]})
    assert error.field == "variables.items"
    assert "index 5 is out of range (a list of 2)" in error.message


def test_a_loop_over_a_number_names_the_variable():
    error = failure("{% for x in count %}{% endfor %}", {"count": 3})
    assert error.field == "variables.count"
    assert "a for loop needs a list" in error.message and "not a number" in error.message


def test_a_type_error_names_the_one_variable_of_its_line():
    error = failure("ok\n{{ price + 1 }}", {"price": "12"})
    assert error.field == "variables.price"
    assert "line 2" in error.message and "TypeError" in error.message


def test_a_type_error_on_a_line_with_several_variables_lists_them():
    error = failure("{{ a + b }}", {"a": "x", "b": 1})
    assert error.field == "variables"
    assert "(uses a, b)" in error.message


def test_loop_outside_a_loop_is_refused_when_checked():
    with pytest.raises(TemplateInvalid, match="'loop' is read through its fields"):
        checking.check("{{ loop }}")


def test_strict_undefined_never_renders_a_blank():
    with pytest.raises(RenderFailure):
        render("[{{ missing }}]")
    with pytest.raises(RenderFailure):
        render("{% if missing %}x{% endif %}")
    assert render("[{{ missing|default('') }}]") == "[]"
    assert render("{% if missing is defined %}x{% else %}y{% endif %}") == "y"


# Features that stay available -------------------------------------------------------------------


def test_loops_conditionals_filters_and_whitespace_behave_as_jinja():
    source = (
        "{% for t in tickets if t.open -%}\n"
        "{{ loop.index }}. {{ t.title|title }}{% if not loop.last %}, {% endif %}\n"
        "{%- endfor %}|{{ tags|sort|join('/') }}|{{ meta|dictsort|first|first }}"
        "|{{ '%.1f'|format(score) }}|{{ name|default('anon')|upper }}|{{ text|truncate(9) }}"
        "|{{ items|map('upper')|list }}|{{ data|tojson }}|{{ rows|selectattr('ok')|list|length }}"
    )
    variables = {
        "tickets": [
            {"title": "a b", "open": True},
            {"title": "c", "open": False},
            {"title": "d", "open": True},
        ],
        "tags": ["z", "a"],
        "meta": {"k": 1, "b": 2},
        "score": 0.25,
        "text": "hello world!",
        "items": ["x"],
        "data": {"a": [1, None]},
        "rows": [{"ok": True}, {"ok": False}],
    }
    expected = jinja2.Environment().from_string(source).render(**variables)
    assert render(source, variables) == expected
    assert expected.startswith("1. A B, 2. D|a/z|b|0.2|ANON|hello world!|['X']|")


def test_trailing_newlines_are_kept():
    assert render("line\n") == "line\n"


# References -------------------------------------------------------------------------------------


def test_inline_splices_the_included_text_which_sees_the_same_variables():
    tone = rendering.plain("Be {{ mood }}.")
    inlined = rendering.inline(
        'Intro. {% include_prompt "tone" %} Then {{ x }}.',
        {Reference("tone", "production"): ("tone v2", tone)},
    )
    assert inlined.text == "Intro. Be {{ mood }}. Then {{ x }}."
    assert rendering.render(inlined, {"mood": "kind", "x": 1}, budget=sandbox.Budget()) == (
        "Intro. Be kind. Then 1."
    )
    assert rendering.analyze_inlined(inlined).variables == ("mood", "x")


def test_whitespace_control_on_the_tag_keeps_its_meaning():
    tone = rendering.plain("\n  Be kind.  \n")
    reference = {Reference("tone", "production"): ("tone v1", tone)}
    for source in ("A  \n{%- include_prompt 'tone' %}\nB", "A\n{% include_prompt 'tone' -%}  B"):
        as_jinja = jinja2.Environment(
            loader=jinja2.DictLoader({"tone": "\n  Be kind.  \n"}), keep_trailing_newline=True
        ).from_string(source.replace("include_prompt", "include"))
        inlined = rendering.inline(source, reference)
        assert rendering.render(inlined, {}, budget=sandbox.Budget()) == as_jinja.render()


def test_errors_inside_an_included_prompt_say_which_prompt_and_line():
    tone = rendering.plain("fine\n{{ mood.level }}")
    inlined = rendering.inline(
        'one\ntwo\n{% include_prompt "tone" %}',
        {Reference("tone", "production"): ("tone v4", tone)},
    )
    with pytest.raises(RenderFailure) as caught:
        rendering.render(inlined, {"mood": {}}, budget=sandbox.Budget(), where="text")
    assert caught.value.field == "variables.mood.level"
    assert "text, line 2 of the included prompt tone v4" in caught.value.message
