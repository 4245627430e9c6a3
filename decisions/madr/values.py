"""Values of ADR files: days, names, numbers, list lines and evidence references, read
leniently and never invented. Pure Python (no Django)."""

from __future__ import annotations

import re

from decisions.madr import vocabulary as vocab
from decisions.madr.markdown import Body, one_line, plain

# Evidence kinds renamed since files were first exported: the old spelling still imports.
RENAMED_EVIDENCE_KINDS = {"evaluation": "assessment"}
PLACEHOLDERS = {"", "…", "...", "tbd"}
_ISO_DAY = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_DMY_DAY = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")


def numbers(value: object) -> list[int]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [n for item in items for n in vocab.numbers_in(str(item)) if 0 < n <= 99_999]


def evidence(value: object) -> object:
    items = value or []
    if not isinstance(items, list):
        return items
    return [
        {**item, "kind": RENAMED_EVIDENCE_KINDS.get(item.get("kind"), item.get("kind"))}
        if isinstance(item, dict) and isinstance(item.get("kind"), str)
        else item
        for item in items
    ]


def first_number(*values: object, notes: list[str]) -> int | None:
    for value in values:
        if value is None or isinstance(value, bool):
            continue
        number = value if isinstance(value, int) else int(value) if str(value).isdigit() else None
        if number is not None and 0 < number <= 99_999:
            return number
        notes.append(f"number {str(value)[:20]!r} is not one from 1 to 99,999: ignored")
    return None


def date(value: object, name: str, notes: list[str], field_name: str = "date") -> str | None:
    """An ISO day from `2024-01-02`, `2024/01/02`, `02/01/2024` (Log4brains' other format) or
    a date-prefixed file name; None (and a note) when there is no day to read."""
    text = str(value).strip() if value is not None else ""
    if text.startswith("["):  # a template's placeholder, "[YYYY-MM-DD when …]"
        text = ""
    match = _ISO_DAY.search(text)
    day = vocab.iso_day(*(int(g) for g in match.groups())) if match else ""
    if not day and (dmy := _DMY_DAY.search(text)):
        day = vocab.iso_day(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
    if day:
        return day
    if text:
        notes.append(f"{field_name} '{text[:40]}' is not a day (YYYY-MM-DD): left unknown")
    from_name = vocab.date_in_name(name)
    if from_name and not text:
        notes.append(f"date {from_name} read from the file name")
        return from_name
    return None


def names(value: object, what: str, notes: list[str]) -> list[str]:
    """Names from a YAML list or a comma-separated line."""
    if value is None:
        return []
    if isinstance(value, list):
        items = [item for item in value if isinstance(item, str | int | float)]
        if len(items) != len(value):
            notes.append(f"{what}: only names (text) are read, other entries were left out")
    elif isinstance(value, str | int | float):
        items = re.split(r"[,;]", plain(str(value)))
    else:
        notes.append(f"{what} is not a list of names: left out")
        return []
    names = [" ".join(str(item).split()) for item in items]
    return [n for n in names if n and vocab.words(n) not in PLACEHOLDERS and not n.startswith("[")]


def lines(body: Body, blocks: list) -> list[str]:
    """A list's items as lines (nested items joined to theirs), or a paragraph's lines."""
    lines: list[str] = []
    for block in blocks:
        items = body.items(block)
        if items:
            lines += [one_line(f"{item.raw} {item.rest}") for item in items]
        else:
            lines += [one_line(line) for line in body.lines_of(block)]
    return [line for line in lines if vocab.words(line) not in PLACEHOLDERS]


def join(*parts: str) -> str:
    return "\n\n".join(part.strip("\n") for part in parts if part and part.strip())
