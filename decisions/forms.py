"""The decision form of the browser pages: the posted fields as the write schema's data, the
row buttons (add/remove an option, argument or trigger: plain submits, no script), and the
rows and values the template shows again with their errors.

The form has no rules of its own: what it posts is validated by
decisions.serializers.DecisionWriteSerializer, as an API body would be.
"""

from __future__ import annotations

import re

from django.utils import timezone

from decisions import triggers
from workloads.models import Approach, Workload

TEXTS = (
    "context_and_problem_statement", "justification", "consequences", "confirmation",
    "more_information",
)  # fmt: skip
MAX_ROWS = 50
OPTION_KEYS = ("title", "description", "arguments")
# Lists edited as one input (a line, or a comma-separated name, per item): an item's error
# (`decision_drivers[1]`) shows by that input, naming the item ("Line 2: …").
_LIST_ITEM = re.compile(
    r"^(decision_makers|consulted|informed|decision_drivers|supersedes)\[(\d+)\]$"
)
_ITEM_WORD = {"decision_drivers": "Line", "supersedes": "Entry"}


def blank_data() -> dict:
    return {
        "date": timezone.localdate().isoformat(),
        "considered_options": [_blank_option(), _blank_option()],
        "revisit_triggers": [],
    }


def _blank_option() -> dict:
    return {"title": "", "description": "", "arguments": [{"kind": "good", "text": ""}]}


def posted_data(post, *, frozen: bool) -> dict:
    """The form's fields under the schema's names (SPEC §6.3); blank rows are dropped. A
    frozen decision's form posts only what can still change."""
    data: dict = {
        "revisit_triggers": _posted_triggers(post),
        "review_by": post.get("review_by", "").strip() or None,
        "supersedes": decision_numbers(post.get("supersedes", "")),
        "note": post.get("note", "").strip(),
    }
    if not frozen:
        data.update(
            {
                "title": post.get("title", ""),
                "date": post.get("date", "").strip() or None,
                "decision_makers": _split(post.get("decision_makers", ""), ","),
                "consulted": _split(post.get("consulted", ""), ","),
                "informed": _split(post.get("informed", ""), ","),
                "decision_drivers": _split(post.get("decision_drivers", ""), "\n"),
                "considered_options": _posted_options(post),
                "chosen_option": post.get("chosen_option", ""),
                "approach": post.get("approach", ""),
                "workload": post.get("workload", "") or None,
                **{name: post.get(name, "") for name in TEXTS},
            }
        )
    return data


def _split(text: str, separator: str) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def decision_numbers(text: str) -> list:
    """ "3, ADR-0007" → [3, 7]; anything else is passed on for the schema to refuse."""
    items = []
    for part in _split(text.replace(";", ","), ","):
        digits = part.upper().removeprefix("ADR-").removeprefix("ADR").strip()
        items.append(int(digits) if digits.isdigit() else part)
    return items


def _count(post, name: str) -> int:
    value = post.get(name, "0")
    return min(int(value), MAX_ROWS) if value.isdigit() else 0


def _posted_options(post) -> list[dict]:
    options = []
    for i in range(_count(post, "option_count")):
        prefix = f"option-{i}"
        arguments = [
            {"kind": post.get(f"{prefix}-arg-{j}-kind", ""), "text": text}
            for j in range(_count(post, f"{prefix}-arg_count"))
            if (text := post.get(f"{prefix}-arg-{j}-text", "")).strip()
        ]
        title = post.get(f"{prefix}-title", "")
        description = post.get(f"{prefix}-description", "")
        if title.strip() or description.strip() or arguments:
            options.append({"title": title, "description": description, "arguments": arguments})
    return options


def _posted_triggers(post) -> list[dict]:
    rows = []
    for i in range(_count(post, "trigger_count")):
        threshold = post.get(f"trigger-{i}-threshold", "").strip()
        if threshold:
            rows.append(
                {
                    "metric": post.get(f"trigger-{i}-metric", ""),
                    "comparator": post.get(f"trigger-{i}-comparator", ""),
                    "threshold": threshold,
                }
            )
    return rows


def apply_row_action(data: dict, action: str) -> str:
    """Add or remove an option, argument or trigger row; returns the id of the input to
    focus."""
    verb, _, rest = action.partition(":")
    indexes = [int(x) for x in rest.split("-") if x.isdigit()]
    handler = _ROW_ACTIONS.get(verb)
    return handler(data, indexes) if handler else ""


def _add_option(data: dict, indexes: list[int]) -> str:
    options = data.setdefault("considered_options", [])
    options.append(_blank_option())
    return f"option-{len(options) - 1}-title"


def _option(data: dict, indexes: list[int]) -> dict | None:
    options = data.setdefault("considered_options", [])
    return options[indexes[0]] if indexes and indexes[0] < len(options) else None


