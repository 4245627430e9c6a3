"""A version's content: hash, few-shot placement, static tokens and bloat warnings, references
resolved level by level with cycles refused, and rendering (prompts.content, pure)."""

from __future__ import annotations

import pytest

from prompts import content as c
from prompts import tokens
from prompts.checking import Reference
from prompts.content import Content, ContentInvalid, Target

MODEL = "gpt-4o-mini"
EXAMPLES = [
    {"input": "Server down", "output": '{"category": "incident"}'},
    {"input": "Refund me", "output": '{"category": "billing"}'},
]


def chat(*messages, few_shot=(), config=None, model=MODEL) -> Content:
    return Content("chat", list(messages), "", model, config or {}, list(few_shot))


def system(text):
    return {"role": "system", "content": text}


def user(text):
    return {"role": "user", "content": text}


def resolve(content: Content, store: dict[Reference, Target] | None = None, calls=None):
    def fetch(refs):
        if calls is not None:
            calls.append(set(refs))
        return {ref: (store or {})[ref] for ref in refs if ref in (store or {})}

    return c.resolve("main", content, c.analyze(content), fetch)


def text_target(slug, text, version=1, kind="text") -> Target:
    return Target(slug, version, f"hash-{slug}-{version}", kind, text)


# Hash ------------------------------------------------------------------------------------------


def test_the_hash_covers_everything_that_affects_the_output():
    base = chat(
        system("Classify."), user("{{ ticket }}"), few_shot=EXAMPLES, config={"temperature": 0.1}
    )
    variants = [
        chat(
            system("Classify!"),
            user("{{ ticket }}"),
            few_shot=EXAMPLES,
            config={"temperature": 0.1},
        ),
        chat(
            system("Classify."),
            user("{{ ticket }}"),
            few_shot=EXAMPLES[:1],
            config={"temperature": 0.1},
        ),
        chat(
            system("Classify."),
            user("{{ ticket }}"),
            few_shot=EXAMPLES,
            config={"temperature": 0.2},
        ),
        chat(
            system("Classify."),
            user("{{ ticket }}"),
            few_shot=EXAMPLES,
            config={"temperature": 0.1},
            model="gpt-4o",
        ),
        chat(
            user("{{ ticket }}"),
            system("Classify."),
            few_shot=EXAMPLES,
            config={"temperature": 0.1},
        ),
    ]
    assert len({base.hash, *(variant.hash for variant in variants)}) == len(variants) + 1


def test_the_hash_ignores_key_order_and_the_other_kind_s_field():
    one = Content(
        "chat",
        [{"role": "user", "content": "x"}],
        "ignored",
        MODEL,
        {"a": 1, "b": {"c": 2, "d": 3}},
        [],
    )
    two = Content(
        "chat", [{"content": "x", "role": "user"}], "", MODEL, {"b": {"d": 3, "c": 2}, "a": 1}, []
    )
    assert one.hash == two.hash and len(one.hash) == 64


# Few-shot and static tokens ---------------------------------------------------------------------


