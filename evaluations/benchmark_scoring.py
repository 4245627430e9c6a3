"""The scorers a benchmark run applies to one call's output (pure: no Django).

A run's scorers are `{"name": …, settings}` dicts (`needle`/`ignore_case` for `contains`,
`pattern` for `regex`, `judge`/`criteria` for `llm_judge`); `Scorer.score` returns each per-call
value plus the (expected, predicted) labels that macro-F1 is recomputed from. `llm_judge` reads
the judge's answer (its call is made by the runner, `evaluations.runner.Judge`): its grade on
1-5 as 0..1, or None when the judge failed or gave no grade (the output is then not scored).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evaluations import scoring


@dataclass(frozen=True)
class CallScore:
    scores: dict[str, float | None]
    expected_label: str | None
    predicted_label: str | None


@dataclass(frozen=True)
class Scorer:
    """A run's scorers, compiled once (regexes, the schema validator) for all its calls."""

    specs: Sequence[Mapping[str, Any]]
    label_field: str = scoring.DEFAULT_LABEL_FIELD
    schema_check: Callable[[Any], bool] | None = None

    @classmethod
    def build(cls, specs, *, label_field: str, output_schema: Any = None) -> Scorer:
        check = scoring.schema_validator(output_schema) if output_schema is not None else None
        return cls(specs=list(specs), label_field=label_field, schema_check=check)

    def _one(
        self, spec: Mapping[str, Any], output: str, expected: Any, verdict: str | None
    ) -> float | None:
        name = spec["name"]
        if name == scoring.EXACT_MATCH:
            return scoring.exact_match(output, expected)
        if name in (scoring.ACCURACY, scoring.MACRO_F1):
            return scoring.label_match(output, expected, self.label_field)
        if name == scoring.JSON_VALID:
            return scoring.json_valid(output)
        if name == scoring.JSON_SCHEMA_VALID:
            if self.schema_check is None:
                return None
            return scoring.json_schema_valid(output, self.schema_check)
        if name == scoring.CONTAINS:
            return scoring.contains(
                output, spec["needle"], ignore_case=spec.get("ignore_case", False)
            )
        if name == scoring.REGEX:
            return scoring.regex(output, _compiled(spec["pattern"]))
        if name == scoring.LLM_JUDGE:
            return None if verdict is None else scoring.judge_grade(verdict)
        raise ValueError(f"unknown scorer {name!r}")

    def score(self, output: str, expected: Any, verdict: str | None = None) -> CallScore:
        """The call's scores; `verdict` is the judge's answer (for `llm_judge`)."""
        scores = {spec["name"]: self._one(spec, output, expected, verdict) for spec in self.specs}
        labelled = any(s["name"] in (scoring.ACCURACY, scoring.MACRO_F1) for s in self.specs)
        if not labelled:
            return CallScore(scores, None, None)
        return CallScore(
            scores,
            scoring.expected_label(expected, self.label_field),
            scoring.output_label(output, self.label_field),
        )


def judge_spec(specs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The run's `llm_judge` scorer (`judge`: the grading candidate's label), if it has one."""
    return next((spec for spec in specs if spec["name"] == scoring.LLM_JUDGE), None)


_patterns: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _patterns:
        _patterns[pattern] = re.compile(pattern)
    return _patterns[pattern]
