"""Builders shared by the usage, assessment, flag and dashboard tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from workloads.models import Workload
from workloads.usage_ingest import UsageRow, store_rows

# Prices come from the team's default table (gpt-4o-mini: 0.15 / 0.60 per 1M tokens).
# Without breaches and below the token cutoff the SLA/ROI policy keeps prompting; a format error
# rate above 5% is a breach, and at high volume fine-tuning pays back within the horizon.
PARAMETERS = {
    "prompt_overhead_tokens": 1500,
    "user_tokens": 300,
    "output_tokens": 100,
    "monthly_requests": 1000,
    "training_cost": 50,
    "latency_sla_ms": 600,
    "format_error_threshold": 0.05,
}


def make_workload(team, slug="support-bot", **fields) -> Workload:
    fields.setdefault("name", slug.replace("-", " ").title())
    fields.setdefault("model", "gpt-4o-mini")
    fields.setdefault("parameters", dict(PARAMETERS))
    return Workload.objects.create(team=team, slug=slug, **fields)


def hour(n: int, *, base: datetime | None = None) -> datetime:
    """The start of the n-th hour before `base` (default: now, truncated to the hour)."""
    base = base or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return base - timedelta(hours=n)


def record(workload="support-bot", *, start=None, hours=1, **fields) -> dict:
    start = start or hour(2)
    data = {
        "workload": workload,
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(hours=hours)).isoformat(),
        "requests": 100,
        "input_tokens": 180_000,
        "output_tokens": 10_000,
    }
    data.update(fields)
    return data


def body(*records) -> bytes:
    return json.dumps({"records": list(records)}).encode()


def add_usage(workload, start, *, hours=1, requests=100, input_tokens=180_000, **fields) -> None:
    """Store one record directly (the ingestion fast path, without the HTTP layer)."""
    row = UsageRow(
        workload_id=workload.pk,
        client_id=fields.pop("client_id", None),
        period_start=start,
        period_end=start + timedelta(hours=hours),
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=fields.pop("output_tokens", requests * 100),
        approach=fields.pop("approach", ""),
        model="gpt-4o-mini",
        latency_p50_ms=None,
        latency_p99_ms=fields.pop("latency_p99_ms", None),
        format_errors=fields.pop("format_errors", None),
        cost_usd=None,
    )
    assert not fields, f"unknown fields {fields}"
    store_rows(team_id=workload.team_id, rows=[row])
