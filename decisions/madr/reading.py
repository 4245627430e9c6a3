"""Reading one ADR file (MADR 2/3/4, Log4brains, Nygard / adr-tools) into a record dict with
the API field names of SPEC §6.3. Pure Python (no Django).

Liberal in what it reads, exact in what it keeps: sections are found by their usual names in
any case and with template comments; statuses by synonym (a badge by its alt text); the chosen
option leniently; relation lines in every spelling. Field text is cut from the source as
written. Nothing is invented: a missing date or status stays None, and `notes` says what was
read loosely.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from markdown_it.tree import SyntaxTreeNode

from decisions.madr import vocabulary as vocab
from decisions.madr.markdown import (
    Body,
    MadrError,
    extras_comment,
    heading,
    load_yaml,
    one_line,
    paragraph_raw,
    plain,
    split_front_matter,
)
from decisions.madr.relations import Ref, read_status, relation_line
from decisions.madr.values import (
    PLACEHOLDERS,
    date,
    evidence,
    first_number,
    join,
    lines,
    names,
    numbers,
)

EXTRAS = "crossover"
# Section names (compared as vocabulary.words) and what each holds.
SECTIONS = {
    "context": ("context and problem statement", "context", "problem statement", "background",
                "context and problem", "problem"),
    "drivers": ("decision drivers", "drivers", "decision criteria", "criteria", "forces"),
    "options": ("considered options", "options", "alternatives", "considered alternatives",
                "options considered"),
    "outcome": ("decision outcome", "outcome"),
    "decision": ("decision",),
    "consequences": ("consequences",),
    "positive": ("positive consequences",),
    "negative": ("negative consequences",),
    "confirmation": ("confirmation", "validation"),
    "pros_cons": ("pros and cons of the options", "pros and cons", "pros and cons of options",
                  "pros and cons of the alternatives"),
    "more": ("more information", "notes", "additional information", "references"),
    "links": ("links", "related decisions"),
    "status": ("status",),
}  # fmt: skip
_KIND = {vocab.words(name): kind for kind, names in SECTIONS.items() for name in names}
_OUTCOME_PARTS = ("consequences", "positive", "negative", "confirmation")
_META = re.compile(
    r"^\s*(?:[*+-]\s+)?[*_]*(status|deciders|decision[- ]makers|date|tags|technical story|"
    r"consulted|informed)[*_]*\s*:[*_]*\s*(.*)$",
    re.I,
)
_CHOSEN = re.compile(r"^\s*[*_]*chosen\s+(?:option|alternative)s?[*_]*\s*:?[*_]*\s*:?\s*", re.I)
_ARGUMENT = re.compile(r"^[*_]*(good|neutral|bad)\b[*_]*\s*[,:–-]?\s*(?:because\b[,:]?)?\s*(.*)$",
                       re.I | re.S)  # fmt: skip
_PRO_CON = re.compile(r"^[*_]*(pro|con)s?[*_]*\s*:\s*(.+)$", re.I | re.S)
_LABELS = {"pros": "good", "pro": "good", "advantages": "good", "benefits": "good",
           "good": "good", "strengths": "good", "cons": "bad", "con": "bad",
           "disadvantages": "bad", "drawbacks": "bad", "bad": "bad", "weaknesses": "bad",
           "risks": "bad", "neutral": "neutral"}  # fmt: skip


@dataclass
class _Section:
    blocks: list[SyntaxTreeNode] = field(default_factory=list)
    parts: dict[str, list[SyntaxTreeNode]] = field(default_factory=dict)
    value: str = ""  # `## Status: Accepted`


def parse_record(text: str, name: str = "") -> dict:
    """Read one ADR file into a record dict (API field names, plus `status_text`, `notes`,
    and references in `supersedes`, `superseded_by` and `related` as :class:`Ref`).

    `number` comes from the Crossover extras, a leading `NNNN-` of the file name or a Nygard
    title (`# 7. …`), else None. Raises :class:`MadrError` when the file is no decision
    record (no title, front matter that is not a YAML mapping).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    matter, body_text = split_front_matter(text)
    body = Body(body_text)
    extras = _extras(matter, body)
    title, preamble, sections = _outline(body, matter)
    meta, intro = _preamble(body, preamble)
    notes: list[str] = []
    record: dict = {"notes": notes}

    title_number, bare_title = vocab.number_in_title(title)
    record["title"] = bare_title if not matter else title
    record["number"] = first_number(
        extras.get("number"),
        vocab.number_in_name(name),
        title_number if not matter else None,
        notes=notes,
    )
    _read_status(record, extras, matter, meta, sections, body)
    record["date"] = date(matter.get("date", meta.get("date")), name, notes)
    deciders = matter.get("decision-makers", matter.get("deciders", meta.get("deciders")))
    record["decision_makers"] = names(deciders, "decision-makers", notes)
    record["consulted"] = names(matter.get("consulted", meta.get("consulted")), "consulted", notes)
    record["informed"] = names(matter.get("informed", meta.get("informed")), "informed", notes)

    context = sections.pop("context", _Section())
    record["context_and_problem_statement"] = join(intro, body.source(context.blocks))
    record["decision_drivers"] = lines(body, sections.pop("drivers", _Section()).blocks)
    _read_outcome(record, body, sections)
    _read_options(record, body, sections, extras)
    more = [f"Technical Story: {meta['technical story']}"] if meta.get("technical story") else []
    if meta.get("tags"):
        more.append(f"Tags: {meta['tags']}")
    more.append(body.source(sections.pop("more", _Section()).blocks))
    more.append(_read_links(record, body, sections.pop("links", _Section()).blocks))
    record["more_information"] = join(*more)
    _read_extras(record, extras, notes)
    return record


