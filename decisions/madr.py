"""Decision records as markdown files: MADR 4 export, and import of MADR 2/3/4 and Nygard files.

Pure Python (no Django). A record is a dict with the API field names of SPEC §6.3 (`number`,
`title`, `status`, `date`, `decision_makers`, …, `supersedes`, `superseded_by`).

Export follows the MADR 4 template: YAML front matter with `status`, `date`, `decision-makers`,
`consulted`, `informed`, then the sections in MADR order. What MADR has no place for (approach,
workload, revisit triggers, review-by date, supersession numbers, evidence) goes under one
`crossover:` front-matter key, which MADR tooling ignores, so that export → import keeps every
field. Import accepts:

- MADR 3/4: front matter (`deciders` is MADR 3's `decision-makers`), "Chosen option: …".
- MADR 2 and Log4brains: `* Status: …`, `* Deciders: …`, `* Date: …` bullets under the title,
  "Positive/Negative Consequences", "Links".
- Nygard / adr-tools: `# 1. Title`, `Date: …`, `## Status` (with "Supersedes [1. …](0001-….md)"
  and "Superseded by" — or adr-tools' "Superceded by"), `## Context`, `## Decision`,
  `## Consequences`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping

import yaml

STATUSES = ("draft", "proposed", "accepted", "rejected", "deprecated", "superseded")
ARGUMENT_KINDS = ("good", "neutral", "bad")
# Files in an ADR folder that are not records.
NOT_RECORDS = {"index.md", "readme.md", "template.md", "adr-template.md", "toc.md"}
# Evidence kinds renamed since files were first exported: the old spelling still imports.
RENAMED_EVIDENCE_KINDS = {"evaluation": "assessment"}

_EXTRAS = "crossover"
_ARGUMENT = re.compile(r"^[*-]\s+(Good|Neutral|Bad)\b[,:]?\s*(?:because\b\s*)?(.*)$", re.I)
_BULLET = re.compile(r"^[*-]\s+(.*)$")
# A closing run of `#` counts only after a space (CommonMark), so "# Use C#" keeps its `#`.
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_COMMENT_LINE = re.compile(r"^\s*<!--.*-->\s*$")
_COMMENT = re.compile(r"<!--.*?-->")
_CHOSEN = re.compile(r'^Chosen option:\s*"(.*?)"(?:\s*,\s*because\b\s*(.*))?\s*$', re.S)
_NYGARD_TITLE = re.compile(r"^(\d+)\.\s+(.*)$")
_FILE_NUMBER = re.compile(r"^(\d+)-")
_META = re.compile(r"^(?:[*-]\s+)?(Status|Deciders|Decision-makers|Date|Technical Story):\s*(.*)$")


class MadrError(ValueError):
    """A file that cannot be read as a decision record; the message says why."""


# --- export ---------------------------------------------------------------------------------


def slug(title: str) -> str:
    """`Use PostgreSQL for search!` → `use-postgresql-for-search` (ASCII, at most 60 chars)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:60].rstrip("-") or "decision"


def filename(record: Mapping) -> str:
    """`NNNN-title-with-dashes.md`, the name MADR, adr-tools and Log4brains expect."""
    return f"{int(record['number']):04d}-{slug(record['title'])}.md"


def code(number: int) -> str:
    return f"ADR-{int(number):04d}"


def export_record(record: Mapping) -> str:
    """One record as a MADR 4 markdown file."""
    parts = [_front_matter(record), f"# {record['title']}"]
    section = parts.append

    def text(heading: str, body: str | None) -> None:
        if body:
            section(f"{heading}\n\n{body}")

    text("## Context and Problem Statement", record.get("context_and_problem_statement"))
    text("## Decision Drivers", _bullets(record.get("decision_drivers") or []))
    options = record.get("considered_options") or []
    text("## Considered Options", _bullets(option["title"] for option in options))
    outcome = _outcome(record.get("chosen_option"), record.get("justification"))
    if outcome or record.get("consequences") or record.get("confirmation"):
        section("## Decision Outcome" + (f"\n\n{outcome}" if outcome else ""))
        text("### Consequences", record.get("consequences"))
        text("### Confirmation", record.get("confirmation"))
    detailed = [o for o in options if o.get("description") or o.get("arguments")]
    if detailed:
        section("## Pros and Cons of the Options")
        for option in detailed:
            body = [option.get("description") or ""]
            body.append(
                "\n".join(
                    f"* {arg['kind'].capitalize()}, because {arg['text']}"
                    for arg in option.get("arguments") or []
                )
            )
            section(f"### {option['title']}\n\n" + "\n\n".join(b for b in body if b))
    text("## More Information", record.get("more_information"))
    return "\n\n".join(parts) + "\n"


