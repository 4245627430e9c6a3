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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.expressions import RowRange
from django.utils import timezone

from evaluations.models import ModelPrice
from evaluations.persona_selectors import persona_evidence_for
from evaluations.selectors import benchmark_measurements_for
from teams.models import Team
from workloads import roi
from workloads.models import Approach, Assessment, UsageDay, UsageRecord, Workload
from workloads.selectors import workload_roi_data
from workloads.services.flags import flags_release_held, flags_sync
from workloads.signals import workloads_assessed
from workloads.usage_ingest import MAX_PERIOD

logger = logging.getLogger(__name__)

WINDOW = timedelta(days=30)
# A claim older than this without a finished assessment means the task was lost.
STALE_CLAIM = timedelta(minutes=2)


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
    latest assessment). One statement claims every workload; after commit, one task per batch
    of `BATCH` claimed workloads is published.
    """
    ids = sorted(set(workload_ids))
    if not ids:
        return []
    claimed = _claim(ids, timezone.now(), usage_changed=usage_changed)
    _enqueue_after_commit(claimed, reason)
    return claimed


def _claim(ids: list[int], now: datetime, *, usage_changed: bool) -> list[int]:
    """Set the claim marker of those of `ids` without one (and `usage_changed_at` of all, if
    asked), in one UPDATE; returns the ids this call claimed.

    Rows are locked in id order, so concurrent claims over overlapping sets cannot deadlock; a
    claim waiting on another reads the marker as that one left it.
    """
    if connection.vendor != "postgresql":
        return _claim_generic(ids, now, usage_changed=usage_changed)
    table = Workload._meta.db_table
    stamp = "usage_changed_at = %s, " if usage_changed else ""
    params = [now] if usage_changed else []
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS w SET {stamp}"  # noqa: S608 - fixed names, placeholders only
            f"assessment_requested_at = COALESCE(w.assessment_requested_at, %s) "
            f"FROM (SELECT id, assessment_requested_at AS was FROM {table} "
            f"WHERE id IN ({placeholders}) ORDER BY id FOR UPDATE) AS locked "
            f"WHERE w.id = locked.id RETURNING w.id, locked.was IS NULL",
            [*params, now, *ids],
        )
        return sorted(pk for pk, claimed in cursor.fetchall() if claimed)


def _claim_generic(ids: list[int], now: datetime, *, usage_changed: bool) -> list[int]:
    # SQLite (development) serializes writers; its RETURNING cannot read the old marker.
    with transaction.atomic():
        workloads = Workload.objects.filter(pk__in=ids)
        claimed = sorted(
            workloads.filter(assessment_requested_at__isnull=True).values_list("pk", flat=True)
        )
        if usage_changed:
            workloads.update(usage_changed_at=now)
        Workload.objects.filter(pk__in=claimed).update(assessment_requested_at=now)
    return claimed


# Workloads per published task: a push touching 1,000 workloads publishes 10 messages.
BATCH = 100


def _enqueue_after_commit(ids: list[int], reason: str) -> None:
    for offset in range(0, len(ids), BATCH):
        transaction.on_commit(partial(_enqueue, ids[offset : offset + BATCH], reason))


def _enqueue(workload_ids: list[int], reason: str) -> None:
    from workloads.tasks import assess_workloads

    try:
        # No publish retries: a request must not hang on a dead broker; the sweep catches up.
        assess_workloads.apply_async((workload_ids, reason), retry=False)
    except Exception:  # noqa: BLE001 - any broker failure is handled the same way
        logger.warning(
            "Could not enqueue the re-assessment of %s workload(s) (%s, first %s); the periodic "
            "sweep will run them.",
            len(workload_ids),
            reason,
            workload_ids[0],
            exc_info=True,
        )


def assessment_sweep(*, now: datetime | None = None) -> list[int]:
    """Re-enqueue what was missed: stale claims, and usage newer than the latest assessment.

    The due workloads are claimed (or stale claims taken over) by one UPDATE … RETURNING, then
    enqueued in batches after commit. Also raises flags that the no-flapping rule held back
    once their quiet period is over.
    """
    now = now or timezone.now()
    stale = now - STALE_CLAIM
    latest = Assessment.objects.filter(workload=OuterRef("pk")).order_by("-created_at")
    due = (
        Workload.objects.annotate(assessed_at=Subquery(latest.values("created_at")[:1]))
        .filter(
            Q(assessment_requested_at__lt=stale)
            | Q(assessment_requested_at__isnull=True)
            & (
                Q(usage_changed_at__isnull=False, assessed_at__isnull=True)
                | Q(usage_changed_at__gt=F("assessed_at"))
            )
        )
        .order_by()
        .values("pk")
    )
    due_sql, due_params = due.query.sql_with_params()
    table = Workload._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # The outer condition is checked again on rows another claim changed meanwhile.
        cursor.execute(
            f"UPDATE {table} SET assessment_requested_at = %s "  # noqa: S608 - fixed names
            f"WHERE id IN ({due_sql}) AND (assessment_requested_at IS NULL "
            f"OR assessment_requested_at < %s) RETURNING id",
            [now, *due_params, stale],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
        _enqueue_after_commit(ids, Assessment.Reason.SWEEP)
    flags_release_held(now=now)
    return ids


# --- running an assessment --------------------------------------------------------------------


def assessment_run(*, workload_id: int, reason: str) -> Assessment | None:
    """The task's service: release the claim, then evaluate with everything stored so far."""
    found = assessments_run(workload_ids=[workload_id], reason=reason)
    return found[0] if found else None