# --- structure ------------------------------------------------------------------------------


def _extras(matter: dict, body: Body) -> dict:
    """Crossover's own fields: a `crossover:` front-matter key (MADR 4 exports) or a trailing
    `<!-- crossover … -->` comment (Nygard and Log4brains exports, which have no front matter)."""
    extras = matter.pop(EXTRAS, None)
    for block in body.blocks:
        found = extras_comment(block)
        if found is not None and extras is None:
            extras = load_yaml(found, "the crossover comment")
    extras = extras or {}
    if not isinstance(extras, Mapping):
        raise MadrError(f"front matter key '{EXTRAS}' must be a mapping")
    return {str(key).lower(): value for key, value in extras.items()}


def _outline(body: Body, matter: dict) -> tuple[str, list, dict[str, _Section]]:
    """(title, blocks between title and first section, {section kind: _Section}).

    Only headings MADR and Nygard define structure the file; any other heading (and any
    heading inside code) is content of the section it appears in.
    """
    title: str | None = None
    preamble: list[SyntaxTreeNode] = []
    sections: dict[str, _Section] = {}
    current, section, kind = preamble, None, None
    for block in body.blocks:
        found = heading(block)
        if found and found.level == 1 and title is None:
            title, current = found.raw, preamble
            continue
        opened = _section_kind(found) if found and found.level == 2 else None
        part = _part(kind, section, found) if found and found.level == 3 else None
        if opened:
            kind, section = opened, sections.setdefault(opened, _Section())
            section.value = found.raw.split(":", 1)[1].strip() if ":" in found.raw else ""
            current = section.blocks
        elif part is not None:
            current = part
        elif extras_comment(block) is None:
            current.append(block)
    for blocks in [
        preamble,
        *(s.blocks for s in sections.values()),
        *(part for s in sections.values() for part in s.parts.values()),
    ]:
        while blocks and blocks[-1].type == "hr":  # a `---` rule that ends a section
            blocks.pop()
    title = title or str(matter.get("title") or "").strip()
    if not title:
        raise MadrError("no title: expected a '# Title' heading")
    return one_line(title), preamble, sections


def _section_kind(found) -> str | None:
    name = vocab.words(found.name.split(":", 1)[0] if ":" in found.name else found.name)
    name = re.sub(r"^\d+ ", "", name)  # "## 2. Context"
    return _KIND.get(name)


def _part(kind: str | None, section: _Section | None, found) -> list | None:
    """The list a level-3 heading opens inside its section: an outcome part, or an option of
    "Considered Options" or "Pros and Cons"; None when it is content."""
    if section is None:
        return None
    if kind == "outcome" and _KIND.get(vocab.words(found.name)) in _OUTCOME_PARTS:
        return section.parts.setdefault(_KIND[vocab.words(found.name)], [])
    if kind in ("options", "pros_cons"):
        return section.parts.setdefault(f"option:{found.raw}", [])
    return None


