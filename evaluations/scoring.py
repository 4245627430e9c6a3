"""Scorers of benchmark outputs (SPEC §7.3): pure functions, no Django.

Each per-call scorer returns 1.0 (pass), 0.0 (fail) or None (cannot be scored: the item has no
expected value to compare with). A summary figure is the mean of a scorer's per-call values,
except macro-F1, which is computed from the (expected label, predicted label) pairs of the calls;
both can therefore be recomputed from the stored per-call rows.

Classification compares labels: the expected label is `expected` itself, or its `label_field`
when `expected` is an object; the output's label is its `label_field` when the output parses as
a JSON object, the string when it parses as a JSON string, else the stripped text. An output that
does not parse, or lacks the field, gets a label that matches nothing it should not: it is wrong,
never skipped.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from jsonschema import exceptions as jsonschema_exceptions
from jsonschema import validators

DEFAULT_LABEL_FIELD = "category"

EXACT_MATCH = "exact_match"
ACCURACY = "accuracy"
MACRO_F1 = "macro_f1"
JSON_VALID = "json_valid"
JSON_SCHEMA_VALID = "json_schema_valid"
CONTAINS = "contains"
REGEX = "regex"
LLM_JUDGE = "llm_judge"
SCORERS = (EXACT_MATCH, ACCURACY, MACRO_F1, JSON_VALID, JSON_SCHEMA_VALID, CONTAINS, REGEX,
           LLM_JUDGE)  # fmt: skip

_MISSING = object()


def _refuse_constant(name: str) -> float:
    # Python's json module reads NaN and Infinity, which no JSON consumer accepts.
    raise ValueError(f"{name} is not JSON")


def _parsed(text: str) -> Any:
    """The JSON value of `text` (surrounding whitespace allowed), or _MISSING."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return _MISSING


def _label_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return None


def output_label(output: str, label_field: str = DEFAULT_LABEL_FIELD) -> str | None:
    """The label an output gives (see the module docstring); None when it gives none."""
    value = _parsed(output)
    if isinstance(value, dict):
        return _label_text(value.get(label_field))
    if isinstance(value, str):
        return value.strip()
    return output.strip()


def expected_label(expected: Any, label_field: str = DEFAULT_LABEL_FIELD) -> str | None:
    """The label an item expects: `expected`, or its `label_field` when it is an object."""
    if isinstance(expected, Mapping):
        return _label_text(expected.get(label_field))
    return _label_text(expected)


def exact_match(output: str, expected: Any) -> float | None:
    """A text `expected` equals the stripped output; any other JSON value equals the parsed
    output (so key order and spacing do not matter)."""
    if expected is None:
        return None
    if isinstance(expected, str):
        return float(output.strip() == expected.strip())
    value = _parsed(output)
    return float(value is not _MISSING and _same_json(value, expected))


def _same_json(a: Any, b: Any) -> bool:
    # 1 == 1.0 in JSON, but true is not 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def label_match(output: str, expected: Any, label_field: str = DEFAULT_LABEL_FIELD) -> float | None:
    """Per-call accuracy: 1.0 when the output's label is the expected label."""
    want = expected_label(expected, label_field)
    if want is None:
        return None
    return float(output_label(output, label_field) == want)


def json_valid(output: str) -> float:
    return float(_parsed(output) is not _MISSING)


