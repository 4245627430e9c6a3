"""Re-evaluating workloads from live usage (SPEC §6.1, §8 "Live workloads").

Coalescing: a workload has at most one pending re-assessment. Asking for one claims the
workload's `assessment_requested_at` marker with a conditional UPDATE; only the caller that set
it enqueues a task (after commit). The task clears the marker *before* reading usage, so usage
stored after that asks for a new assessment, and usage stored before it is read. An ingest still
in flight holds the workload row lock (it updated `usage_changed_at`), so the task's clearing
UPDATE waits for that ingest to commit: no record can fall between two assessments.

If enqueueing fails (broker down), the marker stays set; `assessment_sweep` (beat) re-enqueues
stale markers and workloads whose usage changed after their latest assessment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.expressions import RowRange
from django.utils import timezone

from evaluations.selectors import benchmark_measurements
from teams.models import Team
from workloads import roi
from workloads.models import Approach, Assessment, UsageRecord, Workload
from workloads.selectors import workload_roi_data
from workloads.services.flags import flag_sync, flags_release_held
from workloads.signals import workload_assessed

logger = logging.getLogger(__name__)

WINDOW = timedelta(days=30)
# A claim older than this without a finished assessment means the task was lost.
STALE_CLAIM = timedelta(minutes=2)
_MAX_PERIOD = timedelta(days=31)


# --- asking for assessments ---------------------------------------------------------------------


def assessment_request(*, workload: Workload, reason: str) -> bool:
    """Ask for a re-assessment of `workload` (after commit); False if one is already pending.

    Call it when something the assessment reads changes: parameters, prices, a benchmark.
    """
    return bool(assessments_request(workload_ids=[workload.pk], reason=reason))


def assessment_request_for_team(*, team: Team, reason: str) -> int:
    """Ask for a re-assessment of every workload of `team` (e.g. its price table changed)."""
    ids = list(Workload.objects.for_team(team).values_list("pk", flat=True))
    return len(assessments_request(workload_ids=ids, reason=reason))


def assessment_request_for_prompt(*, template) -> int:
    """Ask for a re-assessment of the workloads whose prompt overhead a moved `production` label
    may change: every workload of the team with a linked prompt, because a version can include
    another template's text (`include_prompt`)."""
    ids = Workload.objects.for_team(template.team).filter(prompt_template__isnull=False)
    return len(
        assessments_request(
            workload_ids=ids.values_list("pk", flat=True), reason=Assessment.Reason.PROMPT
        )
    )


def assessments_request(
    *, workload_ids: Iterable[int], reason: str, usage_changed: bool = False
) -> list[int]:
    """Claim and enqueue re-assessments; returns the ids this call enqueued.

    With `usage_changed`, also stamps `usage_changed_at` (which the sweep compares with the
    latest assessment).
    """
    ids = sorted(set(workload_ids))
    if not ids:
        return []
    now = timezone.now()
    workloads = Workload.objects.filter(pk__in=ids)
    if usage_changed:
        workloads.update(usage_changed_at=now)
    claimed = _claim(ids, now)
    for workload_id in claimed:
        transaction.on_commit(partial(_enqueue, workload_id, reason))
    return claimed


def _claim(ids: list[int], now: datetime) -> list[int]:
    with transaction.atomic():
        claimed = list(
            Workload.objects.select_for_update()
            .filter(pk__in=ids, assessment_requested_at__isnull=True)
            .values_list("pk", flat=True)
        )
        Workload.objects.filter(pk__in=claimed).update(assessment_requested_at=now)
    return claimed


def _enqueue(workload_id: int, reason: str) -> None:
    from workloads.tasks import assess_workload

    try:
        # No publish retries: a request must not hang on a dead broker; the sweep catches up.
        assess_workload.apply_async((workload_id, reason), retry=False)
    except Exception:  # noqa: BLE001 - any broker failure is handled the same way
        logger.warning(
            "Could not enqueue the re-assessment of workload %s (%s); the periodic sweep will "
            "run it.",
            workload_id,
            reason,
            exc_info=True,
        )