def _preamble(body: Body, blocks: list) -> tuple[dict[str, str], str]:
    """MADR 2 / Log4brains `* Status: …` bullets and Nygard's `Date: …` line, and the rest
    (which opens the context)."""
    meta: dict[str, str] = {}
    kept: list[str] = []
    for block in blocks:
        items = body.items(block)
        lines = [item.raw for item in items] if items else body.lines_of(block)
        rest = []
        for line in lines:
            match = _META.match(line)
            if match:
                key = match.group(1).lower().replace("decision-makers", "deciders")
                meta.setdefault(key.replace("decision makers", "deciders"), match.group(2).strip())
            else:
                rest.append(f"* {line}" if items else line)
        if rest and len(rest) == len(lines):
            kept.append(body.source([block]))
        elif rest:
            kept.append("\n".join(rest))
    return meta, "\n\n".join(kept).strip()


# --- status and relations -------------------------------------------------------------------


def _read_status(record, extras, matter, meta, sections, body) -> None:
    texts: list[str] = []
    if isinstance(matter.get("status"), str | int | float):
        texts.append(str(matter["status"]))
    elif meta.get("status"):
        texts.append(meta["status"])
    section = sections.pop("status", None)
    if section is not None:
        texts += [section.value] if section.value else []
        for block in section.blocks:
            items = body.items(block)
            texts += [item.raw for item in items] if items else body.lines_of(block)
    status, written, relations = read_status(texts)
    record["supersedes"] = relations["supersedes"]
    record["superseded_by"] = relations["superseded_by"]
    record["related"] = relations["related"]
    own = str(extras.get("status") or "")
    if own in vocab.STATUSES:  # a Crossover export keeps its status beside the text
        status = own
    record["status"] = status
    record["status_text"] = written
    if written and status is None:
        record["status"] = "proposed"
        record["notes"].append(
            f"status '{written}' is not one Crossover knows: kept as written, imported as proposed"
        )


def _read_links(record: dict, body: Body, blocks: list) -> str:
    """MADR 2 `## Links`: relation items become relations; the rest stays as text."""
    kept = []
    for block in blocks:
        items = body.items(block)
        if not items:
            kept.append(body.source([block]))
            continue
        for item in items:
            relation = relation_line(item.raw)
            if relation is None:
                kept.append(item.source)
            elif relation[0] == "related":
                record["related"] += [{"label": relation[1], "ref": r} for r in relation[2]]
            else:
                record[relation[0]] += [r for r in relation[2] if r not in record[relation[0]]]
    return "\n".join(kept).strip()


# --- outcome and options --------------------------------------------------------------------


def _read_outcome(record: dict, body: Body, sections: dict[str, _Section]) -> None:
    outcome = sections.pop("outcome", None)
    decision = sections.pop("decision", _Section())
    parts = outcome.parts if outcome else {}
    blocks = (outcome.blocks if outcome else []) + decision.blocks
    record["chosen_option"], record["justification"] = _chosen(body, blocks)
    consequences = body.source(parts.get("consequences", []))
    consequences = consequences or body.source(sections.pop("consequences", _Section()).blocks)
    if not consequences:
        good = lines(body, parts.get("positive") or sections.pop("positive", _Section()).blocks)
        bad = lines(body, parts.get("negative") or sections.pop("negative", _Section()).blocks)
        consequences = "\n".join(
            [f"* Good, because {item}" for item in good]
            + [f"* Bad, because {item}" for item in bad]
        )
    record["consequences"] = consequences
    confirmation = parts.get("confirmation") or sections.pop("confirmation", _Section()).blocks
    record["confirmation"] = body.source(confirmation)


def _chosen(body: Body, blocks: list) -> tuple[str, str]:
    """(chosen option as written, justification) of a Decision Outcome or Nygard Decision."""
    for i, block in enumerate(blocks):
        raw = paragraph_raw(block)
        label = _CHOSEN.match(raw)
        if label:
            name, because = vocab.split_chosen(raw[label.end() :])
            parts = [body.source(blocks[:i]), because, body.source(blocks[i + 1 :])]
            return plain(name).strip("\"'“”‘’ "), join(*parts)
    return "", body.source(blocks)


