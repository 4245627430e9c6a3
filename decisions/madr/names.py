"""File names of decision records: codes, slugs, which files of a folder are records, and the
names an export gives each record. Pure Python (no Django)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from decisions.madr.vocabulary import date_in_name, number_in_name

FLAVORS = ("madr4", "nygard", "log4brains")
# Files of an ADR folder that are not records.
NOT_RECORDS = {"index.md", "readme.md", "toc.md", "changelog.md", "contributing.md"}


def code(number: int) -> str:
    return f"ADR-{int(number):04d}"


def slug(title: str) -> str:
    """`Use PostgreSQL for search!` → `use-postgresql-for-search` (ASCII, at most 60 chars)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:60].rstrip("-") or "decision"


def filename(record: Mapping) -> str:
    """`NNNN-title-with-dashes.md`, the name MADR, adr-tools and Log4brains expect."""
    return f"{int(record['number']):04d}-{slug(record['title'])}.md"


def base_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def is_record_filename(path: str) -> bool:
    """A markdown file that is not an index, a read-me or a template."""
    base = base_name(path).lower()
    return (
        base.endswith(".md")
        and base not in NOT_RECORDS
        and "template" not in base
        and not base.startswith((".", "_"))
    )


def export_name(record: Mapping, flavor: str) -> str:
    """The file name of a record in an export: its source file's name when it was imported
    (so that links written in its text still resolve), else `NNNN-title.md`. adr-tools finds
    records by a leading number, so a Nygard export names a date-prefixed source
    `NNNN-<its slug>.md`."""
    source = str(record.get("source_name") or "")
    if not source:
        return filename(record)
    if flavor != "nygard" or number_in_name(source) == int(record["number"]):
        return source
    rest = source.removesuffix(".md")
    if date_in_name(source):
        rest = re.sub(r"^\d{4}-?\d{2}-?\d{2}[-_]?", "", rest)
    rest = re.sub(r"^\d+-", "", rest)
    return f"{int(record['number']):04d}-{slug(rest or record['title'])}.md"


def export_names(records: Iterable[Mapping], flavor: str) -> dict[int, str]:
    """{number: file name} for a whole export, each name used once."""
    names: dict[int, str] = {}
    taken: set[str] = {"index.md"}
    for record in sorted(records, key=lambda r: r["number"]):
        name = export_name(record, flavor)
        if name.lower() in taken:
            name = filename(record)
        stem, counter = name.removesuffix(".md"), 2
        while name.lower() in taken:
            name, counter = f"{stem}-{counter}.md", counter + 1
        taken.add(name.lower())
        names[int(record["number"])] = name
    return names