def assessment_sweep(*, now: datetime | None = None) -> list[int]:
    """Re-enqueue what was missed: stale claims, and usage newer than the latest assessment.

    Also raises flags that the no-flapping rule held back once their quiet period is over.
    """
    now = now or timezone.now()
    latest = Assessment.objects.filter(workload=OuterRef("pk")).order_by("-created_at")
    due = Workload.objects.annotate(assessed_at=Subquery(latest.values("created_at")[:1])).filter(
        Q(assessment_requested_at__lt=now - STALE_CLAIM)
        | Q(usage_changed_at__isnull=False, assessed_at__isnull=True)
        | Q(usage_changed_at__gt=F("assessed_at"))
    )
    ids = []
    with transaction.atomic():
        for workload_id in due.values_list("pk", flat=True):
            # Re-claim (or take over a stale claim) so coalescing keeps working.
            updated = Workload.objects.filter(
                Q(assessment_requested_at__isnull=True)
                | Q(assessment_requested_at__lt=now - STALE_CLAIM),
                pk=workload_id,
            ).update(assessment_requested_at=now)
            if updated:
                ids.append(workload_id)
                transaction.on_commit(partial(_enqueue, workload_id, Assessment.Reason.SWEEP))
    flags_release_held(now=now)
    return ids


# --- running an assessment --------------------------------------------------------------------


def assessment_run(*, workload_id: int, reason: str) -> Assessment | None:
    """The task's service: release the claim, then evaluate with everything stored so far."""
    Workload.objects.filter(pk=workload_id).update(assessment_requested_at=None)
    workload = Workload.objects.select_related("team").filter(pk=workload_id).first()
    if workload is None:
        return None  # deleted since it was enqueued
    return assessment_create(workload=workload, reason=reason)


def assessment_create(
    *, workload: Workload, reason: str, now: datetime | None = None
) -> Assessment:
    """Evaluate `workload` now: observe usage, run the ROI engine, store the assessment, then
    raise or resolve its switch flag and announce it (`workload_assessed`: the decisions app
    checks the revisit triggers of the workload's accepted decisions)."""
    now = now or timezone.now()
    observed = observe_usage(workload, now=now)
    measured = benchmark_measurements(workload_id=workload.pk, since=now - WINDOW)
    if measured is not None:
        observed["benchmark"] = measured
    data = live_roi_data(workload, observed)
    assessment = Assessment(
        team_id=workload.team_id,
        workload=workload,
        reason=reason,
        current_approach=workload.current_approach,
        observed=observed,
        created_at=now,
    )
    try:
        inputs = roi.parse_inputs(data)
    except roi.RoiInputError as exc:
        assessment.inputs = _jsonable(data)
        assessment.errors = exc.errors
    else:
        result = roi.evaluate(inputs)
        assessment.inputs = inputs.as_dict()
        assessment.outputs = result.as_dict()
        assessment.recommendation = result.recommendation
    with transaction.atomic():
        assessment.save()
        flag_sync(assessment=assessment)
        if assessment.recommendation:
            workload_assessed.send(sender=Assessment, assessment=assessment)
    return assessment