def _read_options(record: dict, body: Body, sections: dict, extras: dict) -> None:
    options: list[dict] = []
    listed = sections.pop("options", _Section())
    for block in listed.blocks:
        for item in body.items(block):
            if vocab.words(item.raw) not in PLACEHOLDERS:
                _merge_option(options, item.raw, item.rest, [])
    # An option may also be a `###` heading, under Considered Options or Pros and Cons, with
    # its description and arguments below it.
    described = [*listed.parts.items(), *sections.pop("pros_cons", _Section()).parts.items()]
    for key, blocks in described:
        description, arguments = _option_body(body, blocks)
        _merge_option(options, key.removeprefix("option:"), description, arguments)
    if extras.get("no-options"):  # a Crossover export's stand-in option
        options = []
        if extras.get("no-choice"):
            record["chosen_option"] = ""
    record["considered_options"] = options
    chosen = record["chosen_option"]
    if not chosen or not options:
        return
    match = vocab.match_option(chosen, [option["title"] for option in options])
    if match is None:
        record["notes"].append(
            f"chosen option '{chosen}' is none of the considered options: kept as written"
        )
    elif match != chosen:
        record["notes"].append(f"chosen option '{chosen}' read as '{match}'")
        record["chosen_option"] = match


def _merge_option(options: list[dict], title: str, description: str, arguments: list) -> None:
    title = one_line(title)
    if not title:
        return
    same = vocab.match_option(title, [option["title"] for option in options])
    if same is None:
        options.append({"title": title, "description": description, "arguments": arguments})
        return
    option = next(option for option in options if option["title"] == same)
    option["description"] = join(option["description"], description)
    option["arguments"] += arguments


def _option_body(body: Body, blocks: list) -> tuple[str, list[dict]]:
    """An option's description and its good/neutral/bad arguments (`* Good, because …`, or
    the items of a list under a "Pros" / "Cons" label)."""
    description: list[str] = []
    arguments: list[dict] = []
    label = None
    for block in blocks:
        found = heading(block)
        words = vocab.words(found.name if found else plain(paragraph_raw(block)))
        if (found or block.type == "paragraph") and words in _LABELS:
            label = _LABELS[words]
            continue
        items = body.items(block)
        if not items:
            description.append(body.source([block]))
            label = None
            continue
        for item in items:
            argument = _argument(item, label)
            if argument:
                arguments.append(argument)
            else:
                description.append(item.source)
        label = None
    return join(*description), arguments


def _argument(item, label: str | None) -> dict | None:
    match = _ARGUMENT.match(item.raw) or _PRO_CON.match(item.raw)
    kind, text = (match.group(1).lower(), match.group(2)) if match else (label, item.raw)
    text = one_line(f"{text} {item.rest}")
    if kind is None or not text:
        return None
    return {"kind": {"pro": "good", "con": "bad"}.get(kind, kind), "text": text}


# --- values ---------------------------------------------------------------------------------


def _read_extras(record: dict, extras: dict, notes: list[str]) -> None:
    record["approach"] = str(extras.get("approach") or "")
    record["workload"] = extras.get("workload") or ""
    record["revisit_triggers"] = extras.get("revisit-triggers") or []
    review_by = extras.get("review-by")
    record["review_by"] = date(review_by, "", notes, field_name="review-by") if review_by else None
    record["evidence"] = evidence(extras.get("evidence"))
    for key, relation in (("supersedes", "supersedes"), ("superseded-by", "superseded_by")):
        known = {ref.number for ref in record[relation]}
        record[relation] += [Ref(number=n) for n in numbers(extras.get(key)) if n not in known]
    related = extras.get("related")
    for link in related if isinstance(related, list) else []:
        label, number = (link.get("kind"), link.get("to")) if isinstance(link, dict) else ("", "")
        if isinstance(label, str) and vocab.is_label(label) and numbers(number):
            record["related"].append({"label": label, "ref": Ref(number=numbers(number)[0])})
    record["exported_by"] = str(extras.get("team") or "")
