"""Read side of live usage: what the dashboard, the workload page and the API show.

Every function here reads; writes live in workloads.services. Queries are per kind of data,
never per workload (the dashboard is pinned by a query-count test).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDay, TruncMonth
from django.utils import timezone

from workloads.forecast import Forecast, forecast_crossover
from workloads.models import Assessment, SwitchFlag, UsageRecord, Workload
from workloads.services.flags import flag_as_dict

CHART_DAYS = 60
SPARKLINE_DAYS = 30
HISTORY_LENGTH = 10
FORECAST_MONTHS = 12


def chart_json(config: dict) -> str:
    """JSON for a `<script type="application/json" data-chart>` block, safe inside HTML."""
    text = json.dumps(config, cls=DjangoJSONEncoder)
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


# --- the dashboard -----------------------------------------------------------------------------


def dashboard_rows(team, *, now: datetime | None = None) -> list[dict]:
    """Every workload of `team` with its latest recommendation, live flag and a 30-day
    sparkline of daily requests: three queries whatever the number of workloads."""
    now = now or timezone.now()
    latest = Assessment.objects.filter(workload=OuterRef("pk")).order_by("-created_at", "-id")
    workloads = list(
        Workload.objects.for_team(team).annotate(
            recommendation=Subquery(latest.values("recommendation")[:1]),
            assessed_at=Subquery(latest.values("created_at")[:1]),
        )
    )
    flags = {flag.workload_id: flag for flag in SwitchFlag.objects.for_team(team).live()}
    # Complete UTC days only: today's partial count would read as a sudden drop.
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=SPARKLINE_DAYS)
    daily: dict[int, dict[date, int]] = defaultdict(dict)
    usage = (
        UsageRecord.objects.for_team(team)
        .filter(period_start__gte=start, period_start__lt=end)
        .annotate(day=TruncDay("period_start"))
        .values("workload_id", "day")
        .annotate(requests=Sum("requests"))
    )
    for row in usage:
        daily[row["workload_id"]][_as_date(row["day"])] = row["requests"]
    days = [(start + timedelta(days=i)).date() for i in range(SPARKLINE_DAYS)]
    rows = []
    for workload in workloads:
        volumes = [daily[workload.pk].get(day, 0) for day in days]
        rows.append(
            {
                "workload": workload,
                "recommendation": workload.recommendation or "",
                "assessed_at": workload.assessed_at,
                "flag": flags.get(workload.pk),
                "volume_30d": sum(volumes),
                "sparkline": chart_json(_sparkline(days, volumes)) if any(volumes) else "",
            }
        )
    return rows


def _sparkline(days: list[date], volumes: list[int]) -> dict:
    return {
        "type": "line",
        "data": {
            "labels": [day.isoformat() for day in days],
            "datasets": [{"data": volumes, "borderWidth": 1.5, "pointRadius": 0, "fill": False}],
        },
        "options": {
            "plugins": {"legend": {"display": False}, "tooltip": {"enabled": False}},
            "scales": {"x": {"display": False}, "y": {"display": False, "beginAtZero": True}},
        },
    }


# --- the workload page's live sections ---------------------------------------------------------


def workload_live_context(workload: Workload, *, now: datetime | None = None) -> dict:
    """Context for the `workloads/live/*.html` includes of a workload page."""
    now = now or timezone.now()
    history = list(Assessment.objects.filter(workload=workload)[:HISTORY_LENGTH])
    latest = history[0] if history else None
    inputs = latest.inputs if latest else workload.parameters
    outputs = latest.outputs if latest else {}
    crossover = outputs.get("crossover_monthly_requests")
    monthly = monthly_volumes(workload, now=now)
    forecast = _forecast(workload, monthly, crossover, now=now, has_assessment=bool(latest))
    daily = _daily_series(workload, now=now)
    return {
        "workload": workload,
        "latest_assessment": latest,
        "latest_verdicts": outputs.get("verdicts", {}),
        "assessments": history,
        "flags": list(
            SwitchFlag.objects.filter(workload=workload).select_related(
                "decision", "status_changed_by"
            )[:HISTORY_LENGTH]
        ),
        "forecast": forecast,
        "has_usage": bool(monthly),
        "volume_chart": chart_json(_volume_chart(monthly, crossover, forecast)),
        "latency_chart": chart_json(
            _threshold_chart(
                daily, "latency", "p99 latency (ms)", inputs.get("latency_sla_ms"), "SLA"
            )
        ),
        "format_chart": chart_json(
            _threshold_chart(
                daily,
                "format_error_rate",
                "format error rate",
                inputs.get("format_error_threshold"),
                "threshold",
            )
        ),
    }


def monthly_volumes(workload: Workload, *, now: datetime) -> list[tuple[date, int]]:
    """Requests per calendar month (UTC) of the last 12 months, oldest first."""
    start = _month_start(now) - timedelta(days=366)
    rows = (
        UsageRecord.objects.filter(workload=workload, period_start__gte=start)
        .annotate(month=TruncMonth("period_start"))
        .values("month")
        .annotate(requests=Sum("requests"))
        .order_by("month")
    )
    return [(_as_date(row["month"]), row["requests"]) for row in rows]


def _forecast(workload, monthly, crossover, *, now, has_assessment) -> Forecast | None:
    if not has_assessment:
        return None
    # Only complete months: not the current one, nor a first month that usage began mid-way.
    current = _month_start(now).date()
    first = UsageRecord.objects.filter(workload=workload).order_by("period_start").first()
    complete = [
        (month, volume)
        for month, volume in monthly
        if month < current
        and not (
            first
            and month == _month_start(first.period_start).date()
            and not _at_month_start(first.period_start)
        )
    ]
    return forecast_crossover(complete, crossover)


def _daily_series(workload: Workload, *, now: datetime) -> list[dict]:
    start = (now - timedelta(days=CHART_DAYS - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    with_p99 = Q(latency_p99_ms__isnull=False)
    with_errors = Q(format_errors__isnull=False)
    rows = (
        UsageRecord.objects.filter(workload=workload, period_start__gte=start)
        .annotate(day=TruncDay("period_start"))
        .values("day")
        .annotate(
            p99_weighted=Sum(F("latency_p99_ms") * F("requests"), filter=with_p99),
            p99_requests=Sum("requests", filter=with_p99),
            errors=Sum("format_errors"),
            error_requests=Sum("requests", filter=with_errors),
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