def _remove_option(data: dict, indexes: list[int]) -> str:
    if _option(data, indexes) is not None:
        data["considered_options"].pop(indexes[0])
    return ""


def _add_argument(data: dict, indexes: list[int]) -> str:
    option = _option(data, indexes)
    if option is None:
        return ""
    arguments = option.setdefault("arguments", [])
    arguments.append({"kind": "good", "text": ""})
    return f"option-{indexes[0]}-arg-{len(arguments) - 1}-text"


def _remove_argument(data: dict, indexes: list[int]) -> str:
    option = _option(data, indexes)
    arguments = option.get("arguments", []) if option is not None else []
    if len(indexes) == 2 and indexes[1] < len(arguments):
        arguments.pop(indexes[1])
    return ""


def _add_trigger(data: dict, indexes: list[int]) -> str:
    rows = data.setdefault("revisit_triggers", [])
    rows.append({"metric": "monthly_requests", "comparator": ">", "threshold": ""})
    return f"trigger-{len(rows) - 1}-threshold"


def _remove_trigger(data: dict, indexes: list[int]) -> str:
    rows = data.setdefault("revisit_triggers", [])
    if indexes and indexes[0] < len(rows):
        rows.pop(indexes[0])
    return ""


_ROW_ACTIONS = {
    "add-option": _add_option,
    "remove-option": _remove_option,
    "add-argument": _add_argument,
    "remove-argument": _remove_argument,
    "add-trigger": _add_trigger,
    "remove-trigger": _remove_trigger,
}


def form_errors(paths: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors by field path, with a list item's errors under the list too."""
    errors = {path: list(messages) for path, messages in paths.items()}
    for path, messages in paths.items():
        item = _LIST_ITEM.match(path)
        if item:
            name, position = item.group(1), int(item.group(2)) + 1
            word = _ITEM_WORD.get(name, "Name")
            errors.setdefault(name, []).extend(f"{word} {position}: {m}" for m in messages)
    return errors


def form_context(data: dict, errors: dict, *, focus: str, team) -> dict:
    """What the form template shows: values, option and trigger rows, each with its errors."""
    return {
        "values": _values(data),
        "errors": errors,
        "other_errors": _errors(
            errors, "body", "considered_options", "revisit_triggers", "evidence"
        ),
        "option_rows": _option_rows(data, errors, focus),
        "trigger_rows": _trigger_rows(data, errors, focus),
        "focus": focus,
        "approaches": Approach.choices,
        "workloads": Workload.objects.for_team(team).only("slug", "name"),
        "metrics": list(triggers.METRICS.values()),
        "comparators": list(triggers.COMPARATORS),
        "argument_kinds": ("good", "neutral", "bad"),
    }


def _values(data: dict) -> dict:
    workload = data.get("workload")
    return {
        **data,
        "workload": workload.slug if isinstance(workload, Workload) else workload or "",
        "decision_makers": ", ".join(data.get("decision_makers") or []),
        "consulted": ", ".join(data.get("consulted") or []),
        "informed": ", ".join(data.get("informed") or []),
        "decision_drivers": "\n".join(data.get("decision_drivers") or []),
        "supersedes": ", ".join(str(n) for n in data.get("supersedes") or []),
    }


def _option_rows(data: dict, errors: dict, focus: str) -> list[dict]:
    rows = []
    for i, option in enumerate(data.get("considered_options") or []):
        path = f"considered_options[{i}]"
        rows.append(
            {
                "index": i,
                "focus": focus == f"option-{i}-title",
                "title": option.get("title", ""),
                "description": option.get("description", ""),
                "errors": _errors(errors, path, *(f"{path}.{k}" for k in OPTION_KEYS)),
                "arguments": _argument_rows(option, errors, focus, i),
            }
        )
    return rows


def _argument_rows(option: dict, errors: dict, focus: str, i: int) -> list[dict]:
    path = f"considered_options[{i}].arguments"
    return [
        {
            "index": j,
            "focus": focus == f"option-{i}-arg-{j}-text",
            "kind": argument.get("kind", "good"),
            "text": argument.get("text", ""),
            "errors": _errors(errors, f"{path}[{j}]", f"{path}[{j}].kind", f"{path}[{j}].text"),
        }
        for j, argument in enumerate(option.get("arguments") or [])
    ]


def _trigger_rows(data: dict, errors: dict, focus: str) -> list[dict]:
    return [
        {
            **row,
            "index": i,
            "focus": focus == f"trigger-{i}-threshold",
            "errors": _errors(
                errors,
                f"revisit_triggers[{i}]",
                *(f"revisit_triggers[{i}].{k}" for k in ("metric", "comparator", "threshold")),
            ),  # fmt: skip
        }
        for i, row in enumerate(data.get("revisit_triggers") or [])
    ]


def _errors(errors: dict, *keys: str) -> list[str]:
    return [message for key in keys for message in errors.get(key, [])]
