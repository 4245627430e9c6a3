"""What changed between two revisions of a decision record, field by field.

Pure Python (no Django): works on revision snapshots (the API representation of a record).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from decisions import madr, triggers

DIFF_LABELS = {
    "title": "Title", "status": "Status", "date": "Date", "decision_makers": "Decision-makers",
    "consulted": "Consulted", "informed": "Informed",
    "context_and_problem_statement": "Context and problem statement",
    "decision_drivers": "Decision drivers", "considered_options": "Considered options",
    "chosen_option": "Chosen option", "justification": "Justification",
    "consequences": "Consequences", "confirmation": "Confirmation",
    "more_information": "More information", "approach": "Approach", "workload": "Workload",
    "evidence": "Evidence", "revisit_triggers": "Revisit triggers", "review_by": "Review by",
    "supersedes": "Supersedes", "superseded_by": "Superseded by", "related": "Related",
    "status_text": "Status as written",
}  # fmt: skip
_OPS = {"+": "add", "-": "del", " ": "same"}


def revisions_diff(old: Mapping, new: Mapping) -> list[dict]:
    """Per changed field: `{"field", "label", "lines": [{"op": add|del|same, "text"}]}`.

    A line diff (difflib) of each field rendered as text; the template escapes every line."""
    changes = []
    for name, label in DIFF_LABELS.items():
        before, after = _lines(name, old.get(name)), _lines(name, new.get(name))
        if before != after:
            lines = [
                {"op": _OPS[line[0]], "text": line[2:]}
                for line in difflib.ndiff(before, after)
                if line[0] in _OPS
            ]
            changes.append({"field": name, "label": label, "lines": lines})
    return changes


def _lines(name: str, value: object) -> list[str]:
    if value in (None, "", []):
        return []
    render = _RENDER.get(name)
    if render is not None:
        return render(value)
    if isinstance(value, list):
        return [str(item) for item in value]
    return str(value).split("\n")


def _option_lines(options: list) -> list[str]:
    lines = []
    for option in options:
        lines.append(f"### {option.get('title')}")
        if option.get("description"):
            lines += option["description"].split("\n")
        for argument in option.get("arguments") or []:
            kind = str(argument.get("kind", "")).capitalize()
            lines.append(f"* {kind}, because {argument.get('text')}")
    return lines


_RENDER = {
    "considered_options": _option_lines,
    "revisit_triggers": lambda value: [triggers.describe_trigger(t) for t in value],
    "evidence": lambda value: [item.get("label") or str(item) for item in value],
    "supersedes": lambda value: [madr.code(n) for n in value],
    "superseded_by": lambda value: [madr.code(n) for n in value],
    "related": lambda value: [f"{link['kind']} {madr.code(link['number'])}" for link in value],
}
