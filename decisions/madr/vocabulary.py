"""The words ADR folders use for statuses and relations, and the lenient match of a chosen
option against the considered options. Pure Python (no Django)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

STATUSES = ("draft", "proposed", "accepted", "rejected", "deprecated", "superseded")
# What other tools and teams write for our statuses (compared case-insensitively, without
# punctuation). A status not listed here is kept as written and imported as proposed.
STATUS_SYNONYMS = {
    "draft": ("draft", "wip", "work in progress", "in progress", "idea", "todo", "to do"),
    "proposed": ("proposed", "proposal", "propose", "open", "pending", "in review", "review",
                 "under review", "under discussion", "in discussion", "rfc", "suggested",
                 "submitted", "requested"),
    "accepted": ("accepted", "accept", "approved", "adopted", "agreed", "decided", "done",
                 "implemented", "active", "final", "ratified", "valid", "current"),
    "rejected": ("rejected", "declined", "denied", "refused", "not accepted", "dismissed",
                 "withdrawn", "abandoned", "cancelled", "canceled"),
    "deprecated": ("deprecated", "obsolete", "retired", "archived", "outdated", "sunset",
                   "expired"),
    "superseded": ("superseded", "superceded", "superseeded", "supersceded", "replaced",
                   "overridden"),
}  # fmt: skip
_STATUS_WORDS = {word: status for status, words in STATUS_SYNONYMS.items() for word in words}

# Relation labels that make supersession, in every spelling seen in ADR folders (adr-tools
# wrote "Supercedes" / "Superceded by" for years).
SUPERSEDES = ("supersedes", "supercedes", "superseeds", "supersceeds", "replaces", "obsoletes")
SUPERSEDED_BY = ("superseded by", "superceded by", "superseeded by", "supersceded by",
                 "replaced by", "obsoleted by")  # fmt: skip
# Typed relations and how they read from the other record (adr-tools' `adr link` pairs).
PAIRS = {
    "amends": "Amended by",
    "clarifies": "Clarified by",
    "extends": "Extended by",
    "refines": "Refined by",
    "updates": "Updated by",
    "implements": "Implemented by",
    "enables": "Enabled by",
    "references": "Referenced by",
    "depends on": "Depended on by",
    "relates to": "Relates to",
    "related to": "Related to",
    "see also": "See also",
}
INVERSES = {
    **PAIRS,
    **{reverse.lower(): forward.capitalize() for forward, reverse in PAIRS.items()},
}
# The passive side of a pair ("amended by") and its active form ("Amends").
_ACTIVE = {
    reverse.lower(): forward.capitalize()
    for forward, reverse in PAIRS.items()
    if forward != reverse.lower()
}
MAX_LABEL = 60

_REF_WORDS = re.compile(r"\bADR[-_ ]?0*(\d{1,5})\b|(?<![\w.])#?0*(\d{1,5})(?![\w.])", re.I)
_NAME_NUMBER = re.compile(r"^0*(\d{1,5})-")
_TITLE_NUMBER = re.compile(r"^\s*(?:ADR[-_ ]?)?0*(\d{1,5})\s*[.:]\s")


def words(text: str) -> str:
    """Lower-case words without punctuation or accents: what lenient comparisons compare."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def status_of(text: str) -> str | None:
    """The status a phrase names (`Approved on 2020-01-02` → accepted), or None."""
    found = words(text).split()
    while found and found[0].isdigit():  # "2020-02-01 accepted", a status history line
        found.pop(0)
    for size in (3, 2, 1):
        status = _STATUS_WORDS.get(" ".join(found[:size]))
        if status:
            return status
    return None


def relation_of(label: str) -> tuple[str, str]:
    """("supersedes" | "superseded_by" | "related", the label as written, tidied)."""
    tidy = " ".join(label.strip().rstrip(":").split())
    key = words(tidy)
    if key in {words(w) for w in SUPERSEDES}:
        return "supersedes", tidy
    if key in {words(w) for w in SUPERSEDED_BY}:
        return "superseded_by", tidy
    return "related", tidy[:MAX_LABEL]


def inverse_of(label: str) -> str:
    """How a relation reads from its target ("Amends" → "Amended by"), when that is known."""
    return INVERSES.get(words(label), "")


def active_of(label: str) -> str:
    """ "Amends" for "Amended by": a link is kept from its active side, when that is known."""
    return _ACTIVE.get(words(label), "")


def is_label(text: str) -> bool:
    """Whether text before a link reads as a relation label: a few words, no sentence."""
    tidy = text.strip().rstrip(":").strip()
    return bool(tidy) and len(tidy) <= MAX_LABEL and bool(re.fullmatch(r"[A-Za-z][\w '-]*", tidy))


