"""Revisit triggers: validation with field paths (the write schema), plain-words descriptions,
assessment, and the key that names a trigger whatever its figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from decisions.serializers import DecisionWriteSerializer, describe, error_paths
from decisions.triggers import describe_trigger, evaluate_triggers, format_value, trigger_key


def trigger(metric="monthly_requests", comparator=">", threshold=100_000):
    return {"metric": metric, "comparator": comparator, "threshold": threshold}


def _schema(raw) -> DecisionWriteSerializer:
    # Triggers need no team: nothing here looks a record up.
    serializer = DecisionWriteSerializer(data={"title": "x", "revisit_triggers": raw}, context={})
    serializer.is_valid()
    return serializer


def validate_triggers(raw) -> list[dict]:
    serializer = _schema(raw)
    assert not serializer.errors, serializer.errors
    return serializer.validated_data["revisit_triggers"]


def trigger_errors(raw) -> dict[str, list[str]]:
    """Errors by path below `revisit_triggers` (`[1].metric`)."""
    errors = error_paths(_schema(raw).errors)
    assert errors, "the triggers were accepted"
    return {path.removeprefix("revisit_triggers"): messages for path, messages in errors.items()}


def test_validate_accepts_good_triggers_and_normalises_thresholds():
    raw = [
        trigger(threshold="100,000"),
        trigger("format_error_rate", ">=", "0.05"),
        trigger("latency_p99_ms", "<", 300.0),
        trigger("payback_months", "==", Decimal("6")),
    ]

    assert validate_triggers(raw) == [
        trigger(threshold=100_000),
        trigger("format_error_rate", ">=", 0.05),
        trigger("latency_p99_ms", "<", 300),
        trigger("payback_months", "==", 6),
    ]
    assert isinstance(validate_triggers(raw)[0]["threshold"], int)


def test_validate_none_and_empty_list_mean_no_triggers():
    assert validate_triggers(None) == []
    assert validate_triggers([]) == []


@pytest.mark.parametrize("raw", [{"metric": "monthly_requests"}, "monthly_requests > 5", 3])
def test_validate_rejects_what_is_not_a_list(raw):
    errors = trigger_errors(raw)

    assert list(errors) == [""]
    assert errors[""][0].startswith("Expected a list of items but got type")


def test_validate_reports_every_problem_with_its_field_path():
    raw = [
        trigger(),
        trigger(metric="daily_requests"),
        trigger(comparator="=>"),
        trigger(threshold="lots"),
        "monthly_requests > 5",
        {"metric": "monthly_cost", "comparator": ">", "threshold": 10, "unit": "usd"},
    ]

    errors = trigger_errors(raw)

    assert list(errors) == [
        "[1].metric",
        "[2].comparator",
        "[3].threshold",
        "[4]",
        "[5].unit",
    ]
    messages = {field: " ".join(texts) for field, texts in errors.items()}
    assert messages["[1].metric"].startswith("Unknown metric 'daily_requests': use one of ")
    assert "monthly_requests" in messages["[1].metric"]
    assert messages["[2].comparator"] == "Unknown comparator '=>': use one of >, >=, <, <=, ==."
    assert messages["[3].threshold"] == "Must be a number."
    assert messages["[4]"] == "Invalid data. Expected a dictionary, but got str."
    assert messages["[5].unit"] == "Unknown field."
    # The one-line form an import report or a page message shows.
    assert "revisit_triggers[3].threshold: Must be a number." in describe(
        error_paths(_schema(raw).errors)
    )


def test_validate_reports_all_problems_of_one_trigger():
    assert list(trigger_errors([{}])) == [
        "[0].metric",
        "[0].comparator",
        "[0].threshold",
    ]


@pytest.mark.parametrize("threshold", [True, None, "NaN", "inf", float("nan"), [1], ""])
def test_validate_rejects_non_numeric_and_non_finite_thresholds(threshold):
    assert trigger_errors([trigger(threshold=threshold)]) == {
        "[0].threshold": ["Must be a number."]
    }


def test_validate_rejects_thresholds_beyond_any_figure():
    assert trigger_errors([trigger(threshold=10**16)]) == {
        "[0].threshold": ["Must be between -1,000,000,000,000,000 and 1,000,000,000,000,000."]
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (trigger(), "revisit when monthly requests > 100,000"),
        (trigger("monthly_tokens", "<=", 2_500_000), "revisit when monthly tokens <= 2,500,000"),
        (trigger("latency_p99_ms", ">", 300), "revisit when p99 latency > 300 ms"),
        (trigger("format_error_rate", ">=", 0.05), "revisit when format error rate >= 5%"),
        (trigger("format_error_rate", ">", 0.0125), "revisit when format error rate > 1.25%"),
        (trigger("cost_per_request", ">", 0.0012), "revisit when cost per request > $0.0012"),
        (trigger("monthly_cost", ">", 1500), "revisit when monthly cost > $1,500.00"),
        (trigger("payback_months", ">", 1), "revisit when payback period > 1 month"),
        (trigger("payback_months", ">", 12), "revisit when payback period > 12 months"),
        (
            trigger("monthly_savings", "<", -20.5),
            "revisit when monthly savings from fine-tuning < −$20.50",
        ),
    ],
)
def test_describe_trigger_in_plain_words(raw, expected):
    assert describe_trigger(raw) == expected


def test_format_value_handles_huge_figures_without_losing_digits():
    assert format_value("monthly_requests", 10**30) == f"{10**30:,}"


# (comparator, threshold, value just below, at, just above → fires?)
BOUNDARIES = [
    (">", (False, False, True)),
    (">=", (False, True, True)),
    ("<", (True, False, False)),
    ("<=", (True, True, False)),
    ("==", (False, True, False)),
]


@pytest.mark.parametrize(("comparator", "fires"), BOUNDARIES)
def test_evaluate_fires_exactly_on_the_comparator_boundary(comparator, fires):
    triggers = [trigger(comparator=comparator, threshold=100_000)]

    outcomes = tuple(
        bool(evaluate_triggers(triggers, {"monthly_requests": value}))
        for value in (99_999, 100_000, 100_001)
    )

    assert outcomes == fires


@pytest.mark.parametrize(("comparator", "fires"), BOUNDARIES)
def test_evaluate_compares_fractional_rates_exactly(comparator, fires):
    # 0.1 + 0.2 != 0.3 in floats; thresholds and values are compared as decimals.
    triggers = [trigger("format_error_rate", comparator, 0.3)]

    outcomes = tuple(
        bool(evaluate_triggers(triggers, {"format_error_rate": value}))
        for value in (0.29, 0.3, 0.31)
    )

    assert outcomes == fires


def test_evaluate_ignores_missing_and_none_metrics():
    triggers = [
        trigger("monthly_requests", "<", 1),
        trigger("latency_p99_ms", "<", 1),
        trigger("monthly_cost", ">=", 0),
    ]

    assert evaluate_triggers(triggers, {"latency_p99_ms": None}) == []


def test_evaluate_ignores_unknown_metrics_and_comparators():
    triggers = [trigger(metric="daily_requests"), trigger(comparator="!=")]

    reasons = evaluate_triggers(triggers, {"daily_requests": 10**9, "monthly_requests": 10**9})

    assert reasons == []


def test_evaluate_returns_a_reason_with_figures_for_each_trigger_that_holds():
    triggers = [
        trigger("monthly_requests", ">", 100_000),
        trigger("latency_p99_ms", ">", 300),
        trigger("format_error_rate", ">=", 0.05),
        trigger("monthly_cost", "<", 100),
    ]
    metrics = {
        "monthly_requests": 120_000,
        "latency_p99_ms": 640,
        "format_error_rate": "0.05",
        "monthly_cost": 250,
    }

    reasons = evaluate_triggers(triggers, metrics)

    assert [reason.text for reason in reasons] == [
        "monthly requests is 120,000 (trigger: monthly requests > 100,000)",
        "p99 latency is 640 ms (trigger: p99 latency > 300 ms)",
        "format error rate is 5% (trigger: format error rate >= 5%)",
    ]
    assert [reason.key for reason in reasons] == [
        "monthly_requests > 100000",
        "latency_p99_ms > 300",
        "format_error_rate >= 0.05",
    ]


def test_a_trigger_keeps_its_key_whatever_value_fires_it():
    raw = trigger(threshold="100,000")
    [first] = evaluate_triggers([raw], {"monthly_requests": 532_601})
    [second] = evaluate_triggers([raw], {"monthly_requests": 532_597})

    assert first.key == second.key == trigger_key(trigger()) == "monthly_requests > 100000"
    assert first.text != second.text
    assert trigger_key(trigger(threshold=100_001)) != first.key
    assert trigger_key(trigger(comparator=">=")) != first.key
    assert trigger_key(trigger(metric="monthly_tokens")) != first.key