def export_index(records: Iterable[Mapping]) -> str:
    """`index.md` of an exported folder: one line per record, newest number last."""
    lines = ["# Architecture Decision Records", ""]
    for record in sorted(records, key=lambda r: r["number"]):
        lines.append(
            f"* [{code(record['number'])}]({filename(record)}) {record['title']} — "
            f"{_status_text(record)}, {record.get('date') or 'undated'}"
        )
    return "\n".join(lines) + "\n"


def _front_matter(record: Mapping) -> str:
    matter: dict[str, object] = {"status": _status_text(record)}
    if record.get("date"):
        matter["date"] = _as_date(record["date"])
    for key in ("decision_makers", "consulted", "informed"):
        matter[key.replace("_", "-")] = list(record.get(key) or [])
    extras: dict[str, object] = {"number": int(record["number"])}
    for key in ("approach", "workload", "revisit_triggers", "review_by", "supersedes",
                "superseded_by", "evidence"):  # fmt: skip
        value = record.get(key)
        if value:
            extras[key.replace("_", "-")] = _as_date(value) if key == "review_by" else value
    matter[_EXTRAS] = extras
    dumped = yaml.safe_dump(
        _plain(matter), sort_keys=False, allow_unicode=True, default_flow_style=None, width=1000
    )
    return f"---\n{dumped}---"


def _status_text(record: Mapping) -> str:
    """MADR 4 writes a superseded record's status as `superseded by ADR-0123`."""
    if record.get("status") == "superseded" and record.get("superseded_by"):
        return "superseded by " + ", ".join(code(n) for n in record["superseded_by"])
    return str(record.get("status") or "proposed")


def _outcome(chosen: str | None, justification: str | None) -> str:
    if chosen:
        return f'Chosen option: "{chosen}"' + (
            f", because {justification}" if justification else ""
        )
    return justification or ""


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"* {item}" for item in items)


def _as_date(value: object) -> object:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _plain(value: object) -> object:
    """Mappings and sequences as plain dicts/lists, so that safe_dump accepts them."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- import ---------------------------------------------------------------------------------


def is_record_filename(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.lower().endswith(".md") and base.lower() not in NOT_RECORDS


def parse_record(text: str, name: str = "") -> dict:
    """Read one MADR 2/3/4 or Nygard file into a record dict (API field names).

    `number` comes from the Crossover extras, the file name (`0007-…`) or a Nygard title
    (`# 7. …`), else None. Raises :class:`MadrError` with the reason when the file is not a
    decision record (no title, bad front matter, unknown status).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    matter, body = _split_front_matter(text)
    extras = matter.get(_EXTRAS) or {}
    if not isinstance(extras, Mapping):
        raise MadrError(f"front matter key '{_EXTRAS}' must be a mapping")
    title, preamble, sections = _sections(body)
    meta = _preamble(preamble)

    record: dict = {"title": title, "number": None}
    nygard = _NYGARD_TITLE.match(title)
    if nygard and not matter:
        record["title"] = nygard.group(2).strip()
    record["number"] = _first_int(
        extras.get("number"),
        _match_group(_FILE_NUMBER, name.rsplit("/", 1)[-1]),
        nygard.group(1) if nygard and not matter else None,
    )

    status_text = matter.get("status") or meta.get("status") or sections.pop("status", "")
    status, supersedes, superseded_by = _status(str(status_text))
    record["status"] = status
    record["supersedes"] = _union(supersedes, _numbers_list(extras.get("supersedes")))
    record["superseded_by"] = _union(superseded_by, _numbers_list(extras.get("superseded-by")))
    record["date"] = _date_text(matter.get("date") or meta.get("date") or "")
    deciders = matter.get("decision-makers", matter.get("deciders", meta.get("deciders")))
    record["decision_makers"] = _names(deciders)
    record["consulted"] = _names(matter.get("consulted"))
    record["informed"] = _names(matter.get("informed"))

    # Text between the title and the first section that is not metadata opens the context.
    intro = "\n".join(line for line in preamble if not _META.match(line.strip())).strip()
    context = sections.pop("context and problem statement", sections.pop("context", ""))
    record["context_and_problem_statement"] = "\n\n".join(p for p in (intro, context) if p)
    record["decision_drivers"] = _bullet_items(sections.pop("decision drivers", ""))
    outcome = sections.pop("decision outcome", None)
    if isinstance(outcome, dict):
        chosen, justification = _chosen(outcome.pop("", ""))
        record["consequences"] = _consequences(outcome)
        record["confirmation"] = outcome.pop("confirmation", outcome.pop("validation", ""))
    else:  # Nygard: `## Decision` and `## Consequences`
        chosen, justification = _chosen(sections.pop("decision", ""))
        record["consequences"] = sections.pop("consequences", "")
        record["confirmation"] = ""
    record["chosen_option"] = chosen
    record["justification"] = justification
    if not record["confirmation"]:
        record["confirmation"] = sections.pop("validation", "")
    record["considered_options"] = _options(
        _bullet_items(sections.pop("considered options", "")),
        sections.pop("pros and cons of the options", {}),
    )
    story = meta.get("technical story")
    more = [f"Technical Story: {story}"] if story else []
    more.append(sections.pop("more information", sections.pop("links", "")))
    record["more_information"] = "\n\n".join(part for part in more if part)

    record["approach"] = str(extras.get("approach") or "")
    record["workload"] = str(extras.get("workload") or "")
    record["revisit_triggers"] = _plain(extras.get("revisit-triggers") or [])
    record["review_by"] = _date_text(extras.get("review-by") or "") or None
    record["evidence"] = _evidence(extras.get("evidence"))
    return record


