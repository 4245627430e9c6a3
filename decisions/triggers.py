"""Revisit triggers of a decision record: metrics, comparators, plain-words descriptions,
assessment.

A trigger is `{"metric": …, "comparator": …, "threshold": …}`, e.g. `monthly_requests > 100000`:
"document why you chose and what would trigger a switch". Workload assessments call
:func:`evaluate_triggers` with their figures; every trigger that holds is a reason to revisit,
keyed by the trigger so that one that keeps firing stays one reason. Pure Python (no Django):
the decisions serializers validate triggers with these metrics, comparators and numbers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from workloads import formatting as fmt


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # words for a sentence: "monthly requests"
    unit: str  # count | ms | rate | usd | months


# What a trigger can watch; words and units are the product's own (workloads.formatting).
METRICS: dict[str, Metric] = {
    name: Metric(name, fmt.FIGURES[name].words, fmt.FIGURES[name].unit)
    for name in (
        "monthly_requests", "monthly_tokens", "latency_p99_ms", "format_error_rate",
        "cost_per_request", "monthly_cost", "payback_months", "monthly_savings",
    )
}  # fmt: skip

COMPARATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Reason:
    """Why a decision needs a revisit. `key` names what fired (a trigger, or "review_by") and
    stays the same while it keeps firing; `text` says it with the current figure."""

    key: str
    text: str


def trigger_key(trigger: Mapping[str, object]) -> str:
    """The identity of a trigger, whatever its figures: `monthly_requests > 100000`."""
    threshold = parse_number(trigger.get("threshold"))
    shown = plain(threshold) if threshold is not None else trigger.get("threshold")
    return f"{trigger.get('metric')} {trigger.get('comparator')} {shown}"


def describe_trigger(trigger: Mapping[str, object]) -> str:
    """The trigger in plain words: "revisit when monthly requests > 100,000"."""
    return f"revisit when {_condition(trigger)}"


def evaluate_triggers(triggers: list[dict], metrics: Mapping[str, object]) -> list[Reason]:
    """A reason for every trigger that holds for `metrics`; a metric that is missing or None
    never fires (nothing observed is not evidence). Unknown metrics or comparators are ignored
    here: triggers are validated when they are stored."""
    reasons = []
    for trigger in triggers:
        metric = METRICS.get(trigger.get("metric"))
        compare = COMPARATORS.get(trigger.get("comparator"))
        threshold = parse_number(trigger.get("threshold"))
        value = parse_number(metrics.get(trigger.get("metric"))) if metric else None
        if compare is None or threshold is None or value is None:
            continue
        if compare(value, threshold):
            text = (
                f"{metric.label} is {format_value(metric.name, value)} "
                f"(trigger: {_condition(trigger)})"
            )
            reasons.append(Reason(key=trigger_key(trigger), text=text))
    return reasons


def format_value(metric: str, value: object) -> str:
    """A metric's value for a sentence, in its unit: 120,000 · 640 ms · 5% · $0.0012 (the
    product's one way of writing figures, workloads.formatting)."""
    number = parse_number(value)
    if number is None:
        return str(value)
    return fmt.quantity(METRICS[metric].unit if metric in METRICS else "count", number)


def _condition(trigger: Mapping[str, object]) -> str:
    name = str(trigger.get("metric"))
    metric = METRICS.get(name)
    label = metric.label if metric else name
    return f"{label} {trigger.get('comparator')} {format_value(name, trigger.get('threshold'))}"


def parse_number(raw: object) -> Decimal | None:
    """A finite number from an int, float, Decimal or numeric string ("100,000", "0.05"), else
    None (booleans, NaN, infinity and anything else are not numbers)."""
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


def plain(number: Decimal) -> int | float:
    """int when whole, else float: how thresholds are stored and shown in JSON."""
    return int(number) if number == number.to_integral_value() else float(number)