def assessments_run(*, workload_ids: list[int], reason: str) -> list[Assessment]:
    """A batch task's service: release the claims of `workload_ids` in one UPDATE, then assess
    the workloads that still exist, together."""
    Workload.objects.filter(pk__in=workload_ids).update(assessment_requested_at=None)
    workloads = (
        Workload.objects.select_related("team", "prompt_template__team")
        .filter(pk__in=workload_ids)
        .order_by("pk")
    )
    return assessments_create(workloads=list(workloads), reason=reason)


def assessment_create(
    *, workload: Workload, reason: str, now: datetime | None = None
) -> Assessment:
    """Evaluate `workload` now (see `assessments_create`)."""
    return assessments_create(workloads=[workload], reason=reason, now=now)[0]


def assessments_create(
    *, workloads: list[Workload], reason: str, now: datetime | None = None
) -> list[Assessment]:
    """Evaluate `workloads` now: observe usage, run the ROI engine, store the assessments, then
    raise or resolve their switch flags and announce them (`workloads_assessed`: the decisions
    app checks the revisit triggers of the workloads' accepted decisions).

    Each figure is read for all the workloads at once (usage, benchmark and persona evidence,
    each team's price table, each linked prompt's overhead), and the writes are one transaction,
    so a batch costs about as many queries as one workload.
    """
    if not workloads:
        return []
    now = now or timezone.now()
    ids = [workload.pk for workload in workloads]
    observed = observe_usages(workloads, now=now)
    measured = benchmark_measurements_for(workload_ids=ids, since=now - WINDOW)
    personas = persona_evidence_for(ids)
    price_rows: dict[int, list] = {}
    prompt_tokens: dict[int, int | None] = {}
    assessments = []
    for workload in workloads:
        if workload.team_id not in price_rows:
            price_rows[workload.team_id] = list(ModelPrice.objects.for_team(workload.team))
        found = observed[workload.pk]
        if workload.pk in measured:
            found["benchmark"] = measured[workload.pk]
        # Consistency and robustness as a persona run measured them (SPEC §7.5), or None.
        found["persona"] = personas.get(workload.pk)
        data = live_roi_data(
            workload, found, price_rows=price_rows[workload.team_id], prompt_tokens=prompt_tokens
        )
        assessments.append(_assessment(workload, reason, found, data, now))
    with transaction.atomic():
        _commit_without_waiting()
        Assessment.objects.bulk_create(assessments)
        flags_sync(assessments=assessments)
        recommended = [assessment for assessment in assessments if assessment.recommendation]
        if recommended:
            workloads_assessed.send(sender=Assessment, assessments=recommended)
    return assessments


def _assessment(workload: Workload, reason: str, observed: dict, data: dict, now) -> Assessment:
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
    return assessment


def _commit_without_waiting() -> None:
    """Let this transaction's commit return before it reaches the disk (PostgreSQL).

    An assessment is derived data: if a crash loses the last ones, the workload's usage is newer
    than its latest assessment again and the sweep makes them anew. Not waiting for the flush
    is most of what a sweep over thousands of workloads would otherwise spend.
    """
    # Only for a transaction of its own: never loosen the commit of a caller's transaction.
    if connection.vendor == "postgresql" and not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


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
    return observe_usages([workload], now=now)[workload.pk]


_SUMS = (
    "records", "requests", "input_tokens", "output_tokens", "prompt_requests",
    "prompt_input_tokens", "format_errors", "format_requests",
)  # fmt: skip


