"""Statuses and relation lines of ADR files: `Accepted`, `![Accepted](badge)`, `Superceded by
[3. Use X](0003-use-x.md)`, `Amends ADR-0002`, Log4brains' `superseded by [slug](slug.md)`.
Pure Python (no Django)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from decisions.madr import vocabulary as vocab
from decisions.madr.markdown import images, links, one_line, plain


@dataclass(frozen=True)
class Ref:
    """A reference to another record: the file a link points to and/or a number."""

    name: str = ""
    number: int | None = None


def read_status(lines: list[str]) -> tuple[str | None, str, dict]:
    """(status, the status as written when it is none Crossover knows, relations) of status
    lines; the last line naming a status wins (a history reads oldest first)."""
    status: str | None = None
    written = ""
    relations: dict[str, list] = {"supersedes": [], "superseded_by": [], "related": []}
    for line in (one_line(line) for line in lines):
        relation = relation_line(line)
        if relation is not None:
            kind, label, refs = relation
            if kind == "related":
                relations[kind] += [{"label": label, "ref": ref} for ref in refs]
            else:
                relations[kind] += refs
            continue
        text = plain(line)
        found = vocab.status_of(text) or badge_status(line)
        if found:
            status = found
        elif text and not written:
            written = text
    if relations["superseded_by"] and status in (None, "accepted"):
        status = "superseded"
    return status, "" if status else written, relations


def badge_status(line: str) -> str | None:
    """A shields.io badge whose alt text says "Status": the status is in its URL
    (`…/badge/status-accepted-green`)."""
    for _, src in images(line):
        parts = re.split(r"(?<!-)-(?!-)", src.rsplit("/badge/", 1)[-1]) if "/badge/" in src else []
        for part in parts[:2]:
            found = vocab.status_of(part.replace("_", " ").replace("%20", " "))
            if found:
                return found
    return None


def relation_line(line: str) -> tuple[str, str, list[Ref]] | None:
    """("supersedes" | "superseded_by" | "related", label, refs) of a line such as
    `Superceded by [3. Use X](0003-use-x.md)`, `Amends ADR-0002` or
    `superseded by [20201028-new](20201028-new.md)`; None for any other line."""
    label, found = links(line)
    refs = []
    for href, text in found:
        name = vocab.link_target(href)
        number = vocab.number_in_link(name, text)
        if name or number is not None:
            refs.append(Ref(name=name, number=number))
    if not found:
        match = re.match(r"^\s*([A-Za-z][A-Za-z '-]*?)\s*:?\s+((?:ADR[-_ ]?|#)?\d[\w ,&#-]*?)\.?$",
                         plain(line), re.I)  # fmt: skip
        if match:
            label = match.group(1)
            refs = [Ref(number=n) for n in vocab.numbers_in(match.group(2))]
    if not refs or not vocab.is_label(label):
        return None
    kind, tidy = vocab.relation_of(label)
    if kind == "related" and vocab.status_of(tidy):
        return None  # "Accepted by [the board](board.md)" is a status
    return kind, tidy, refs
