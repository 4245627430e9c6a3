"""The daily usage rollup: kept by ingestion in the same statement, exact under re-pushes and
repeated ids, and what pages and assessments read instead of the raw rows."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import WorkloadFactory
from tests.workloads.usage_helpers import record
from workloads.models import UsageDay, UsageRecord
from workloads.services.assessments import observe_usage
from workloads.usage_ingest import rollup_rebuild

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage"
NOW = datetime.now(UTC).replace(minute=17, second=0, microsecond=0)


@pytest.fixture
def workloads(team):
    return [
        WorkloadFactory(team=team, slug="support-bot"),
        WorkloadFactory(team=team, slug="classifier", current_approach="fine-tune"),
    ]


@pytest.fixture
def push(team, api_client_factory):
    api = api_client_factory(team, "usage:write")

    def send(records):
        data = json.dumps({"records": records}).encode()
        response = api.generic("POST", URL, data, content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()

    return send


def _records(count: int, *, seed: int, prefix: str) -> list[dict]:
    """Records of varied length, approach and optional figures over ten days, some straddling
    midnight (UTC)."""
    rng = random.Random(seed)
    found = []
    for i in range(count):
        start = NOW - timedelta(minutes=rng.randrange(10 * 24 * 60))
        extra = {}
        if rng.random() < 0.6:
            extra["latency_p99_ms"] = rng.randrange(100, 2000) + 0.5
        requests = rng.randrange(0, 500)
        if rng.random() < 0.5:
            extra["format_errors"] = rng.randrange(0, requests + 1)
        if rng.random() < 0.7:
            extra["approach"] = rng.choice(["prompt", "fine-tune", "hybrid"])
        found.append(
            record(
                rng.choice(["support-bot", "classifier"]),
                start=start,
                hours=rng.choice([1, 1, 2, 5]),
                requests=requests,
                input_tokens=requests * rng.randrange(100, 900),
                output_tokens=requests * rng.randrange(10, 90),
                id=f"{prefix}-{i}" if rng.random() < 0.9 else None,
                **extra,
            )
        )
    return found


def _grouped_from_records() -> dict:
    """The rollup's figures computed straight from the raw rows (the oracle)."""
    sums: dict = defaultdict(lambda: defaultdict(Decimal))
    for row in UsageRecord.objects.all():
        day = row.period_start.astimezone(UTC).date()
        key = (row.workload_id, day, row.approach)
        figures = sums[key]
        figures["records"] += 1
        figures["requests"] += row.requests
        figures["input_tokens"] += row.input_tokens
        figures["output_tokens"] += row.output_tokens
        if row.format_errors is not None:
            figures["format_errors"] += row.format_errors
            figures["format_requests"] += row.requests
        if row.latency_p99_ms is not None:
            figures["p99_weighted"] += Decimal(repr(row.latency_p99_ms)) * row.requests
            figures["p99_requests"] += row.requests
        first = figures.get("first_start")
        figures["first_start"] = row.period_start if first is None else min(first, row.period_start)
    return {key: dict(value) for key, value in sums.items()}


def _rollup() -> dict:
    found = {}
    for day in UsageDay.objects.all():
        found[(day.workload_id, day.day, day.approach)] = {
            name: getattr(day, name)
            for name in (
                "records", "requests", "input_tokens", "output_tokens", "format_errors",
                "format_requests", "p99_weighted", "p99_requests", "first_start",
            )
        }  # fmt: skip
    return found


def _assert_rollup_matches_records() -> None:
    expected, actual = _grouped_from_records(), _rollup()
    assert set(actual) == set(expected)
    for key, figures in expected.items():
        row = actual[key]
        for name, value in figures.items():
            if name == "p99_weighted":
                assert row[name] == pytest.approx(float(value), rel=1e-12), (key, name)
            elif name == "first_start":
                assert row[name] == value, (key, name)
            else:
                assert row[name] == value or (value == 0 and row[name] == 0), (key, name)
        for name in ("format_errors", "format_requests", "p99_weighted", "p99_requests"):
            if name not in figures:
                assert row[name] == 0, (key, name)


def test_the_rollup_equals_the_records_grouped_by_day(workloads, push):
    push(_records(400, seed=1, prefix="a"))
    assert UsageDay.objects.count() > 10
    _assert_rollup_matches_records()


