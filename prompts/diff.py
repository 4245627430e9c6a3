"""Side-by-side differences between two prompt versions (pure, no Django).

Messages are aligned first (an inserted message shows as inserted, not as every later message
changed), then each aligned pair is compared line by line; the model and every config key are
compared as values, and few-shot examples like messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from prompts.content import Content, is_placeholder


@dataclass(frozen=True)
class Line:
    op: str  # equal | replace | delete | insert
    old_number: int | None
    old: str
    new_number: int | None
    new: str


@dataclass(frozen=True)
class Block:
    """One message (or the text, or one example) on both sides."""

    title: str
    op: str  # equal | changed | delete | insert
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class Setting:
    name: str
    old: str | None  # None when the key is absent on that side
    new: str | None

    @property
    def op(self) -> str:
        if self.old == self.new:
            return "equal"
        return "insert" if self.old is None else "delete" if self.new is None else "replace"


@dataclass(frozen=True)
class VersionDiff:
    blocks: list[Block]
    settings: list[Setting]
    examples: list[Block]

    @property
    def changed(self) -> bool:
        return (
            any(block.op != "equal" for block in [*self.blocks, *self.examples])
            or any(setting.op != "equal" for setting in self.settings)
        )  # fmt: skip


def lines_diff(old: str, new: str) -> list[Line]:
    """Line-by-line, side by side: changed lines face each other."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[Line] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pairs = zip(range(i1, i2), range(j1, j2), strict=True)
            rows += [Line("equal", i + 1, a[i], j + 1, b[j]) for i, j in pairs]
            continue
        width = max(i2 - i1, j2 - j1)
        for k in range(width):
            i, j = i1 + k, j1 + k
            left = (i + 1, a[i]) if i < i2 else (None, "")
            right = (j + 1, b[j]) if j < j2 else (None, "")
            kind = "replace" if i < i2 and j < j2 else "delete" if i < i2 else "insert"
            rows.append(Line(kind, left[0], left[1], right[0], right[1]))
    return rows


def _message_text(message: Mapping[str, Any]) -> str:
    if is_placeholder(message):
        return f"[placeholder: {message['name']}]"
    return message["content"]


def _message_title(message: Mapping[str, Any]) -> str:
    return "placeholder" if is_placeholder(message) else message["role"]


def _sequence_diff(
    old: Sequence[Mapping], new: Sequence[Mapping], *, text, title, noun: str
) -> list[Block]:
    keys = [json.dumps(item, sort_keys=True) for item in old]
    other = [json.dumps(item, sort_keys=True) for item in new]
    blocks: list[Block] = []
    matcher = SequenceMatcher(None, keys, other, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            before = old[i] if i < i2 else None
            after = new[j] if j < j2 else None
            if before is not None and after is not None:
                name = f"{noun} {i + 1}" if i == j else f"{noun} {i + 1} → {j + 1}"
                before_title, after_title = title(before), title(after)
                same = before_title == after_title
                heading = f"{name} · {after_title if same else f'{before_title} → {after_title}'}"
                kind = "equal" if op == "equal" else "changed"
                blocks.append(Block(heading, kind, lines_diff(text(before), text(after))))
            elif before is not None:
                blocks.append(Block(f"{noun} {i + 1} · {title(before)} (removed)", "delete",
                                    lines_diff(text(before), "")))  # fmt: skip
            else:
                blocks.append(Block(f"{noun} {j + 1} · {title(after)} (added)", "insert",
                                    lines_diff("", text(after))))  # fmt: skip
    return blocks


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, Mapping) and value:
        out: dict[str, str] = {}
        for key in sorted(value):
            out.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: json.dumps(value, sort_keys=True, ensure_ascii=False)}


def version_diff(old: Content, new: Content) -> VersionDiff:
    """Everything that differs between two versions' content."""
    if old.kind == new.kind == "text":
        blocks = [Block("Text", "equal" if old.text == new.text else "changed",
                        lines_diff(old.text, new.text))]  # fmt: skip
    else:
        blocks = _sequence_diff(
            _as_messages(old), _as_messages(new), text=_message_text, title=_message_title,
            noun="Message",
        )  # fmt: skip
    settings_old = {"kind": json.dumps(old.kind), "model": json.dumps(old.model),
                    **_flatten(dict(old.config), "config")}  # fmt: skip
    settings_new = {"kind": json.dumps(new.kind), "model": json.dumps(new.model),
                    **_flatten(dict(new.config), "config")}  # fmt: skip
    settings = [
        Setting(name, settings_old.get(name), settings_new.get(name))
        for name in sorted(settings_old.keys() | settings_new.keys(), key=_setting_order)
        if name != "config" or (settings_old.get(name), settings_new.get(name)) != ("{}", "{}")
    ]
    examples = _sequence_diff(
        old.few_shot, new.few_shot,
        text=lambda ex: f"Input:\n{ex['input']}\nOutput:\n{ex['output']}",
        title=lambda ex: "example", noun="Example",
    )  # fmt: skip
    return VersionDiff(blocks, settings, examples)


def _as_messages(content: Content) -> list[Mapping[str, Any]]:
    if content.kind == "text":
        return [{"role": "text", "content": content.text}]
    return list(content.messages)


def _setting_order(name: str) -> tuple[int, str]:
    return ({"kind": 0, "model": 1}.get(name, 2), name)