def observe_usage(workload: Workload, *, now: datetime) -> dict:
    """What the trailing 30 days of usage say (the §8 "Live workloads" mapping).

    - `requests`: requests in the window; a record straddling the window start counts pro rata
      by time (a record ending in the future counts in full: it was pushed, so it happened).
    - `mean_input_tokens` / `mean_output_tokens`: per request over the window, the input mean
      also under the prompt approach alone (records marked `prompt`, or unmarked while the
      workload runs on prompts) — that is U + P.
    - `latency_p99_ms`: the request-weighted p99 — the smallest record p99 such that the
      records at or below it carry at least 99% of the window's requests (records overlapping
      the window that report a p99).
    - `format_error_rate`: format errors ÷ requests, over records that report format errors.
    """
    start = now - WINDOW
    records = UsageRecord.objects.filter(workload=workload)
    unmarked_is_prompt = workload.current_approach == Approach.PROMPT
    prompt_q = (
        Q(approach=Approach.PROMPT) | Q(approach="")
        if unmarked_is_prompt
        else Q(approach=Approach.PROMPT)
    )
    # Aggregate aliases must not shadow field names, hence the "sum_" prefix.
    inside = records.filter(period_start__gte=start, period_start__lt=now).aggregate(
        sum_records=Count("pk"),
        sum_requests=Sum("requests"),
        sum_input_tokens=Sum("input_tokens"),
        sum_output_tokens=Sum("output_tokens"),
        sum_prompt_requests=Sum("requests", filter=prompt_q),
        sum_prompt_input_tokens=Sum("input_tokens", filter=prompt_q),
        sum_format_errors=Sum("format_errors"),
        sum_format_requests=Sum("requests", filter=Q(format_errors__isnull=False)),
    )
    totals = {key.removeprefix("sum_"): Decimal(value or 0) for key, value in inside.items()}
    straddling = records.filter(
        period_start__lt=start, period_end__gt=start, period_start__gte=start - _MAX_PERIOD
    ).values_list(
        "period_start", "period_end", "requests", "input_tokens", "output_tokens", "approach",
        "format_errors",
    )  # fmt: skip
    for p_start, p_end, requests, input_tokens, output_tokens, approach, errors in straddling:
        share = Decimal((p_end - start) / (p_end - p_start))
        totals["records"] += 1
        totals["requests"] += requests * share
        totals["input_tokens"] += input_tokens * share
        totals["output_tokens"] += output_tokens * share
        if approach == Approach.PROMPT or (not approach and unmarked_is_prompt):
            totals["prompt_requests"] += requests * share
            totals["prompt_input_tokens"] += input_tokens * share
        if errors is not None:
            totals["format_errors"] += errors * share
            totals["format_requests"] += requests * share
    return {
        "window_start": start.isoformat(),
        "window_end": now.isoformat(),
        "records": int(totals["records"]),
        "requests": int(totals["requests"].to_integral_value()),
        "mean_input_tokens": _ratio(totals["input_tokens"], totals["requests"]),
        "mean_output_tokens": _ratio(totals["output_tokens"], totals["requests"]),
        "prompt_mean_input_tokens": _ratio(
            totals["prompt_input_tokens"], totals["prompt_requests"]
        ),
        "latency_p99_ms": _weighted_p99(records.filter(period_end__gt=start, period_start__lt=now)),
        "format_error_rate": _ratio(totals["format_errors"], totals["format_requests"], places=6),
    }


def _weighted_p99(records) -> float | None:
    ranked = (
        records.filter(latency_p99_ms__isnull=False, requests__gt=0)
        .annotate(
            running=Window(
                Sum("requests"), order_by=[F("latency_p99_ms").asc(), F("pk").asc()],
                frame=RowRange(start=None, end=0),
            ),
            total=Window(Sum("requests")),
        )
    )  # fmt: skip
    p99 = (
        ranked.filter(running__gte=F("total") * Decimal("0.99"))
        .order_by("latency_p99_ms")
        .values_list("latency_p99_ms", flat=True)
        .first()
    )
    return None if p99 is None else round(float(p99), 3)


def _ratio(part: Decimal, whole: Decimal, places: int = 2) -> float | None:
    if not whole:
        return None
    return round(float(part / whole), places)


def live_roi_data(workload: Workload, observed: dict, *, price_rows=None) -> dict:
    """ROI inputs: the workload's parameters and prices, overridden by what usage shows, then
    by what the latest linked benchmark measured (`observed["benchmark"]`).

    Without usage in the window the planned figures of the parameters stand.
    """
    data = workload_roi_data(workload, price_rows=price_rows)
    if not observed["requests"]:
        return _with_benchmark(data, observed.get("benchmark"))
    data["monthly_requests"] = observed["requests"]
    data["output_tokens"] = observed["mean_output_tokens"]
    prompt_mean = observed["prompt_mean_input_tokens"]
    overhead = _decimal_or_none(data.get("prompt_overhead_tokens"))
    if prompt_mean is not None and overhead is not None:
        # Observed input = U + P under the prompt approach; P is the known static part.
        data["user_tokens"] = max(Decimal(str(prompt_mean)) - overhead, Decimal(0))
    if observed["latency_p99_ms"] is not None:
        data["latency_p99_ms"] = observed["latency_p99_ms"]
    if observed["format_error_rate"] is not None:
        data["format_error_rate"] = observed["format_error_rate"]
    return _with_benchmark(data, observed.get("benchmark"))


def _with_benchmark(data: dict, measured: dict | None) -> dict:
    """The latest linked benchmark's measured p99 latency and format error rate win over the
    planned and the observed figures: it measured the candidates on purpose, in the window."""
    for name in ("latency_p99_ms", "format_error_rate"):
        if measured and measured.get(name) is not None:
            data[name] = measured[name]
    return data


def _decimal_or_none(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _jsonable(data: dict) -> dict:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in data.items()}