def _evidence(value: object) -> object:
    items = _plain(value or [])
    if not isinstance(items, list):
        return items
    return [
        {**item, "kind": RENAMED_EVIDENCE_KINDS.get(item.get("kind"), item.get("kind"))}
        if isinstance(item, dict) and isinstance(item.get("kind"), str)
        else item
        for item in items
    ]


def _split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        return {}, text
    end = re.search(r"^(?:---|\.\.\.)\s*$", text[4:], re.M)
    if end is None:
        raise MadrError("front matter starts with '---' but never ends")
    try:
        matter = yaml.safe_load(text[4 : 4 + end.start()]) or {}
    except yaml.YAMLError as exc:
        raise MadrError(f"front matter is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(matter, dict):
        raise MadrError("front matter must be a YAML mapping (key: value lines)")
    return {str(k).lower(): v for k, v in matter.items()}, text[4 + end.end() :]


# Second-level sections whose third-level headings are structure, not content.
_NESTED = {"decision outcome", "pros and cons of the options"}
_KNOWN = {
    "context and problem statement", "context", "decision drivers", "considered options",
    "decision outcome", "pros and cons of the options", "more information", "links", "status",
    "decision", "consequences", "validation",
}  # fmt: skip


def _sections(body: str) -> tuple[str, list[str], dict]:
    """(title, lines between title and first section, {section: text | {subsection: text}}).

    Only the headings MADR and Nygard define structure the file; any other heading (and any
    heading inside fenced code) is content of the section it appears in, so that a field's own
    headings survive export → import.
    """
    title: str | None = None
    preamble: list[str] = []
    sections: dict = {}
    current: list[str] | None = None
    section = ""
    fenced = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        level = len(heading.group(1)) if heading else 0
        # MADR 2 marks optional sections with a comment in the heading itself.
        name = _COMMENT.sub("", heading.group(2)).strip() if heading else ""
        if level == 1 and title is None:
            title, current = name, preamble
        elif level == 2 and title is not None and name.lower() in _KNOWN:
            section = name.lower()
            if section in _NESTED:
                current = sections.setdefault(section, {}).setdefault("", [])
            else:
                current = sections.setdefault(section, [])
        elif level == 3 and section == "pros and cons of the options":
            current = sections[section].setdefault(name, [])
        elif level == 3 and section == "decision outcome" and name.lower() in _OUTCOME_PARTS:
            current = sections[section].setdefault(name.lower(), [])
        elif current is not None:
            current.append(line)
    if not title:
        raise MadrError("no title: expected a '# Title' heading")
    return title, preamble, _joined(sections)


_OUTCOME_PARTS = {"consequences", "confirmation", "validation", "positive consequences",
                  "negative consequences"}  # fmt: skip


def _joined(value: object) -> object:
    if isinstance(value, dict):
        return {key: _joined(item) for key, item in value.items()}
    lines = [line for line in value if not _COMMENT_LINE.match(line)]
    return "\n".join(lines).strip()


def _preamble(lines: list[str]) -> dict[str, str]:
    """MADR 2 / Log4brains `* Status: …` bullets and Nygard's `Date: …` line."""
    meta: dict[str, str] = {}
    for line in lines:
        match = _META.match(line.strip())
        if match:
            key = match.group(1).lower().replace("decision-makers", "deciders")
            meta[key] = match.group(2).strip()
    return meta


def _status(text: str) -> tuple[str, list[int], list[int]]:
    """Status word and the numbers named by "supersedes …" / "superseded by …" phrases."""
    status = ""
    supersedes: list[int] = []
    superseded_by: list[int] = []
    for line in (part.strip() for part in text.split("\n")):
        lowered = line.lower()
        if not line:
            continue
        found = re.match(r"^(superseded|superceded)\s+by\b(.*)$", lowered)
        if found:
            status = "superseded"
            superseded_by += _numbers(line[len(line) - len(found.group(2)) :])
        elif lowered.startswith("supersedes"):
            supersedes += _numbers(line[len("supersedes") :])
        elif not status:
            word = re.match(r"^[a-z]+", lowered)
            status = word.group(0) if word else lowered
    status = {"superceded": "superseded"}.get(status, status) or "draft"
    if status not in STATUSES:
        raise MadrError(f"unknown status {status!r}: expected one of {', '.join(STATUSES)}")
    return status, supersedes, superseded_by


def _numbers(text: str) -> list[int]:
    """Record numbers named in a reference list: `[ADR-0005](0005-x.md)`, `ADR-7`,
    `[2. Use X](0002-use-x.md)`, `3`."""
    found = []
    for piece in re.split(r",|\band\b", text):
        match = (
            re.search(r"\((?:[^)]*/)?0*(\d+)-[^)]*\)", piece)
            or re.search(r"ADR[- ]?0*(\d+)", piece, re.I)
            or re.search(r"\[0*(\d+)\.", piece)
            or re.search(r"\b0*(\d+)\b", piece)
        )
        if match:
            found.append(int(match.group(1)))
    return found


def _numbers_list(value: object) -> list[int]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    numbers = []
    for item in items:
        number = _first_int(item)
        if number is None:
            numbers += _numbers(str(item))
        else:
            numbers.append(number)
    return numbers


def _union(*lists: list[int]) -> list[int]:
    return list(dict.fromkeys(n for numbers in lists for n in numbers))


def _first_int(*values: object) -> int | None:
    for value in values:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return None


def _match_group(pattern: re.Pattern, text: str) -> str | None:
    match = pattern.match(text)
    return match.group(1) if match else None


def _date_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _names(value: object) -> list[str]:
    """A list of names from a YAML list or a comma-separated string."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _bullet_items(text: str) -> list[str]:
    """Items of a markdown bullet list; indented continuation lines join their item."""
    items: list[str] = []
    for line in text.split("\n"):
        bullet = _BULLET.match(line)
        if bullet:
            items.append(bullet.group(1).strip())
        elif items and line.startswith((" ", "\t")) and line.strip():
            items[-1] = f"{items[-1]} {line.strip()}"
    return items


def _chosen(text: str) -> tuple[str, str]:
    match = _CHOSEN.match(text.strip())
    if match:
        return match.group(1).strip(), (match.group(2) or "").strip()
    return "", text.strip()


def _consequences(outcome: dict) -> str:
    """MADR 3/4 `### Consequences` as written; MADR 2's positive/negative lists as
    "Good, because …" / "Bad, because …" bullets (MADR 4's wording)."""
    if outcome.get("consequences"):
        return outcome.pop("consequences")
    good = _bullet_items(outcome.pop("positive consequences", ""))
    bad = _bullet_items(outcome.pop("negative consequences", ""))
    lines = [f"* Good, because {item}" for item in good]
    lines += [f"* Bad, because {item}" for item in bad]
    return "\n".join(lines)


def _options(titles: list[str], details: Mapping[str, str]) -> list[dict]:
    """Considered options in the order of the "Considered Options" list, each with the
    description and good/neutral/bad arguments of its "Pros and Cons" subsection."""
    details = {key: value for key, value in details.items() if key}
    options = []
    for title in _union_titles(titles, details):
        description, arguments = _option_body(details.get(title, ""))
        options.append({"title": title, "description": description, "arguments": arguments})
    return options


def _union_titles(titles: list[str], details: Mapping[str, str]) -> list[str]:
    return list(dict.fromkeys([*titles, *details]))


def _option_body(text: str) -> tuple[str, list[dict]]:
    description: list[str] = []
    arguments: list[dict] = []
    in_argument = False
    for line in text.split("\n"):
        argument = _ARGUMENT.match(line)
        if argument:
            arguments.append({"kind": argument.group(1).lower(), "text": argument.group(2).strip()})
            in_argument = True
        elif in_argument and line.startswith((" ", "\t")) and line.strip():
            arguments[-1]["text"] = f"{arguments[-1]['text']} {line.strip()}"
        else:
            in_argument = False
            description.append(line)
    return "\n".join(description).strip(), arguments
