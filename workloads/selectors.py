"""Read side of workloads: what the dashboard, the workload list and page, and the API show.

Every function here reads; writes live in workloads.services. Queries are per kind of data,
never per workload (the dashboard and the list are pinned by query-count tests).

One story per workload: its recommendation, monthly requests and crossover volume are those of
its latest assessment (:class:`WorkloadEvidence`), wherever they are shown. Until a workload has
been assessed, its planned figures (parameters and prices, exactly what an assessment without
usage computes) stand in, and say so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.db.models import Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from evaluations.models import ModelPrice
from evaluations.pricing import DEFAULT_FT_MULTIPLIER, price_for
from prompts.selectors import label_static_tokens
from workloads import formatting, roi
from workloads.forecast import Forecast, forecast_crossover
from workloads.models import Assessment, FlagStatus, SwitchFlag, UsageDay, Workload
from workloads.services.flags import flag_as_dict

CHART_DAYS = 60
SPARKLINE_DAYS = 30
HISTORY_LENGTH = 10
FORECAST_MONTHS = 12


# --- prices and planned inputs ----------------------------------------------------------------


def price_inputs(
    team, *, model: str, ft_model: str = "", ft_multiplier=DEFAULT_FT_MULTIPLIER, price_rows=None
) -> dict[str, Decimal]:
    """The ROI inputs the price table gives for a workload's models: `input_price_per_1m`,
    `output_price_per_1m` (and `training_price_per_1m` when the row has one) for `model`;
    `ft_input_price_per_1m`, `ft_output_price_per_1m` for `ft_model` (a fine-tuned name without
    a row of its own is its base model × `ft_multiplier`). Models without a price give nothing.
    """
    found: dict[str, Decimal] = {}
    price = price_for(team, model, rows=price_rows) if model else None
    if price is not None:
        found["input_price_per_1m"] = price.input_per_1m
        found["output_price_per_1m"] = price.output_per_1m
        if price.training_per_1m is not None:
            found["training_price_per_1m"] = price.training_per_1m
    ft_price = (
        price_for(team, ft_model, ft_multiplier=ft_multiplier, rows=price_rows)
        if ft_model
        else None
    )
    if ft_price is not None:
        found["ft_input_price_per_1m"] = ft_price.input_per_1m
        found["ft_output_price_per_1m"] = ft_price.output_per_1m
    return found


def workload_roi_data(workload: Workload, *, price_rows=None, prompt_tokens=None) -> dict:
    """The workload's ROI inputs before observation: its parameters, its policy, prices from
    the price table for `model` / `ft_model` (an explicit price parameter always wins), and the
    prompt overhead from its linked prompt's production version when it has one (SPEC §8).

    `prompt_tokens` (a dict, template id → overhead) keeps each prompt's overhead across calls,
    for a batch of workloads sharing prompts."""
    data = dict(workload.parameters)
    data["policy"] = workload.policy
    if prompt_tokens is None:
        overhead = workload_prompt_tokens(workload)
    else:
        if workload.prompt_template_id not in prompt_tokens:
            prompt_tokens[workload.prompt_template_id] = workload_prompt_tokens(workload)
        overhead = prompt_tokens[workload.prompt_template_id]
    if overhead is not None:
        data["prompt_overhead_tokens"] = overhead
    # Stored parameters are JSON numbers; prices are Decimals.
    multiplier = Decimal(str(data.get("ft_price_multiplier", DEFAULT_FT_MULTIPLIER)))
    prices = price_inputs(
        workload.team,
        model=workload.model,
        ft_model=workload.ft_model,
        ft_multiplier=multiplier,
        price_rows=price_rows,
    )
    for name, value in prices.items():
        data.setdefault(name, value)
    return data


def workload_prompt_tokens(workload: Workload) -> int | None:
    """Static tokens of the production version of the workload's prompt; None without a linked
    prompt or a production label."""
    if workload.prompt_template_id is None:
        return None
    return label_static_tokens(template=workload.prompt_template)


def workload_planned_result(workload: Workload, *, price_rows=None):
    """The workload's figures from its parameters and prices, before any observation.

    Returns `(result, None)`, or `(None, errors)` listing the inputs still missing or invalid.
    """
    try:
        inputs = roi.parse_inputs(workload_roi_data(workload, price_rows=price_rows))
    except roi.RoiInputError as exc:
        return None, exc.errors
    return roi.evaluate(inputs), None


# --- one story per workload -------------------------------------------------------------------


def input_label(name: str) -> str:
    spec = roi.FIELDS_BY_NAME.get(name)
    return spec.label if spec else name.replace("_", " ")


@dataclass
class WorkloadEvidence:
    """What the evidence says about one workload: the figures of its latest assessment, or, before
    the first one, its planned figures. Every page takes the recommendation, the monthly requests
    and the crossover volume from here."""

    workload: Workload
    assessment: Assessment | None = None
    planned: roi.RoiResult | None = None
    planned_errors: list[dict] = field(default_factory=list)
    flag: SwitchFlag | None = None
    since: datetime | None = None  # when the recommendation started to hold (workload page)

    @property
    def basis(self) -> str:
        """`observed` (usage in the window), `planned` (parameters only), `incomplete` (inputs
        missing), or `none` (not assessed and no planned figures)."""
        if self.assessment is not None:
            if self.assessment.errors:
                return "incomplete"
            return "observed" if self.assessment.observed.get("requests") else "planned"
        if self.planned is not None:
            return "planned"
        return "incomplete" if self.planned_errors else "none"

    @cached_property
    def inputs(self) -> dict:
        if self.assessment is not None:
            return self.assessment.inputs if not self.assessment.errors else {}
        return self.planned.inputs.as_dict() if self.planned is not None else {}

    @cached_property
    def outputs(self) -> dict:
        if self.assessment is not None:
            return self.assessment.outputs
        return self.planned.as_dict() if self.planned is not None else {}

    @property
    def recommendation(self) -> str:
        return self.outputs.get("recommendation") or ""

    @property
    def reasons(self) -> list[str]:
        return list(self.outputs.get("recommendation_reasons") or [])

    @property
    def monthly_requests(self):
        return self.inputs.get("monthly_requests")

    @property
    def crossover(self):
        return self.outputs.get("crossover_monthly_requests")

    @property
    def assessed_at(self) -> datetime | None:
        return self.assessment.created_at if self.assessment is not None else None

    @property
    def disagrees(self) -> bool:
        return bool(self.recommendation) and self.recommendation != self.workload.current_approach

    @property
    def errors(self) -> list[dict]:
        raw = self.assessment.errors if self.assessment is not None else self.planned_errors
        return [{**error, "label": input_label(error["field"])} for error in raw or []]

    @property
    def open_flag(self) -> SwitchFlag | None:
        return self.flag if self.flag is not None and self.flag.status == FlagStatus.OPEN else None


def latest_assessments(workload_ids) -> dict[int, Assessment]:
    """The latest assessment of each workload, in one query whatever their number."""
    latest = Assessment.objects.filter(workload=OuterRef("pk")).order_by("-created_at", "-id")
    ids = Workload.objects.filter(pk__in=list(workload_ids)).annotate(
        latest_id=Subquery(latest.values("pk")[:1])
    )
    found = Assessment.objects.filter(pk__in=ids.values("latest_id"))
    return {assessment.workload_id: assessment for assessment in found}


def workloads_evidence(team, workloads: list[Workload]) -> dict[int, WorkloadEvidence]:
    """The evidence of each of `team`'s `workloads`: latest assessments and live flags in three
    queries, plus the price table once if a workload has never been assessed."""
    ids = [workload.pk for workload in workloads]
    assessments = latest_assessments(ids)
    # At most one live flag per workload (a database constraint).
    live = SwitchFlag.objects.for_team(team).live().filter(workload_id__in=ids).order_by()
    flags = {flag.workload_id: flag for flag in live}
    price_rows = None
    found = {}
    for workload in workloads:
        evidence = WorkloadEvidence(
            workload, assessment=assessments.get(workload.pk), flag=flags.get(workload.pk)
        )
        if evidence.assessment is None:
            if price_rows is None:
                price_rows = list(ModelPrice.objects.for_team(team))
            planned, errors = workload_planned_result(workload, price_rows=price_rows)
            evidence.planned, evidence.planned_errors = planned, errors or []
        found[workload.pk] = evidence
    return found


def workload_evidence(workload: Workload) -> WorkloadEvidence:
    """The evidence of one workload, with when its recommendation started to hold."""
    evidence = workloads_evidence(workload.team, [workload])[workload.pk]
    evidence.since = recommendation_since(evidence.assessment)
    return evidence


def recommendation_since(assessment: Assessment | None) -> datetime | None:
    """When the latest run of assessments recommending what `assessment` recommends began
    (assessments that could not run do not break the run)."""
    if assessment is None or not assessment.recommendation:
        return None
    history = Assessment.objects.filter(workload=assessment.workload_id).exclude(recommendation="")
    before = history.filter(
        Q(created_at__lt=assessment.created_at)
        | Q(created_at=assessment.created_at, pk__lt=assessment.pk)
    )
    other = before.exclude(recommendation=assessment.recommendation).order_by("-created_at", "-id")
    last_other = other.values_list("created_at", flat=True).first()
    run = history.filter(recommendation=assessment.recommendation)
    if last_other is not None:
        run = run.filter(created_at__gt=last_other)
    return run.order_by("created_at", "id").values_list("created_at", flat=True).first()


def planned_and_observed(workload: Workload, evidence: WorkloadEvidence) -> list[dict]:
    """The figures usage can observe, side by side: planned (the workload's parameters),
    observed (the latest assessment's trailing 30 days) and the value the assessment used."""
    parameters, inputs = workload.parameters, evidence.inputs
    observed = evidence.assessment.observed if evidence.assessment is not None else {}
    planned_input = None
    if parameters.get("user_tokens") is not None:
        planned_input = Decimal(str(parameters["user_tokens"])) + Decimal(
            str(parameters.get("prompt_overhead_tokens") or 0)
        )
    used_input = None
    if inputs.get("user_tokens") is not None:
        used_input = Decimal(str(inputs["user_tokens"])) + Decimal(
            str(inputs.get("prompt_overhead_tokens") or 0)
        )
    measured = observed.get("benchmark") or {}
    rows = [
        ("Requests per month", "count", parameters.get("monthly_requests"),
         observed.get("requests") or None, inputs.get("monthly_requests")),
        ("Input tokens per request, prompted", "tokens", planned_input,
         observed.get("prompt_mean_input_tokens"), used_input),
        ("Output tokens per request", "tokens", parameters.get("output_tokens"),
         observed.get("mean_output_tokens"), inputs.get("output_tokens")),
        ("p99 latency", "ms", parameters.get("latency_p99_ms"),
         observed.get("latency_p99_ms"), inputs.get("latency_p99_ms")),
        ("Format error rate", "rate", parameters.get("format_error_rate"),
         observed.get("format_error_rate"), inputs.get("format_error_rate")),
    ]  # fmt: skip
    table = [
        {
            "label": label,
            "planned": _or_words(unit, planned, "not planned"),
            "observed": _or_words(unit, seen, "not observed"),
            "used": _or_words(unit, used, "not known"),
            "measured_by": _measured_by(measured, label),
        }
        for label, unit, planned, seen, used in rows
    ]
    if measured.get("cost_per_request") is not None:
        table.append({
            "label": f"Cost per request ({measured['candidate']})", "planned": "—",
            "observed": "—", "used": formatting.quantity("usd", measured["cost_per_request"]),
            "measured_by": _measured_by(measured, None),
        })  # fmt: skip
    return table


_MEASURED = {"p99 latency": "latency_p99_ms", "Format error rate": "format_error_rate"}


def _measured_by(measured: dict, label: str | None) -> dict | None:
    """`{"number", "pk"}` of the benchmark that supplied the figure, or None."""
    if not measured or (label is not None and measured.get(_MEASURED.get(label, "")) is None):
        return None
    return {"number": measured["benchmark"], "candidate": measured["candidate"]}


def _or_words(unit: str, value, words: str) -> str:
    return words if value is None else formatting.quantity(unit, value)


# --- the dashboard -----------------------------------------------------------------------------


def dashboard_rows(team, workloads: list[Workload], *, now: datetime | None = None) -> list[dict]:
    """`workloads` of `team` (a page of them) with their evidence (latest assessment, live flag)
    and a 30-day sparkline of daily requests, in constant queries whatever their number."""
    now = now or timezone.now()
    evidence = workloads_evidence(team, workloads)
    # Complete UTC days only: today's partial count would read as a sudden drop.
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=SPARKLINE_DAYS)
    daily: dict[int, dict[date, int]] = defaultdict(dict)
    usage = (
        UsageDay.objects.for_team(team)
        .filter(workload__in=[w.pk for w in workloads], day__gte=start.date(), day__lt=end.date())
        .order_by()
        .values("workload_id", "day")
        .annotate(requests=Sum("requests"))
    )
    for row in usage:
        daily[row["workload_id"]][row["day"]] = row["requests"]
    days = [(start + timedelta(days=i)).date() for i in range(SPARKLINE_DAYS)]
    rows = []
    for workload in workloads:
        volumes = [daily[workload.pk].get(day, 0) for day in days]
        rows.append(
            {
                "workload": workload,
                "evidence": evidence[workload.pk],
                "sparkline": sparkline(volumes) if any(volumes) else None,
            }
        )
    return rows


SPARKLINE_WIDTH, SPARKLINE_HEIGHT = 140, 36


def sparkline(volumes: list[int]) -> dict:
    """An inline SVG polyline of `volumes` (oldest first), scaled to the box with zero at the
    bottom: `points`, the box, and the lowest and highest day for its label."""
    top = max(volumes) or 1
    step = SPARKLINE_WIDTH / max(len(volumes) - 1, 1)
    usable = SPARKLINE_HEIGHT - 2  # room for the stroke
    points = " ".join(
        f"{i * step:.1f},{SPARKLINE_HEIGHT - 1 - volume / top * usable:.1f}"
        for i, volume in enumerate(volumes)
    )
    return {
        "points": points,
        "width": SPARKLINE_WIDTH,
        "height": SPARKLINE_HEIGHT,
        "low": min(volumes),
        "high": max(volumes),
    }


# --- the workload page's live sections ---------------------------------------------------------


def workload_forecast(workload: Workload, evidence: WorkloadEvidence, *, now: datetime):
    """`(monthly volumes, forecast)`: requests per calendar month, and when the volume trend
    reaches the crossover volume of the evidence (None before the first assessment)."""
    monthly = monthly_volumes(workload, now=now)
    if evidence.assessment is None:
        return monthly, None
    return monthly, _forecast(workload, monthly, evidence.crossover, now=now)


def workload_flags(workload: Workload) -> list[SwitchFlag]:
    """The workload's latest flags, newest first."""
    flags = SwitchFlag.objects.filter(workload=workload).select_related(
        "decision", "status_changed_by"
    )
    return list(flags[:HISTORY_LENGTH])


def workload_usage_context(
    workload: Workload, evidence: WorkloadEvidence, *, now: datetime | None = None
) -> dict:
    """The usage charts (Chart.js configs for `json_script`) and the assessment history."""
    now = now or timezone.now()
    monthly, forecast = workload_forecast(workload, evidence, now=now)
    daily = _daily_series(workload, now=now)
    inputs = evidence.inputs or workload.parameters
    return {
        "has_usage": bool(monthly),
        "assessments": list(Assessment.objects.filter(workload=workload)[:HISTORY_LENGTH]),
        "volume_chart": _volume_chart(monthly, evidence.crossover, forecast),
        "latency_chart": _threshold_chart(
            daily, "latency", "p99 latency (ms)", inputs.get("latency_sla_ms"), "SLA"
        ),
        "format_chart": _threshold_chart(
            daily,
            "format_error_rate",
            "format error rate",
            inputs.get("format_error_threshold"),
            "threshold",
        ),
    }


def monthly_volumes(workload: Workload, *, now: datetime) -> list[tuple[date, int]]:
    """Requests per calendar month (UTC) of the last 12 months, oldest first."""
    start = _month_start(now) - timedelta(days=366)
    rows = (
        UsageDay.objects.filter(workload=workload, day__gte=start.date())
        .annotate(month=TruncMonth("day"))
        .order_by()
        .values("month")
        .annotate(requests=Sum("requests"))
        .order_by("month")
    )
    return [(_as_date(row["month"]), row["requests"]) for row in rows]


def _forecast(workload, monthly, crossover, *, now) -> Forecast | None:
    # Only complete months: not the current one, nor a first month that usage began mid-way.
    current = _month_start(now).date()
    first = UsageDay.objects.filter(workload=workload).aggregate(first=Min("first_start"))["first"]
    complete = [
        (month, volume)
        for month, volume in monthly
        if month < current
        and not (first and month == _month_start(first).date() and not _at_month_start(first))
    ]
    return forecast_crossover(complete, crossover)


def _daily_series(workload: Workload, *, now: datetime) -> list[dict]:
    start = (now - timedelta(days=CHART_DAYS - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    rows = (
        UsageDay.objects.filter(workload=workload, day__gte=start.date())
        .order_by()
        .values("day")
        .annotate(
            p99_weighted=Sum("p99_weighted"),
            p99_requests=Sum("p99_requests"),
            errors=Sum("format_errors"),
            error_requests=Sum("format_requests"),
        )
        .order_by("day")
    )
    return [
        {
            "day": _as_date(row["day"]),
            # The day's request-weighted mean of the records' p99.
            "latency": round(row["p99_weighted"] / row["p99_requests"], 1)
            if row["p99_requests"]
            else None,
            "format_error_rate": round(row["errors"] / row["error_requests"], 4)
            if row["error_requests"]
            else None,
        }
        for row in rows
    ]


def _volume_chart(monthly, crossover, forecast: Forecast | None) -> dict:
    labels = [f"{month:%b %Y}" for month, _ in monthly]
    datasets: list[dict] = [
        {"type": "bar", "label": "requests per month", "data": [v for _, v in monthly]}
    ]
    if crossover is not None:
        datasets.append(
            {
                "type": "line",
                "label": "crossover volume (fine-tuning pays back within the horizon)",
                "data": [crossover] * len(monthly),
                "borderDash": [6, 4],
                "pointRadius": 0,
                "borderWidth": 2,
            }
        )
    if forecast is not None and forecast.trend:
        trend = dict(forecast.trend)
        datasets.append(
            {
                "type": "line",
                "label": "trend (log-linear fit)",
                "data": [round(trend[m]) if m in trend else None for m, _ in monthly],
                "pointRadius": 0,
                "borderWidth": 1,
            }
        )
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "options": {
            "scales": {"y": {"beginAtZero": True, "title": {"display": True, "text": "requests"}}}
        },
    }


def _threshold_chart(daily, key: str, label: str, threshold, threshold_label: str) -> dict:
    datasets: list[dict] = [
        {
            "type": "line",
            "label": f"{label}, daily",
            "data": [row[key] for row in daily],
            "pointRadius": 1,
            "spanGaps": True,
        }
    ]
    if threshold is not None:
        datasets.append(
            {
                "type": "line",
                "label": threshold_label,
                "data": [float(threshold)] * len(daily),
                "borderDash": [6, 4],
                "pointRadius": 0,
            }
        )
    return {
        "type": "line",
        "data": {"labels": [row["day"].isoformat() for row in daily], "datasets": datasets},
        "options": {"scales": {"y": {"beginAtZero": True}}},
    }


# --- the API -----------------------------------------------------------------------------------


def assessment_as_dict(assessment: Assessment | None) -> dict | None:
    if assessment is None:
        return None
    return {
        "id": assessment.pk,
        "created_at": assessment.created_at.isoformat(),
        "reason": assessment.reason,
        "current_approach": assessment.current_approach,
        "recommendation": assessment.recommendation or None,
        "observed": assessment.observed,
        "inputs": assessment.inputs,
        "outputs": assessment.outputs,
        "errors": assessment.errors,
    }


def workload_live_summary(workload: Workload) -> dict:
    """`latest_assessment` and `open_flags` for GET /api/v1/workloads/{slug}."""
    latest = Assessment.objects.filter(workload=workload).first()
    flags = (
        SwitchFlag.objects.filter(workload=workload).live().select_related("workload", "decision")
    )
    return {
        "latest_assessment": assessment_as_dict(latest),
        "open_flags": [flag_as_dict(flag) for flag in flags],
    }


# --- helpers -----------------------------------------------------------------------------------


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _at_month_start(moment: datetime) -> bool:
    return moment.astimezone(UTC) == _month_start(moment)
