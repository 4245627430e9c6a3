"""Demo data of the workloads app: a persona chat assistant and a JSON ticket classifier, one
worksheet each, then six months of hourly usage and one assessment each.

The support ticket classifier grows from ~1M to ~2.5M requests a month while its few-shot
prompt's p99 latency and JSON format errors creep past their SLAs, so its assessment recommends a
switch and a flag is waiting for a newcomer, with a forecast of when fine-tuning pays back. The
chat assistant's volume stays flat. Deterministic (seeded RNG); idempotent, because every usage
record carries a client id derived from its hour: seeding again adds only the hours since the
last run.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from evaluations.demo import DEMO_RUN
from evaluations.models import BenchmarkRun
from prompts.selectors import template_for
from workloads import roi, usage_ingest
from workloads.models import Assessment, Workload
from workloads.selectors import workload_roi_data
from workloads.services.assessments import assessment_create
from workloads.services.workloads import workload_clean, workload_create
from workloads.services.worksheets import worksheet_create


def seed(team, user) -> None:
    _seed_workloads(team, user)
    _seed_usage(team, user)


WORKLOADS = [
    {
        "slug": "taskmaster-chat",
        "name": "TaskMaster chat assistant",
        "description": (
            "Public productivity-coach persona in the task app: encouraging, action-oriented, "
            "never condescending. A 500-token persona prompt rides along with every message; "
            "conversations often run past 20 turns, where the prompted persona drifts."
        ),
        "current_approach": "prompt",
        "policy": "checklists",
        "model": "gpt-4o-mini",
        "ft_model": "",
        "parameters": {
            "monthly_requests": 500_000,
            "user_tokens": 50,
            "prompt_overhead_tokens": 500,
            "output_tokens": 200,
            "horizon_months": 6,
            "training_examples": 1_200,
            "training_tokens_per_example": 450,
            "epochs": 3,
            "dev_hours": 24,
            "persona_change_frequency": "rarely",
            "consistency_critical": True,
            "public_facing": True,
            "long_conversations": True,
            "labeled_examples": 1_200,
            "accuracy_target": 0.9,
        },
        "worksheet": {
            "title": "Persona consistency vs token cost",
            "justification": (
                "Fine-tune the persona. On token cost alone fine-tuning loses: without the "
                "500-token persona prompt a call still costs $0.000255 against $0.0002025, "
                "because fine-tuned tokens are priced at twice the base rate, so it never pays "
                "back ($26.25 a month more at 500k requests). We accept that for what the "
                "prompt cannot give us: the persona drifts after ~10 turns in long "
                "conversations, and as a public assistant it must resist 'ignore previous "
                "instructions'. The persona has been stable for months. Revisit if marketing "
                "wants per-department personas (a hybrid overlay) or volume passes 2M/month, "
                "where the extra cost exceeds $100 a month."
            ),
        },
    },
    {
        "slug": "ticket-classifier",
        "name": "Support ticket classifier",
        "description": (
            "Classifies incoming support tickets into category, priority and confidence as "
            "strict JSON for the routing service. Its prompt carries long instructions "
            "and 12 few-shot examples to keep the format; users wait on it in "
            "the ticket form."
        ),
        "current_approach": "prompt",
        "policy": "sla_roi",
        "model": "gpt-4o-mini",
        "ft_model": "ft:gpt-4o-mini:demo:tickets:v1",
        "parameters": {
            "monthly_requests": 3_000_000,
            "user_tokens": 180,
            "prompt_overhead_tokens": 1_800,
            "output_tokens": 40,
            "ft_overhead_tokens": 60,
            "horizon_months": 6,
            "training_examples": 2_000,
            "training_tokens_per_example": 250,
            "epochs": 3,
            "dev_hours": 16,
            "maintenance_hours_per_month": 1,
            "latency_sla_ms": 600,
            "latency_p99_ms": 1_200,
            "format_error_threshold": 0.05,
            "format_error_rate": 0.08,
            "persona_change_frequency": "rarely",
            "consistency_critical": True,
            "latency_sensitive": True,
            "labeled_examples": 2_000,
            "accuracy_target": 0.95,
        },
        "worksheet": {
            "title": "Latency and format SLA breach",
            "justification": (
                "Fine-tune. The prompted classifier breaches both SLAs: p99 latency is 1,200 ms "
                "against 600 ms, and 8% of answers are not valid JSON against a 5% threshold. "
                "The 1,800-token few-shot prompt is most of the cost; a fine-tuned model with a "
                "60-token instruction costs $0.00012 per call instead of $0.000321, saving "
                "about $450 a month at 3M tickets even after an hour of upkeep a month. The "
                "$2,404.50 investment (16 dev hours; the training run itself is $4.50) pays "
                "back in about 5.3 months, inside our 6-month horizon. The 2,000 labeled "
                "tickets we already have are the training set. Revisit if volume falls below "
                "~1.5M a month or the category list starts changing weekly."
            ),
        },
    },
]


BENCHMARKED = "ticket-classifier"

# The demo prompts of prompts/demo.py each workload runs on.
PROMPTS = {"taskmaster-chat": "taskmaster-persona", "ticket-classifier": "ticket-classifier"}


def _seed_workloads(team, user) -> None:
    for spec in WORKLOADS:
        data = {k: v for k, v in spec.items() if k != "worksheet"}
        workload = Workload.objects.for_team(team).filter(slug=spec["slug"]).first()
        if workload is None:
            values = workload_clean(team=team, data=data)
            workload = workload_create(team=team, actor=user, **values)
        if workload.prompt_template_id is None:
            template = template_for(team=team, slug=PROMPTS[workload.slug])
            if template is not None:
                Workload.objects.filter(pk=workload.pk).update(prompt_template=template)
                workload.prompt_template = template
        if workload.slug == BENCHMARKED:
            # The demo benchmark run (evaluations/demo.py) measured this workload's candidates:
            # its figures feed the assessment below.
            BenchmarkRun.objects.for_team(team).filter(name=DEMO_RUN, workload=None).update(
                workload=workload
            )
        if not workload.worksheets.exists():
            worksheet_create(
                team=team,
                workload=workload,
                inputs=roi.parse_inputs(workload_roi_data(workload)),
                author=user,
                **spec["worksheet"],
            )


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


def _seed_usage(team, user) -> None:
    now = timezone.now()
    for slug, profile in PROFILES.items():
        workload = Workload.objects.for_team(team).filter(slug=slug).first()
        if workload is None:
            continue  # the demo workloads module did not create it
        rows = list(_hourly_rows(workload, profile, now=now))
        added = usage_ingest.store_rows(team_id=team.pk, rows=rows)
        if added or not workload.assessments.exists():
            Workload.objects.filter(pk=workload.pk).update(usage_changed_at=now)
            # Synchronously, so the flag is there as soon as the server starts.
            assessment_create(workload=workload, reason=Assessment.Reason.DEMO, now=now)


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