def test_examples_become_turns_after_the_leading_system_messages():
    content = chat(
        system("A"), {"role": "developer", "content": "B"}, user("{{ q }}"), few_shot=EXAMPLES
    )
    rendered = c.render(content, resolve(content), variables={"q": "hi"}, placeholders={})
    assert [m["role"] for m in rendered.messages] == [
        "system",
        "developer",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert rendered.messages[2]["content"] == "Server down"


def test_a_message_that_loops_over_few_shot_places_them_itself():
    content = chat(
        system("Examples:{% for ex in few_shot %}\n{{ ex.input }} => {{ ex.output }}{% endfor %}"),
        user("{{ q }}"),
        few_shot=EXAMPLES,
    )
    rendered = c.render(content, resolve(content), variables={"q": "hi"}, placeholders={})
    assert len(rendered.messages) == 2
    assert "Refund me => " in rendered.messages[0]["content"]


def test_static_tokens_count_the_literal_text_and_the_examples_with_chat_framing():
    content = chat(
        system("You classify tickets into {{ n }} categories."),
        user("Ticket: {{ t }}"),
        few_shot=EXAMPLES,
    )
    expected = tokens.count_message_tokens(
        [
            {"role": "system", "content": "You classify tickets into  categories."},
            {"role": "user", "content": "Server down"},
            {"role": "assistant", "content": '{"category": "incident"}'},
            {"role": "user", "content": "Refund me"},
            {"role": "assistant", "content": '{"category": "billing"}'},
            {"role": "user", "content": "Ticket: "},
        ],
        MODEL,
    )
    assert c.static_tokens(content, resolve(content)) == expected


def test_static_tokens_of_a_text_prompt_count_its_examples_where_it_loops():
    text = (
        "Q&A:{% for ex in few_shot %}\nQ: {{ ex.input }}\nA: {{ ex.output }}{% endfor %}"
        "\nQ: {{ q }}"
    )
    content = Content("text", [], text, MODEL, {}, EXAMPLES)
    literal = tokens.count_tokens("Q&A:\nQ: \nA: \nQ: ", MODEL)
    examples = sum(
        tokens.count_tokens(e["input"], MODEL) + tokens.count_tokens(e["output"], MODEL)
        for e in EXAMPLES
    )
    assert c.static_tokens(content, resolve(content)) == literal + examples


def test_static_tokens_include_referenced_prompts():
    content = chat(system('Rules. {% include_prompt "tone" %}'))
    store = {Reference("tone", "production"): text_target("tone", "Always be kind and brief.")}
    with_reference = c.static_tokens(content, resolve(content, store))
    alone = c.static_tokens(
        chat(system("Rules. Always be kind and brief.")),
        resolve(chat(system("Rules. Always be kind and brief."))),
    )
    assert with_reference == alone


def test_a_text_prompt_with_examples_must_place_them():
    with pytest.raises(ContentInvalid) as caught:
        c.analyze(Content("text", [], "Answer {{ q }}", MODEL, {}, EXAMPLES))
    assert caught.value.errors[0][0] == "few_shot"


@pytest.mark.parametrize(
    ("static", "examples", "expected"),
    [(2_000, 5, 0), (2_001, 5, 1), (2_000, 6, 1), (5_000, 12, 2)],
)
def test_bloat_warnings_follow_the_seeds_thresholds(static, examples, expected):
    found = c.warnings(static_tokens=static, few_shot=examples)
    assert len(found) == expected
    assert all(w.startswith("prompt bloat: evaluate fine-tuning") for w in found)


# References -------------------------------------------------------------------------------------


def test_references_resolve_one_level_per_fetch_and_are_recorded():
    content = chat(system('{% include_prompt "a" %}'), user('{% include_prompt "b" version=2 %}'))
    store = {
        Reference("a", "production"): text_target(
            "a", 'A {% include_prompt "c" label="staging" %}'
        ),
        Reference("b", None, 2): text_target("b", "B", version=2),
        Reference("c", "staging"): text_target("c", "C"),
    }
    calls: list[set] = []
    resolution = resolve(content, store, calls)
    assert calls == [
        {Reference("a", "production"), Reference("b", None, 2)},
        {Reference("c", "staging")},
    ]
    assert [text.text for text in resolution.inlined] == ["A C", "B"]
    assert [r["reference"] for r in resolution.record()] == ["a@production", "b v2", "c@staging"]


def test_a_diamond_is_resolved_once_per_target():
    content = chat(system('{% include_prompt "left" %}{% include_prompt "right" %}'))
    store = {
        Reference("left", "production"): text_target("left", 'L{% include_prompt "base" %}'),
        Reference("right", "production"): text_target("right", 'R{% include_prompt "base" %}'),
        Reference("base", "production"): text_target("base", "."),
    }
    assert resolve(content, store).inlined[0].text == "L.R."


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ({}, "the team has no prompt 'a' with a 'production' label"),
        ({Reference("a", "production"): text_target("a", "x", kind="chat")}, "a chat prompt"),
        (
            {
                Reference("a", "production"): text_target("a", '{% include_prompt "main" %}'),
                Reference("main", "production"): text_target("main", "m"),
            },
            "cycle: main → a → main",
        ),
        (
            {
                Reference("a", "production"): text_target(
                    "a", '{% include_prompt "a" label="x" %}'
                ),
                Reference("a", "x"): text_target("a", "y", version=2),
            },
            "cycle: a → a",
        ),
        ({Reference("a", "production"): text_target("a", "{{ x.__class__ }}")}, "sandbox"),
    ],
)
def test_references_that_cannot_be_resolved_are_refused(store, message):
    with pytest.raises(ContentInvalid) as caught:
        resolve(chat(system('{% include_prompt "a" %}')), store)
    assert message in str(caught.value)


def test_reference_chains_have_a_depth_limit():
    store = {
        Reference(f"p{i}", "production"): text_target(f"p{i}", f'{{% include_prompt "p{i + 1}" %}}')
        for i in range(c.MAX_INCLUDE_DEPTH + 2)
    }
    with pytest.raises(ContentInvalid, match="deeper than"):
        resolve(chat(system('{% include_prompt "p0" %}')), store)


def test_a_missing_reference_is_reported_on_the_message_that_uses_it():
    with pytest.raises(ContentInvalid) as caught:
        resolve(chat(system("ok"), user('{% include_prompt "gone" %}')))
    assert caught.value.errors[0][0] == "messages.1.content"


# Rendering --------------------------------------------------------------------------------------


def test_render_reports_every_missing_variable_and_placeholder_at_once():
    content = chat(
        system("{{ persona }}"),
        {"type": "placeholder", "name": "history"},
        user("{{ question }} {% if vip %}{{ tier }}{% endif %}"),
    )
    with pytest.raises(c.RenderErrors) as caught:
        c.render(content, resolve(content), variables={"vip": False}, placeholders={})
    assert [e.field for e in caught.value.errors] == [
        "variables.persona",
        "variables.question",
        "placeholders.history",
    ]


def test_render_inserts_placeholders_and_reports_what_was_not_used():
    content = chat(
        system("You are {{ name }}."), {"type": "placeholder", "name": "history"}, user("{{ q }}")
    )
    rendered = c.render(
        content,
        resolve(content),
        variables={"name": "TaskMaster", "q": "Next?", "typo": 1},
        placeholders={
            "history": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "{{ not rendered }}"},
            ],
            "extra": [],
        },
    )
    assert rendered.messages == [
        {"role": "system", "content": "You are TaskMaster."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "{{ not rendered }}"},
        {"role": "user", "content": "Next?"},
    ]
    assert rendered.unused_variables == ["typo"]
    assert rendered.unused_placeholders == ["extra"]


def test_few_shot_cannot_be_given_as_a_variable():
    content = chat(system("x"))
    with pytest.raises(c.RenderErrors) as caught:
        c.render(content, resolve(content), variables={"few_shot": []}, placeholders={})
    assert caught.value.errors[0].field == "variables.few_shot"


def test_huge_placeholders_hit_the_output_bound():
    content = chat({"type": "placeholder", "name": "history"})
    turns = [{"role": "user", "content": "x" * 100_000}] * 6
    with pytest.raises(c.RenderErrors, match="longer than"):
        c.render(content, resolve(content), variables={}, placeholders={"history": turns})
