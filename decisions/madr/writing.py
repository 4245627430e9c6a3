"""Writing decision records as markdown, in three flavors. Pure Python (no Django).

- `madr4`: the MADR 4 template. YAML front matter with `status`, `date`, `decision-makers`,
  `consulted`, `informed`; Crossover's own fields under one `crossover:` key, which MADR tools
  ignore.
- `nygard`: what adr-tools reads. `# N. Title` on line 1, `Date:`, `## Status` with the
  status and its link lines (`Supersedes [N. Title](NNNN-….md)`), `## Context`, `## Decision`,
  `## Consequences`, then MADR's other sections.
- `log4brains`: MADR 2 as Log4brains reads it. A `- Status:` / `- Deciders:` / `- Date:` list
  under the title (a superseded record: `superseded by [slug](slug.md)`), links under
  `## Links`.

Nygard and Log4brains have no front matter, so there Crossover's fields go in a trailing
`<!-- crossover … -->` comment. Every flavor reads back into the same record (see reading).

A record is a dict with the API field names, `status_text` (a status as the source wrote it),
and `related` ([{"kind": "Amends", "number": 2}], as seen from this record). `names` maps
numbers to the export's file names, `titles` numbers to titles, for link lines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

import yaml

from decisions.madr.names import FLAVORS, code, export_names

EXTRAS = "crossover"
_BLOCK_START = re.compile(r"^\s*(?:[*+-]\s|\d+[.)]\s|#|>|```|~~~|\||<)")


def export_record(
    record: Mapping,
    flavor: str = "madr4",
    *,
    names: Mapping[int, str] | None = None,
    titles: Mapping[int, str] | None = None,
) -> str:
    """One record as a markdown file of `flavor` (madr4, nygard or log4brains)."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}: use one of {', '.join(FLAVORS)}")
    links = _Links(names or export_names([record], flavor), titles or {})
    writer = {"madr4": _madr4, "nygard": _nygard, "log4brains": _log4brains}[flavor]
    return "\n\n".join(part for part in writer(record, links) if part) + "\n"


def export_index(records: Iterable[Mapping], names: Mapping[int, str]) -> str:
    """`index.md` of an exported folder: one line per record, by number."""
    lines = ["# Architecture Decision Records", ""]
    for record in sorted(records, key=lambda r: r["number"]):
        lines.append(
            f"* [{code(record['number'])}]({names[record['number']]}) {record['title']} — "
            f"{_status_words(record)}, {record.get('date') or 'undated'}"
        )
    return "\n".join(lines) + "\n"


class _Links:
    def __init__(self, names: Mapping[int, str], titles: Mapping[int, str]):
        self.names, self.titles = names, titles

    def name(self, number: int) -> str:
        return self.names.get(number) or f"{number:04d}.md"

    def nygard(self, number: int) -> str:
        title = self.titles.get(number, code(number))
        return f"[{number}. {title}]({self.name(number)})"

    def slug(self, number: int) -> str:
        name = self.name(number)
        return f"[{name.removesuffix('.md')}]({name})"


# --- flavors --------------------------------------------------------------------------------


def _madr4(record: Mapping, links: _Links) -> list[str]:
    matter: dict[str, object] = {"status": _status_words(record)}
    if record.get("date"):
        matter["date"] = _as_date(record["date"])
    for key in ("decision_makers", "consulted", "informed"):
        matter[key.replace("_", "-")] = list(record.get(key) or [])
    extras = _extras(record, number=True)
    related = [{"kind": r["kind"], "to": r["number"]} for r in record.get("related") or []]
    if related:
        extras["related"] = related
    matter[EXTRAS] = extras
    return [f"---\n{_yaml(matter)}---", f"# {record['title']}", *_madr_body(record, links)]


def _nygard(record: Mapping, links: _Links) -> list[str]:
    status = []
    if record.get("status") == "superseded" and record.get("superseded_by"):
        status += [f"Superseded by {links.nygard(n)}" for n in record["superseded_by"]]
    else:
        status.append(record.get("status_text") or str(record.get("status", "")).capitalize())
    status += [f"Supersedes {links.nygard(n)}" for n in record.get("supersedes") or []]
    status += [f"{r['kind']} {links.nygard(r['number'])}" for r in record.get("related") or []]
    parts = [f"# {int(record['number'])}. {record['title']}"]
    if record.get("date"):
        parts.append(f"Date: {record['date']}")
    parts += _people(record, "")
    parts.append("## Status\n\n" + "\n\n".join(status))
    parts.append(_section("## Context", record.get("context_and_problem_statement")))
    parts.append(_section("## Decision Drivers", _bullets(record.get("decision_drivers") or [])))
    options = record.get("considered_options") or []
    parts.append(_section("## Considered Options", _bullets(o["title"] for o in options)))
    outcome = _outcome(record.get("chosen_option"), record.get("justification"))
    parts.append(_section("## Decision", outcome))
    parts.append(_section("## Consequences", record.get("consequences")))
    parts.append(_section("## Confirmation", record.get("confirmation")))
    parts += _pros_and_cons(options)
    parts.append(_section("## More Information", record.get("more_information")))
    parts.append(_extras_comment(record))
    return parts


