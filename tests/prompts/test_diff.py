"""Side-by-side diffs between versions (prompts.diff, pure)."""

from __future__ import annotations

from prompts.content import Content
from prompts.diff import lines_diff, version_diff


def chat(messages, config=None, model="gpt-4o-mini", few_shot=()) -> Content:
    return Content("chat", messages, "", model, config or {}, list(few_shot))


def test_changed_lines_face_each_other_and_extra_lines_are_inserts():
    rows = lines_diff("a\nb\nc", "a\nB\nc\nd")
    assert [(r.op, r.old_number, r.old, r.new_number, r.new) for r in rows] == [
        ("equal", 1, "a", 1, "a"),
        ("replace", 2, "b", 2, "B"),
        ("equal", 3, "c", 3, "c"),
        ("insert", None, "", 4, "d"),
    ]


def test_an_inserted_message_does_not_mark_the_later_ones_changed():
    old = chat([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    new = chat(
        [
            {"role": "system", "content": "S"},
            {"type": "placeholder", "name": "history"},
            {"role": "user", "content": "U"},
        ]
    )
    blocks = version_diff(old, new).blocks
    assert [(b.title, b.op) for b in blocks] == [
        ("Message 1 · system", "equal"),
        ("Message 2 · placeholder (added)", "insert"),
        ("Message 2 → 3 · user", "equal"),
    ]


def test_a_changed_message_shows_its_lines_and_role_change():
    old = chat([{"role": "system", "content": "Be brief.\nAnswer JSON."}])
    new = chat([{"role": "developer", "content": "Be brief.\nAnswer strict JSON."}])
    (block,) = version_diff(old, new).blocks
    assert block.title == "Message 1 · system → developer" and block.op == "changed"
    assert [line.op for line in block.lines] == ["equal", "replace"]


def test_model_and_every_config_key_are_compared():
    old = chat(
        [{"role": "user", "content": "x"}],
        config={"temperature": 0.2, "response_format": {"type": "text"}, "seed": 1},
    )
    new = chat(
        [{"role": "user", "content": "x"}],
        model="gpt-4o",
        config={"temperature": 0.2, "response_format": {"type": "json_object"}, "max_tokens": 50},
    )
    diff = version_diff(old, new)
    changed = {s.name: (s.old, s.new, s.op) for s in diff.settings if s.op != "equal"}
    assert changed == {
        "model": ('"gpt-4o-mini"', '"gpt-4o"', "replace"),
        "config.response_format.type": ('"text"', '"json_object"', "replace"),
        "config.seed": ("1", None, "delete"),
        "config.max_tokens": (None, "50", "insert"),
    }
    assert diff.changed


def test_identical_content_has_no_change_and_examples_are_compared():
    example = {"input": "a", "output": "b"}
    same = chat([{"role": "user", "content": "x"}], few_shot=[example])
    assert not version_diff(same, same).changed
    more = chat(
        [{"role": "user", "content": "x"}], few_shot=[example, {"input": "c", "output": "d"}]
    )
    examples = version_diff(same, more).examples
    assert [b.op for b in examples] == ["equal", "insert"]


def test_text_prompts_compare_their_text():
    old = Content("text", [], "one\ntwo", "m", {}, [])
    new = Content("text", [], "one\n2", "m", {}, [])
    (block,) = version_diff(old, new).blocks
    assert block.title == "Text" and [line.op for line in block.lines] == ["equal", "replace"]
