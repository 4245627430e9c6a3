"""Revisit triggers of a decision record: validation, plain-words descriptions, assessment.

A trigger is `{"metric": …, "comparator": …, "threshold": …}`, e.g. `monthly_requests > 100000`:
"document why you chose and what would trigger a switch". Workload assessments call
:func:`evaluate_triggers` with their figures; every trigger that holds is a reason to revisit.
Pure Python (no Django), so the same rules serve forms, the API, imports and assessments.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # words for a sentence: "monthly requests"
    unit: str  # count | ms | rate | usd | months


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("monthly_requests", "monthly requests", "count"),
        Metric("monthly_tokens", "monthly tokens", "count"),
        Metric("latency_p99_ms", "p99 latency", "ms"),
        Metric("format_error_rate", "format error rate", "rate"),
        Metric("cost_per_request", "cost per request", "usd"),
        Metric("monthly_cost", "monthly cost", "usd"),
        Metric("payback_months", "payback period", "months"),
        Metric("monthly_savings", "monthly savings from fine-tuning", "usd"),
    )
}

COMPARATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}


class TriggerError(ValueError):
    """Invalid triggers; `.errors` is a list of `{"field": "[i].metric", "message": …}`."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def validate_triggers(raw: object) -> list[dict[str, object]]:
    """Normalise a list of triggers, or raise :class:`TriggerError` naming every bad field.

    Thresholds come back as int when whole, else float (JSON-friendly); strings such as
    "100000" or "0.05" from forms are accepted.
    """
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise TriggerError([{"field": "", "message": "must be a list of triggers"}])
    errors: list[dict[str, str]] = []
    cleaned: list[dict[str, object]] = []
    for index, item in enumerate(raw):
        problems = _problems(item)
        errors.extend({"field": f"[{index}]{field}", "message": msg} for field, msg in problems)
        if not problems:
            cleaned.append(
                {
                    "metric": item["metric"],
                    "comparator": item["comparator"],
                    "threshold": _plain(_number(item["threshold"])),
                }
            )
    if errors:
        raise TriggerError(errors)
    return cleaned


def _problems(item: object) -> list[tuple[str, str]]:
    """(field suffix, message) for everything wrong with one trigger."""
    if not isinstance(item, Mapping):
        return [("", "must be an object with metric, comparator and threshold")]
    problems = []
    unknown = sorted(set(item) - {"metric", "comparator", "threshold"})
    if unknown:
        problems.append(("", f"unknown key(s): {', '.join(map(str, unknown))}"))
    metric, comparator = item.get("metric"), item.get("comparator")
    if metric not in METRICS:
        known = ", ".join(METRICS)
        problems.append((".metric", f"unknown metric {metric!r}; choose one of {known}"))
    if comparator not in COMPARATORS:
        known = " ".join(COMPARATORS)
        problems.append((".comparator", f"unknown comparator {comparator!r}; use one of {known}"))
    if _number(item.get("threshold")) is None:
        problems.append((".threshold", "must be a number"))
    return problems


def describe_trigger(trigger: Mapping[str, object]) -> str:
    """The trigger in plain words: "revisit when monthly requests > 100,000"."""
    return f"revisit when {_condition(trigger)}"


def evaluate_triggers(triggers: list[dict], metrics: Mapping[str, object]) -> list[str]:
    """Reasons for every trigger that holds for `metrics`; a metric that is missing or None
    never fires (nothing observed is not evidence). Unknown metrics or comparators are ignored
    here: triggers are validated when they are stored."""
    reasons = []
    for trigger in triggers:
        metric = METRICS.get(trigger.get("metric"))
        compare = COMPARATORS.get(trigger.get("comparator"))
        threshold = _number(trigger.get("threshold"))
        value = _number(metrics.get(trigger.get("metric"))) if metric else None
        if compare is None or threshold is None or value is None:
            continue
        if compare(value, threshold):
            reasons.append(
                f"{metric.label} is {format_value(metric.name, value)} "
                f"(trigger: {_condition(trigger)})"
            )
    return reasons


def format_value(metric: str, value: object) -> str:
    """A metric's value for a sentence, in its unit: 120,000 · 640 ms · 5% · $0.0012."""
    number = _number(value)
    if number is None:
        return str(value)
    unit = METRICS[metric].unit if metric in METRICS else "count"
    if unit == "ms":
        return f"{_figure(number)} ms"
    if unit == "rate":
        return f"{_figure(number * 100, 4)}%"
    if unit == "usd":
        places = 2 if abs(number) >= 1 or number == 0 else 6
        sign = "-" if number < 0 else ""
        whole, _, cents = _figure(abs(number), places).partition(".")
        return f"{sign}${whole}.{cents.ljust(2, '0')}"
    if unit == "months":
        return f"{_figure(number)} month{'' if number == 1 else 's'}"
    return _figure(number)


def _condition(trigger: Mapping[str, object]) -> str:
    name = str(trigger.get("metric"))
    metric = METRICS.get(name)
    label = metric.label if metric else name
    return f"{label} {trigger.get('comparator')} {format_value(name, trigger.get('threshold'))}"


def _number(raw: object) -> Decimal | None:
    if isinstance(raw, str):
        raw = raw.strip().replace(",", "")
    elif isinstance(raw, float):
        raw = repr(raw)
    elif isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _figure(number: Decimal, places: int = 2) -> str:
    # Enough precision for the integer digits too, or quantize refuses big figures.
    context = Context(prec=max(28, number.adjusted() + places + 2))
    text = f"{number.quantize(Decimal(1).scaleb(-places), context=context):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