def observe_usages(workloads: list[Workload], *, now: datetime) -> dict[int, dict]:
    """`observe_usage` of several workloads in three queries (daily rollup sums, the raw records
    at the window's edges, the weighted p99s): workload id → what usage says."""
    start = now - WINDOW
    ids = [workload.pk for workload in workloads]
    # Whole UTC days inside the window come from the daily rollup; the records that began in
    # the partial days at either end, and those straddling the window start, are read raw.
    first_day = _next_midnight(start)
    last_day = _midnight(now)
    if first_day >= last_day:
        first_day = last_day = start
    # "Unmarked" usage counts as prompt usage for a workload that runs on prompts.
    prompt_like = {
        workload.pk: (Approach.PROMPT, "") if workload.current_approach == Approach.PROMPT
        else (Approach.PROMPT,)
        for workload in workloads
    }  # fmt: skip
    totals = {pk: dict.fromkeys(_SUMS, Decimal(0)) for pk in ids}
    days = (
        UsageDay.objects.filter(
            workload_id__in=ids, day__gte=first_day.date(), day__lt=last_day.date()
        )
        .values("workload_id", "approach")
        .annotate(
            # Aggregate aliases must not shadow field names, hence the "sum_" prefix.
            sum_records=Sum("records"),
            sum_requests=Sum("requests"),
            sum_input_tokens=Sum("input_tokens"),
            sum_output_tokens=Sum("output_tokens"),
            sum_format_errors=Sum("format_errors"),
            sum_format_requests=Sum("format_requests"),
        )
        .order_by()
    )
    for row in days:
        found = totals[row["workload_id"]]
        for name in ("records", "requests", "input_tokens", "output_tokens", "format_errors",
                     "format_requests"):  # fmt: skip
            found[name] += Decimal(row[f"sum_{name}"] or 0)
        if row["approach"] in prompt_like[row["workload_id"]]:
            found["prompt_requests"] += Decimal(row["sum_requests"] or 0)
            found["prompt_input_tokens"] += Decimal(row["sum_input_tokens"] or 0)
    edges = UsageRecord.objects.filter(
        Q(period_start__gte=start, period_start__lt=first_day)
        | Q(period_start__gte=last_day, period_start__lt=now)
        | Q(period_start__lt=start, period_end__gt=start, period_start__gte=start - MAX_PERIOD),
        workload_id__in=ids,
    ).values_list(
        "workload_id", "period_start", "period_end", "requests", "input_tokens", "output_tokens",
        "approach", "format_errors",
    )  # fmt: skip
    for pk, p_start, p_end, requests, input_tokens, output_tokens, approach, errors in edges:
        found = totals[pk]
        # A record straddling the window start counts pro rata by time.
        share = Decimal((p_end - start) / (p_end - p_start)) if p_start < start else Decimal(1)
        found["records"] += 1
        found["requests"] += requests * share
        found["input_tokens"] += input_tokens * share
        found["output_tokens"] += output_tokens * share
        if (approach or "") in prompt_like[pk]:
            found["prompt_requests"] += requests * share
            found["prompt_input_tokens"] += input_tokens * share
        if errors is not None:
            found["format_errors"] += errors * share
            found["format_requests"] += requests * share
    p99s = _weighted_p99s(ids, start=start, now=now)
    return {
        pk: {
            "window_start": start.isoformat(),
            "window_end": now.isoformat(),
            "records": int(found["records"]),
            "requests": int(found["requests"].to_integral_value()),
            "mean_input_tokens": _ratio(found["input_tokens"], found["requests"]),
            "mean_output_tokens": _ratio(found["output_tokens"], found["requests"]),
            "prompt_mean_input_tokens": _ratio(
                found["prompt_input_tokens"], found["prompt_requests"]
            ),
            "latency_p99_ms": p99s.get(pk),
            "format_error_rate": _ratio(found["format_errors"], found["format_requests"], places=6),
        }
        for pk, found in totals.items()
    }


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _next_midnight(moment: datetime) -> datetime:
    midnight = _midnight(moment)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def _weighted_p99s(ids: list[int], *, start: datetime, now: datetime) -> dict[int, float]:
    """Per workload, the smallest record p99 whose records at or below it carry 99% of the
    requests of the records overlapping the window (workloads without such records are left
    out)."""
    by_latency = [F("latency_p99_ms").asc(), F("pk").asc()]
    ranked = (
        UsageRecord.objects.filter(
            workload_id__in=ids, period_end__gt=start, period_start__lt=now,
            # No record is longer than MAX_PERIOD: this bounds the index range read.
            period_start__gte=start - MAX_PERIOD,
            latency_p99_ms__isnull=False, requests__gt=0,
        )
        .annotate(
            running=Window(
                Sum("requests"), partition_by=F("workload_id"), order_by=by_latency,
                frame=RowRange(start=None, end=0),
            ),
            total=Window(Sum("requests"), partition_by=F("workload_id")),
        )
        .filter(running__gte=F("total") * Decimal("0.99"))
        .values_list("workload_id", "latency_p99_ms")
        .order_by()
    )  # fmt: skip
    found: dict[int, float] = {}
    for pk, p99 in ranked:
        if pk not in found or p99 < found[pk]:
            found[pk] = p99
    return {pk: round(float(p99), 3) for pk, p99 in found.items()}


def _ratio(part: Decimal, whole: Decimal, places: int = 2) -> float | None:
    if not whole:
        return None
    return round(float(part / whole), places)


def live_roi_data(
    workload: Workload, observed: dict, *, price_rows=None, prompt_tokens=None
) -> dict:
    """ROI inputs: the workload's parameters and prices, overridden by what usage shows, then
    by what the latest linked benchmark measured (`observed["benchmark"]`).

    Without usage in the window the planned figures of the parameters stand.
    """
    data = workload_roi_data(workload, price_rows=price_rows, prompt_tokens=prompt_tokens)
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
