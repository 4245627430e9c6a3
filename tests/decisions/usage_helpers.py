"""Builders shared by the usage, evaluation, flag and dashboard tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from decisions.models import Workload

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
