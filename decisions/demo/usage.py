"""Demo usage: six months of hourly traffic for the demo workloads, then one evaluation each.

The support ticket classifier grows from ~1M to ~2.5M requests a month while its few-shot
prompt's p99 latency and JSON format errors creep past their SLAs, so its evaluation
recommends a switch and a flag is waiting for a newcomer, with a forecast of when fine-tuning
pays back. The chat assistant's
volume stays flat. Deterministic (seeded RNG); idempotent, because every record carries a
client id derived from its hour: seeding again adds only the hours since the last run.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from decisions import usage_ingest
from decisions.models import Evaluation, Workload
from decisions.services.evaluations import evaluation_create

DAYS = 183


@dataclass(frozen=True)
class Profile:
    monthly_start: float  # requests per month six months ago
    monthly_end: float  # … and now
    input_tokens: float  # per request (user + prompt overhead)
    output_tokens: float
    p99_start: float  # ms
    p99_end: float
    format_rate_start: float
    format_rate_end: float


PROFILES = {
    "ticket-classifier": Profile(1.0e6, 2.5e6, 1_980, 40, 470, 760, 0.030, 0.072),
    "taskmaster-chat": Profile(4.9e5, 5.1e5, 560, 200, 900, 950, 0.0, 0.0),
}


def seed(team, user) -> None:
    now = timezone.now()
    for slug, profile in PROFILES.items():
        workload = Workload.objects.for_team(team).filter(slug=slug).first()
        if workload is None:
            continue  # the demo workloads module did not create it
        rows = list(_hourly_rows(workload, profile, now=now))
        added = usage_ingest.store_rows(team_id=team.pk, rows=rows)
        if added or not workload.evaluations.exists():
            Workload.objects.filter(pk=workload.pk).update(usage_changed_at=now)
            # Synchronously, so the flag is there as soon as the server starts.
            evaluation_create(workload=workload, reason=Evaluation.Reason.DEMO, now=now)


def _hourly_rows(workload: Workload, profile: Profile, *, now: datetime):
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=DAYS)
    hours = DAYS * 24
    rng = random.Random(f"crossover-demo-{workload.slug}")
    for h in range(hours):
        period_start = start + timedelta(hours=h)
        progress = h / hours
        monthly = profile.monthly_start * (profile.monthly_end / profile.monthly_start) ** progress
        # Busy afternoons (UTC), quiet nights, ±10 % noise.
        daily_shape = 1 + 0.6 * math.sin((period_start.hour - 9) / 24 * 2 * math.pi)
        requests = max(1, round(monthly / 730 * daily_shape * rng.uniform(0.9, 1.1)))
        p99 = _lerp(profile.p99_start, profile.p99_end, progress) * rng.uniform(0.9, 1.1)
        rate = _lerp(profile.format_rate_start, profile.format_rate_end, progress)
        errors = min(requests, round(requests * rate * rng.uniform(0.8, 1.2)))
        input_tokens = round(requests * profile.input_tokens * rng.uniform(0.97, 1.03))
        yield usage_ingest.UsageRow(
            workload_id=workload.pk,
            client_id=f"demo-{workload.slug}-{period_start:%Y%m%dT%H}",
            period_start=period_start,
            period_end=period_start + timedelta(hours=1),
            requests=requests,
            input_tokens=input_tokens,
            output_tokens=round(requests * profile.output_tokens * rng.uniform(0.95, 1.05)),
            approach=workload.current_approach,
            model=workload.model,
            latency_p50_ms=round(p99 * 0.4, 1),
            latency_p99_ms=round(p99, 1),
            format_errors=errors if profile.format_rate_end else None,
            cost_usd=None,
        )


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t