# --- references to other records ------------------------------------------------------------


def number_in_name(name: str) -> int | None:
    """`0007-use-x.md` → 7; a date-prefixed slug (`20201028-x.md`) has no number: only a
    leading number of 4 or 5 digits is one."""
    base = name.rsplit("/", 1)[-1]
    if date_in_name(base):
        return None
    match = re.match(r"^(\d{4,5})-", base)
    return int(match.group(1)) if match else None


def date_in_name(name: str) -> str:
    """`20201028-x.md` or `2020-10-28-x.md` → "2020-10-28" when that is a real day, else ""."""
    base = name.rsplit("/", 1)[-1]
    match = re.match(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[-_]|\.md$)", base)
    if not match:
        return ""
    year, month, day = (int(part) for part in match.groups())
    return iso_day(year, month, day)


def iso_day(year: int, month: int, day: int) -> str:
    try:
        return dt.date(year, month, day).isoformat() if year >= 1000 else ""
    except ValueError:
        return ""


def number_in_title(title: str) -> tuple[int | None, str]:
    """Nygard titles: `7. Use X` or `ADR-0007: Use X` → (7, "Use X")."""
    match = _TITLE_NUMBER.match(title)
    if not match:
        return None, title
    return int(match.group(1)), title[match.end() :].strip()


def link_target(href: str) -> str:
    """The file a relative link points to (`./0002-use-x.md#status` → `0002-use-x.md`), or ""
    for a link elsewhere."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return ""
    base = unquote(parts.path).rsplit("/", 1)[-1]
    if base and "." not in base:
        base += ".md"  # Log4brains links to a slug
    return base if base.lower().endswith(".md") else ""


def numbers_in(text: str) -> list[int]:
    """Record numbers named in plain words: `ADR-0005`, `ADR 7`, `#3`, `12`."""
    return [int(a or b) for a, b in _REF_WORDS.findall(text)]


def number_in_link(name: str, text: str) -> int | None:
    """A link's record number: from the file it points to, else its text (`2. Use X`)."""
    number = number_in_name(name) if name else None
    if number is None:
        number, _ = number_in_title(text + " ")
    if number is None:
        found = re.findall(r"\bADR[-_ ]?0*(\d{1,5})\b", text, re.I)
        number = int(found[0]) if found else None
    return number


# --- the chosen option ----------------------------------------------------------------------

_OPTION_NUMBER = re.compile(r"^option (\d{1,3})$")


def match_option(chosen: str, titles: Sequence[str]) -> str | None:
    """The option title `chosen` names: exactly, or ignoring case, quotes and punctuation, or as
    the one title it begins (or that begins it), or `Option 2` for the second; None if none."""
    if chosen in titles:
        return chosen
    key = words(chosen)
    if not key:
        return None
    keys = [words(title) for title in titles]
    same = [t for t, k in zip(titles, keys, strict=True) if k == key]
    if len(same) == 1:
        return same[0]
    prefixed = [
        t
        for t, k in zip(titles, keys, strict=True)
        if k and (k.startswith(key + " ") or key.startswith(k + " "))
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    numbered = _OPTION_NUMBER.match(key)
    if numbered and not prefixed and 1 <= int(numbered.group(1)) <= len(titles):
        return titles[int(numbered.group(1)) - 1]
    return None


_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "„": "“", "«": "»", "`": "`"}


def split_chosen(rest: str) -> tuple[str, str]:
    """`"X", because Y` → ("X", "Y") from the text after `Chosen option:`; quotes of any
    kind, or none; a bare name ends at `because` or at the end of its sentence."""
    rest = rest.strip()
    opener = rest[:1]
    if opener in _QUOTES:
        end = rest.find(_QUOTES[opener], 1)
        if end > 0:
            return rest[1:end].strip(), _after_name(rest[end + 1 :])
    because = re.search(r",?\s*\bbecause\b", rest, re.I)
    if because:
        return _bare(rest[: because.start()]), _after_name(rest[because.start() :])
    sentence = re.search(r"[.;](?:\s|$)", rest)
    if sentence:
        return _bare(rest[: sentence.start()]), _after_name(rest[sentence.start() :])
    return _bare(rest), ""


def _bare(name: str) -> str:
    return name.strip().strip("*_").strip()


def _after_name(text: str) -> str:
    return re.sub(r"^[\s,.;:]*(?:because\b)?[\s,:]*", "", text, flags=re.I).strip()
