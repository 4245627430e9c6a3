"""Usage bodies for the ingestion API, shared by the usage, assessment, flag and dashboard
tests (rows are made with tests.factories.UsageRecordFactory)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta


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
