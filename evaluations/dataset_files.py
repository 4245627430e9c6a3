"""Dataset files and the arithmetic of splits and duplicates (SPEC §7.2). Pure Python.

Reading: a JSONL body, a JSON list or a CSV file becomes `Record`s, each with the line it came
from (the physical line of a JSONL or CSV file, the 1-based position in a JSON list) and either
its fields or why it could not be read. Validating the fields is the item serializer's job.

CSV columns: `expected`, `split`, `tags` (separated by commas, semicolons, bars or spaces) and
`conversation` (a JSON list of messages) are item fields; every other column is an input
variable (`input.NAME` or plain `NAME`). An empty `expected` or `split` cell means none.

Duplicates: `content_hash` identifies an exact duplicate (same variables, same values, same
conversation); `text_hash` a normalised one (the same words, ignoring case, Unicode forms,
punctuation, spacing and the variables' names). A split keeps every normalised duplicate group
in one split, so splitting never creates leakage.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

SPLITS = ("train", "validation", "test")
ITEM_FIELDS = ("expected", "split", "tags", "conversation")
TAG_SEPARATORS = re.compile(r"[,;|\s]+")
NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Record:
    line: int
    data: dict[str, Any] | None = None
    error: str | None = None


def decode(raw: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); ValueError when it is not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read)."
        ) from None


def parse_jsonl(text: str) -> list[Record]:
    """One JSON object per line; blank lines are skipped."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as error:
            records.append(Record(number, error=f"Not valid JSON: {error}."))
            continue
        records.append(_object(number, value))
    return records


def parse_json_list(value: Any) -> list[Record]:
    """A JSON list of item objects (already decoded)."""
    if not isinstance(value, list):
        return [Record(1, error="Send a JSON list of items, or JSON Lines.")]
    return [_object(number, item) for number, item in enumerate(value, start=1)]


def _object(line: int, value: Any) -> Record:
    if not isinstance(value, dict):
        return Record(line, error="Each item is a JSON object.")
    return Record(line, data=value)


def parse_csv(text: str, *, json_expected: bool = False) -> list[Record]:
    """Rows of a CSV file with a header; `json_expected` reads `expected` cells as JSON."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as error:
        return [Record(1, error=f"Not valid CSV: {error}.")]
    names = [name.strip() for name in header]
    problem = _header_problem(names)
    if problem:
        return [Record(1, error=problem)]
    records = []
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            records.append(Record(start, error=f"Not valid CSV: {error}."))
            break
        if any(cell.strip() for cell in row):
            records.append(_row(start, names, row, json_expected))
        start = reader.line_num + 1
    return records


def _header_problem(names: list[str]) -> str | None:
    if not any(names):
        return "The first line must name the columns."
    if "" in names:
        return f"Column {names.index('') + 1} has no name."
    variables = [_variable(name) for name in names if name not in ITEM_FIELDS]
    repeated = sorted({name for name in variables if variables.count(name) > 1})
    if repeated or len(set(names)) != len(names):
        return f"Columns are named twice: {', '.join(repeated or names)}."
    if not variables and "conversation" not in names:
        return "Name at least one input column (any column other than expected, split, tags)."
    return None


def _variable(column: str) -> str:
    return column.removeprefix("input.")


def _row(line: int, names: list[str], row: list[str], json_expected: bool) -> Record:
    if len(row) != len(names):
        return Record(line, error=f"Expected {len(names)} cells, found {len(row)}.")
    data: dict[str, Any] = {"input": {}}
    for name, cell in zip(names, row, strict=True):
        if name == "expected":
            if cell.strip():
                data["expected"] = cell
                if json_expected:
                    try:
                        data["expected"] = json.loads(cell)
                    except (ValueError, RecursionError):
                        return Record(line, error="expected: not valid JSON.")
        elif name == "split":
            if cell.strip():
                data["split"] = cell.strip()
        elif name == "tags":
            data["tags"] = [tag for tag in TAG_SEPARATORS.split(cell) if tag]
        elif name == "conversation":
            if cell.strip():
                try:
                    data["conversation"] = json.loads(cell)
                except (ValueError, RecursionError):
                    return Record(line, error="conversation: not valid JSON.")
        else:
            data["input"][_variable(name)] = cell
    return Record(line, data=data)


# Duplicates -------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(input: Mapping[str, Any], conversation: Sequence[Mapping] | None) -> str:
    """SHA-256 of the canonical JSON of what the model is given."""
    canonical = _canonical({"input": input, "conversation": conversation or []})
    return hashlib.sha256(canonical.encode()).hexdigest()


def _texts(input: Mapping[str, Any], conversation: Sequence[Mapping] | None) -> Iterable[str]:
    for name in sorted(input):
        value = input[name]
        yield value if isinstance(value, str) else _canonical(value)
    for message in conversation or []:
        content = message.get("content")
        yield content if isinstance(content, str) else _canonical(content)


def normalise(text: str) -> str:
    """Case-folded NFKC text with every run of punctuation, symbols and spaces made one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return NOT_WORD.sub(" ", folded).strip()


def text_hash(input: Mapping[str, Any], conversation: Sequence[Mapping] | None) -> str:
    """SHA-256 of the normalised text of the values (their variables' names left out)."""
    text = "\n".join(normalise(part) for part in _texts(input, conversation))
    return hashlib.sha256(text.encode()).hexdigest()


# Splits -----------------------------------------------------------------------------------------


def split_counts(total: int, ratios: Mapping[str, Decimal]) -> dict[str, int]:
    """How many of `total` items each split gets: largest remainders, ties in split order."""
    exact = {split: Decimal(total) * ratios.get(split, Decimal(0)) for split in SPLITS}
    counts = {split: int(value.to_integral_value(ROUND_FLOOR)) for split, value in exact.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(SPLITS, key=lambda s: (-(exact[s] - counts[s]), SPLITS.index(s)))
    for split in by_remainder[:left]:
        counts[split] += 1
    return counts


def assign_splits(keys: Sequence[str], ratios: Mapping[str, Decimal], seed: int) -> list[str]:
    """A split for each item, given each item's duplicate-group key (its text hash).

    Groups are put in a pseudo-random order fixed by the seed and the keys alone (not by the
    order of the items), then laid end to end over train, validation and test. A group never
    straddles splits; with no duplicates the counts are exactly `split_counts`.
    """
    sizes: dict[str, int] = {}
    for key in keys:
        sizes[key] = sizes.get(key, 0) + 1
    order = sorted(sizes, key=lambda key: hashlib.sha256(f"{seed}:{key}".encode()).hexdigest())
    counts = split_counts(len(keys), ratios)
    bounds, total = [], 0
    for split in SPLITS:
        total += counts[split]
        bounds.append((total, split))
    group_split, start = {}, 0
    for key in order:
        group_split[key] = next((s for bound, s in bounds if start < bound), bounds[-1][1])
        start += sizes[key]
    return [group_split[key] for key in keys]