def _log4brains(record: Mapping, links: _Links) -> list[str]:
    successors = list(record.get("superseded_by") or [])
    if record.get("status") == "superseded" and successors:
        status = f"superseded by {links.slug(successors.pop(0))}"
    else:
        status = _status_words(record)
    header = [f"- Status: {status}"]
    header += _people(record, "- ")
    if record.get("date"):
        header.append(f"- Date: {record['date']}")
    link_lines = [f"- Superseded by {links.slug(n)}" for n in successors]
    link_lines += [f"- Supersedes {links.slug(n)}" for n in record.get("supersedes") or []]
    link_lines += [f"- {r['kind']} {links.slug(r['number'])}" for r in record.get("related") or []]
    return [
        f"# {record['title']}",
        "\n".join(header),
        *_madr_body(record, links),
        _section("## Links", "\n".join(link_lines)),
        _extras_comment(record),
    ]


def _madr_body(record: Mapping, links: _Links) -> list[str]:
    """MADR's sections, in MADR's order. A record without options names its chosen option
    (or its title) as the one considered, as MADR expects both."""
    options = list(record.get("considered_options") or [])
    chosen = record.get("chosen_option") or ""
    if not options:
        chosen = chosen or record["title"]
        options = [{"title": chosen, "description": "", "arguments": []}]
    parts = [
        _section("## Context and Problem Statement", record.get("context_and_problem_statement")),
        _section("## Decision Drivers", _bullets(record.get("decision_drivers") or [])),
        _section("## Considered Options", _bullets(option["title"] for option in options)),
        "## Decision Outcome",
        _outcome(chosen, record.get("justification")),
        _section("### Consequences", record.get("consequences")),
        _section("### Confirmation", record.get("confirmation")),
        *_pros_and_cons(options),
        _section("## More Information", record.get("more_information")),
    ]
    return parts


def _pros_and_cons(options: list[Mapping]) -> list[str]:
    detailed = [o for o in options if o.get("description") or o.get("arguments")]
    if not detailed:
        return []
    parts = ["## Pros and Cons of the Options"]
    for option in detailed:
        arguments = "\n".join(
            f"* {arg['kind'].capitalize()}, because {arg['text']}"
            for arg in option.get("arguments") or []
        )
        body = "\n\n".join(b for b in (option.get("description") or "", arguments) if b)
        parts.append(f"### {option['title']}\n\n{body}")
    return parts


# --- pieces ---------------------------------------------------------------------------------


def _people(record: Mapping, prefix: str) -> list[str]:
    lines = []
    for label, key in (("Deciders", "decision_makers"), ("Consulted", "consulted"),
                       ("Informed", "informed")):  # fmt: skip
        if record.get(key):
            lines.append(f"{prefix}{label}: {', '.join(record[key])}")
    return lines if prefix else ["\n\n".join(lines)] if lines else []


def _extras(record: Mapping, *, number: bool) -> dict:
    extras: dict[str, object] = {"number": int(record["number"])} if number else {}
    if record.get("team"):
        extras["team"] = record["team"]
    if record.get("status_text"):
        extras["status"] = record["status"]
    if not record.get("considered_options"):
        extras["no-options"] = True  # the one option written is a stand-in
        if not record.get("chosen_option"):
            extras["no-choice"] = True
    keys = ["approach", "workload", "revisit_triggers", "review_by", "evidence"]
    if number:  # elsewhere the link lines say it
        keys[4:4] = ["supersedes", "superseded_by"]
    for key in keys:
        value = record.get(key)
        if value:
            extras[key.replace("_", "-")] = _as_date(value) if key == "review_by" else value
    return extras


def _extras_comment(record: Mapping) -> str:
    return f"<!-- {EXTRAS}\n{_yaml(_extras(record, number=False))}-->"


def _status_words(record: Mapping) -> str:
    """The status as the source wrote it, else ours; MADR 4 writes a superseded record's
    status as `superseded by ADR-0123`."""
    if record.get("status_text"):
        return record["status_text"]
    if record.get("status") == "superseded" and record.get("superseded_by"):
        return "superseded by " + ", ".join(code(n) for n in record["superseded_by"])
    return str(record.get("status") or "proposed")


def _outcome(chosen: str | None, justification: str | None) -> str:
    """`Chosen option: "X", because …`; a justification that starts with a list (or any
    block) goes under the line, not onto it."""
    justification = justification or ""
    if not chosen:
        return justification
    line = f"Chosen option: {_quoted(chosen)}"
    if not justification:
        return line
    if _BLOCK_START.match(justification):
        return f"{line}, because\n\n{justification}"
    return f"{line}, because {justification}"


def _quoted(text: str) -> str:
    for left, right in (('"', '"'), ("“", "”"), ("'", "'")):
        if left not in text and right not in text:
            return f"{left}{text}{right}"
    return f'"{text}"'


def _section(heading: str, body: str | None) -> str:
    return f"{heading}\n\n{body}" if body else ""


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


# libyaml's emitter when PyYAML was built with it: the same safe output, several times faster.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _yaml(value: object) -> str:
    return yaml.dump(
        _plain(value), Dumper=_DUMPER, sort_keys=False, allow_unicode=True,
        default_flow_style=None, width=1000,
    )  # fmt: skip