def schema_errors(schema: Any) -> list[str]:
    """Why `schema` is not a valid JSON Schema (empty when it is), per its `$schema` draft."""
    if not isinstance(schema, dict | bool):
        return ["A JSON Schema is an object (or true/false)."]
    try:
        validators.validator_for(schema).check_schema(schema)
    except jsonschema_exceptions.SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path)
        return [f"{where or 'schema'}: {error.message}"]
    except RecursionError:
        return ["The schema is nested too deeply."]
    refs = set(_refs(schema))
    remote = sorted(ref for ref in refs if not ref.startswith("#"))
    if remote:
        # Validation must never fetch anything: only references inside the schema resolve.
        return [f"Only local references (#/…) are supported, not {', '.join(remote[:3])}."]
    dangling = sorted(ref for ref in refs if not _points_into(schema, ref))
    if dangling:
        return [f"These references point at nothing in the schema: {', '.join(dangling[:3])}."]
    return []


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _points_into(schema: Any, ref: str) -> bool:
    """Whether a `#/a/b` JSON pointer finds a node (`#` and `#anchor` are taken as given)."""
    if not ref.startswith("#/"):
        return True
    node = schema
    for raw in ref[2:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def schema_validator(schema: Mapping | bool) -> Callable[[Any], bool]:
    """A checker for one schema (built once, used for every call of a run)."""
    cls = validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator.is_valid


def json_schema_valid(output: str, is_valid: Callable[[Any], bool]) -> float:
    """1.0 when the output parses as JSON and satisfies the schema of `is_valid`."""
    value = _parsed(output)
    return float(value is not _MISSING and is_valid(value))


def contains(output: str, needle: str, *, ignore_case: bool = False) -> float:
    if ignore_case:
        return float(needle.casefold() in output.casefold())
    return float(needle in output)


def regex_error(pattern: str) -> str | None:
    """Why `pattern` is not a valid regular expression, or None."""
    try:
        re.compile(pattern)
    except re.error as error:
        return f"Not a valid regular expression: {error}."
    return None


def regex(output: str, pattern: str | re.Pattern[str]) -> float:
    """1.0 when the pattern is found anywhere in the output (`re.search`)."""
    return float(re.search(pattern, output) is not None)


def macro_f1(pairs: Iterable[tuple[str | None, str | None]]) -> float:
    """Macro-averaged F1 over (expected label, predicted label) pairs.

    Averaged over every label that is expected or predicted; a call with no predicted label
    (None) is a miss for its expected label and a false positive for none. A label's F1 is 0
    when it has no true positive (no division by zero).
    """
    return macro_f1_of_counts(Counter(pairs))


def macro_f1_of_counts(counts: Mapping[tuple[str | None, str | None], int]) -> float:
    """`macro_f1` of pairs given as (expected, predicted) → how many times (the bootstrap's
    statistic: a resample is drawn as counts)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    labels: set[str] = set()
    for (want, got), times in counts.items():
        if want is None or not times:
            continue
        labels.add(want)
        if got is not None:
            labels.add(got)
        if want == got:
            tp[want] += times
        else:
            fn[want] += times
            if got is not None:
                fp[got] += times
    if not labels:
        raise ValueError("macro-F1 of no labelled pairs")
    scores = [2 * tp[label] / (2 * tp[label] + fp[label] + fn[label]) if tp[label] else 0.0
              for label in labels]  # fmt: skip
    return math.fsum(scores) / len(scores)


# LLM-as-judge: another model grades each output on a 1-5 scale against criteria --------------

JUDGE_SCALE = (1, 5)
DEFAULT_JUDGE_CRITERIA = (
    "Is the answer correct and complete for the request? When an expected answer is given, "
    "an answer that means the same is correct, whatever its wording or format."
)
JUDGE_INSTRUCTIONS = "You grade an assistant's answer to a request against the criteria below."


def judge_messages(
    *, criteria: str, request: str, expected: Any, output: str
) -> list[dict[str, str]]:
    """The chat request asking a judge model to grade one output (answered as JSON)."""
    low, high = JUDGE_SCALE
    system = (
        f"{JUDGE_INSTRUCTIONS} Answer with JSON only: "
        f'{{"score": {low}-{high}, "reason": "..."}}, where {high} means the answer fully '
        f"meets the criteria and {low} that it does not meet them at all.\n\n"
        f"Criteria: {criteria or DEFAULT_JUDGE_CRITERIA}"
    )
    parts = [f"Request:\n{request}"]
    if expected is not None:
        shown = expected if isinstance(expected, str) else json.dumps(expected, sort_keys=True)
        parts.append(f"Expected answer:\n{shown}")
    parts.append(f"Answer to grade:\n{output}")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


_GRADE_RE = re.compile(r"score\W{0,3}(\d+(?:\.\d+)?)", re.IGNORECASE)


def judge_grade(text: str, scale: tuple[int, int] = JUDGE_SCALE) -> float | None:
    """A judge's grade mapped from `scale` to 0..1: the `score` of a JSON object, or a
    "score: N" in prose; None when the answer holds no grade on the scale."""
    low, high = scale
    parsed = _parsed(text)
    if isinstance(parsed, dict):
        value = parsed.get("score")
    else:
        match = _GRADE_RE.search(text)
        value = float(match.group(1)) if match else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        return None
    return (value - low) / (high - low)


def mean_score(values: Sequence[float | None]) -> float | None:
    """The summary of a per-call scorer: the mean of the values that could be scored."""
    scored = [value for value in values if value is not None]
    return sum(scored) / len(scored) if scored else None