def test_re_pushes_and_repeated_ids_add_nothing(workloads, push):
    first = _records(300, seed=2, prefix="b")
    push(first)
    before = _rollup()
    with_ids = [r for r in first if r.get("id")]
    # The same batch again, then a batch repeating ids within itself and mixing in new ones.
    assert push(with_ids)["accepted"] == 0
    assert _rollup() == before
    fresh = _records(50, seed=3, prefix="c")
    answer = push(with_ids[:100] + fresh + fresh[:20])
    # Records without an id are always new; repeated ids count once.
    assert answer["accepted"] == 50 + sum(1 for r in fresh[:20] if not r.get("id"))
    _assert_rollup_matches_records()


def test_rebuilding_gives_what_ingestion_kept(workloads, push):
    push(_records(200, seed=4, prefix="d"))
    kept = _rollup()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM workloads_usageday")
    rollup_rebuild()
    assert _rollup() == {
        key: {**value, "p99_weighted": pytest.approx(value["p99_weighted"], rel=1e-12)}
        for key, value in kept.items()
    }


def test_a_failed_push_leaves_the_rollup_untouched(workloads, push, team, api_client_factory):
    push(_records(50, seed=5, prefix="e"))
    before = _rollup()
    api = api_client_factory(team, "usage:write")
    bad = [*_records(10, seed=6, prefix="f"), record("no-such-workload")]
    response = api.generic(
        "POST", URL, json.dumps({"records": bad}).encode(), content_type="application/json"
    )
    assert response.status_code == 400
    assert _rollup() == before


def _observe_from_records(workload, now: datetime) -> dict:
    """The assessment's window sums computed from raw rows alone (the oracle)."""
    start = now - timedelta(days=30)
    totals = defaultdict(Decimal)
    prompt_unmarked = workload.current_approach == "prompt"
    for row in UsageRecord.objects.filter(workload=workload):
        if row.period_start >= now or row.period_end <= start:
            continue
        if row.period_start < start:
            if row.period_start < start - timedelta(days=31):
                continue
            share = Decimal((row.period_end - start) / (row.period_end - row.period_start))
        else:
            share = Decimal(1)
        totals["records"] += 1
        totals["requests"] += row.requests * share
        totals["output_tokens"] += row.output_tokens * share
        totals["input_tokens"] += row.input_tokens * share
        if row.approach == "prompt" or (not row.approach and prompt_unmarked):
            totals["prompt_requests"] += row.requests * share
            totals["prompt_input_tokens"] += row.input_tokens * share
        if row.format_errors is not None:
            totals["format_errors"] += row.format_errors * share
            totals["format_requests"] += row.requests * share
    return totals


@pytest.mark.parametrize("minute", [0, 17])
def test_assessment_window_sums_are_those_of_the_raw_records(workloads, push, minute):
    now = NOW.replace(minute=minute)
    rng = random.Random(7)
    records = []
    # Hourly records over 35 days (so some straddle the window start), two-day records across
    # the window edges, and unmarked ones.
    for h in range(35 * 24):
        start = now.replace(minute=0) - timedelta(hours=h + 1)
        requests = rng.randrange(1, 300)
        records.append(
            record(
                "support-bot",
                start=start,
                requests=requests,
                input_tokens=requests * 700,
                output_tokens=requests * 40,
                approach=rng.choice(["prompt", "fine-tune", None]),
                format_errors=rng.randrange(0, requests + 1) if h % 3 else None,
                id=f"h-{h}",
            )
        )
    for offset in (timedelta(days=30, hours=3), timedelta(days=29, minutes=50)):
        records.append(record("support-bot", start=now - offset, hours=48, id=f"e-{offset}"))
    push(records)
    workload = workloads[0]
    observed = observe_usage(workload, now=now)
    oracle = _observe_from_records(workload, now)
    assert observed["records"] == int(oracle["records"])
    assert observed["requests"] == int(oracle["requests"].to_integral_value())
    assert observed["mean_output_tokens"] == round(
        float(oracle["output_tokens"] / oracle["requests"]), 2
    )
    assert observed["mean_input_tokens"] == round(
        float(oracle["input_tokens"] / oracle["requests"]), 2
    )
    assert observed["prompt_mean_input_tokens"] == round(
        float(oracle["prompt_input_tokens"] / oracle["prompt_requests"]), 2
    )
    assert observed["format_error_rate"] == round(
        float(oracle["format_errors"] / oracle["format_requests"]), 6
    )
