"""Switch flags: "the evidence says this workload should run on another approach".

Rules (also in docs/usage-and-flags.md and the flags page help):

- A flag is raised when an assessment recommends another approach than the workload's current
  one, and resolves itself when a later assessment agrees with the current approach again.
- One live flag per workload (database constraint). While it is live, later assessments keep
  its target, reasons and figures up to date; a new target puts an acknowledged or dismissed
  flag back to open, because the situation changed.
- No flapping: a new flag is not raised within 24 hours of the previous flag's creation. An
  assessment that disagrees during that quiet period is held back; the periodic sweep raises
  the flag once the period is over if the latest assessment still disagrees. So a metric
  hovering around a threshold raises at most one flag per workload per day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone

from teams import services as team_services
from workloads import roi
from workloads.models import Assessment, FlagStatus, SwitchFlag, Workload

QUIET_PERIOD = timedelta(hours=24)


def flag_as_dict(flag: SwitchFlag) -> dict:
    """The API and webhook shape of a flag (needs `workload` and `decision` loaded)."""
    return {
        "id": flag.pk,
        "workload": flag.workload.slug,
        "from_approach": flag.from_approach,
        "to_approach": flag.to_approach,
        "status": flag.status,
        "reasons": flag.reasons,
        "figures": flag.figures,
        "assessment": flag.assessment_id,
        "decision": flag.decision.number if flag.decision_id else None,
        "created_at": flag.created_at.isoformat(),
        "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
    }


def flag_figures(assessment: Assessment) -> dict:
    """The figures a reader needs to judge the flag, from the assessment."""
    inputs, outputs = assessment.inputs, assessment.outputs
    return {
        "monthly_requests": inputs.get("monthly_requests"),
        "crossover_monthly_requests": outputs.get("crossover_monthly_requests"),
        "monthly_tokens": outputs.get("monthly_tokens"),
        "token_cutoff_per_month": inputs.get("token_cutoff_per_month"),
        "latency_p99_ms": inputs.get("latency_p99_ms"),
        "latency_sla_ms": inputs.get("latency_sla_ms"),
        "format_error_rate": inputs.get("format_error_rate"),
        "format_error_threshold": inputs.get("format_error_threshold"),
        "prompt_monthly_cost": (outputs.get("prompt") or {}).get("monthly_cost"),
        "fine_tune_monthly_cost": (outputs.get("fine_tune") or {}).get("monthly_cost"),
        "monthly_savings": outputs.get("monthly_savings"),
        "payback_months": outputs.get("payback_months"),
        "horizon_months": inputs.get("horizon_months"),
    }


def _reasons(assessment: Assessment) -> list[str]:
    current = roi.APPROACHES[assessment.current_approach].phrase
    target = roi.APPROACHES[assessment.recommendation].phrase
    headline = f"The evidence now favours {target} over the current {current}."
    return [headline, *assessment.outputs.get("recommendation_reasons", [])]


def flag_sync(*, assessment: Assessment, now: datetime | None = None) -> SwitchFlag | None:
    """Raise, update or resolve the workload's flag after `assessment`; returns the live flag.

    `now` (default: the assessment's time) is when a flag would be raised.
    """
    return flags_sync(assessments=[assessment], now=now).get(assessment.workload_id)


_UPDATED = ("status", "to_approach", "from_approach", "assessment", "reasons", "figures",
            "resolved_at", "updated_at")  # fmt: skip


def _save_all(flags: list[SwitchFlag]) -> None:
    """Store the `_UPDATED` fields of `flags` in one statement.

    On PostgreSQL an UPDATE … FROM (VALUES …) with the fields' own database values: Django's
    `bulk_update` builds a CASE per field and row, which costs more than the assessments it
    follows.
    """
    if not flags:
        return
    if connection.vendor != "postgresql":
        SwitchFlag.objects.bulk_update(flags, _UPDATED)
        return
    fields = [SwitchFlag._meta.get_field(name) for name in _UPDATED]
    columns = ["id", *(field.column for field in fields)]
    types = ["bigint", *(field.db_type(connection) for field in fields)]
    row = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
    params = []
    for flag in flags:
        params.append(flag.pk)
        params += [
            field.get_db_prep_save(getattr(flag, field.attname), connection) for field in fields
        ]
    table = SwitchFlag._meta.db_table
    assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS f SET {assignments} "  # noqa: S608 - model names, placeholders
            f"FROM (VALUES {', '.join([row] * len(flags))}) AS v({', '.join(columns)}) "
            f"WHERE f.id = v.id",
            params,
        )


def flags_sync(
    *, assessments: list[Assessment], now: datetime | None = None
) -> dict[int, SwitchFlag]:
    """`flag_sync` for stored assessments of distinct workloads, in a handful of queries:
    returns workload id → its live flag, for the workloads that have one afterwards."""
    judged = {a.workload_id: a for a in assessments if a.recommendation}
    if not judged:
        return {}  # invalid inputs: those assessments say nothing either way
    with transaction.atomic():
        # Serialise flag changes per workload (concurrent assessments, sweep, user actions);
        # rows are locked in id order, as every claim locks them.
        list(Workload.objects.select_for_update().filter(pk__in=judged).order_by("pk").values("pk"))
        live = {
            flag.workload_id: flag
            for flag in SwitchFlag.objects.filter(workload_id__in=judged).live()
        }
        to_raise = [a for pk, a in judged.items() if a.disagrees and pk not in live]
        last_raised = dict(
            SwitchFlag.objects.filter(workload_id__in=[a.workload_id for a in to_raise])
            .values("workload_id")
            .annotate(last=Max("created_at"))
            .values_list("workload_id", "last")
            .order_by()
        ) if to_raise else {}  # fmt: skip
        changed, resolved, raised = [], [], []
        for pk, assessment in judged.items():
            flag = live.get(pk)
            if flag is not None:
                flag.workload = assessment.workload
                if assessment.disagrees:
                    changed.append(_update(flag, assessment))
                else:
                    resolved.append(_resolve(flag, assessment))
                continue
            if assessment.disagrees:
                at = now or assessment.created_at
                last = last_raised.get(pk)
                # The no-flapping rule holds it back; the sweep raises it later.
                if last is None or at - last >= QUIET_PERIOD:
                    raised.append(_new(assessment, at))
        _save_all(changed + resolved)
        SwitchFlag.objects.bulk_create(raised)
        for flag in resolved:
            _emit("flag.resolved", flag)
            del live[flag.workload_id]
        for flag in raised:
            _emit("flag.raised", flag)
            live[flag.workload_id] = flag
    return live


def _new(assessment: Assessment, now: datetime) -> SwitchFlag:
    return SwitchFlag(
        team_id=assessment.team_id,
        workload=assessment.workload,
        assessment=assessment,
        from_approach=assessment.current_approach,
        to_approach=assessment.recommendation,
        reasons=_reasons(assessment),
        figures=flag_figures(assessment),
        created_at=now,
        updated_at=now,
    )


def _update(flag: SwitchFlag, assessment: Assessment) -> SwitchFlag:
    if flag.to_approach != assessment.recommendation:
        flag.status = FlagStatus.OPEN
        flag.to_approach = assessment.recommendation
    flag.from_approach = assessment.current_approach
    flag.assessment = assessment
    flag.reasons = _reasons(assessment)
    flag.figures = flag_figures(assessment)
    flag.updated_at = assessment.created_at
    return flag


def _resolve(flag: SwitchFlag, assessment: Assessment) -> SwitchFlag:
    # A dismissed flag keeps its status (and reason) but stops being live.
    if flag.status != FlagStatus.DISMISSED:
        flag.status = FlagStatus.RESOLVED
    flag.resolved_at = assessment.created_at
    flag.updated_at = assessment.created_at
    flag.assessment = assessment
    return flag


def _emit(event: str, flag: SwitchFlag) -> None:
    payload = {"flag": flag_as_dict(flag), "workload_name": flag.workload.name}
    team_services.webhook_emit(team=flag.workload.team, event=event, payload=payload)


def flags_release_held(*, now: datetime | None = None) -> list[SwitchFlag]:
    """Raise the flags the quiet period held back, where the latest assessment still disagrees."""
    now = now or timezone.now()
    latest = Assessment.objects.filter(workload=OuterRef("pk")).order_by("-created_at", "-id")
    last_flag = SwitchFlag.objects.filter(workload=OuterRef("pk")).order_by("-created_at")
    candidates = (
        Workload.objects.annotate(
            latest_recommendation=Subquery(latest.values("recommendation")[:1]),
            latest_current=Subquery(latest.values("current_approach")[:1]),
            last_flag_at=Subquery(last_flag.values("created_at")[:1]),
            has_live=Exists(SwitchFlag.objects.filter(workload=OuterRef("pk")).live()),
        )
        .filter(has_live=False, last_flag_at__lt=now - QUIET_PERIOD)
        .exclude(latest_recommendation="")
        .exclude(latest_recommendation__isnull=True)
    )
    raised = []
    for workload in candidates:
        if workload.latest_recommendation == workload.latest_current:
            continue
        assessment = Assessment.objects.filter(workload=workload).order_by("-created_at").first()
        flag = flag_sync(assessment=assessment, now=now)
        if flag is not None:
            raised.append(flag)
    return raised


# --- what people do with a flag ---------------------------------------------------------------


def flag_acknowledge(*, flag: SwitchFlag, user) -> SwitchFlag:
    """ "Seen, we are on it": the flag stays live but no longer asks for attention."""
    _require_live(flag)
    return _set_status(flag, FlagStatus.ACKNOWLEDGED, user)


def flag_dismiss(*, flag: SwitchFlag, user, reason: str) -> SwitchFlag:
    """ "We will not switch, because …": the reason is required and kept with the flag."""
    _require_live(flag)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the flag is dismissed."})
    flag.dismiss_reason = reason
    return _set_status(flag, FlagStatus.DISMISSED, user)


def flag_link_decision(*, flag: SwitchFlag, decision, user) -> SwitchFlag:
    """A decision record was started from the flag: keep the link, and acknowledge an open flag
    (someone is on it)."""
    flag.decision = decision
    if flag.status == FlagStatus.OPEN:
        return _set_status(flag, FlagStatus.ACKNOWLEDGED, user)
    flag.save(update_fields=["decision"])
    return flag


def _require_live(flag: SwitchFlag) -> None:
    if not flag.is_live:
        raise ValidationError({"status": "This flag is resolved: nothing left to do."})


def _set_status(flag: SwitchFlag, status: str, user) -> SwitchFlag:
    now = timezone.now()
    flag.status = status
    flag.status_changed_by = user
    flag.status_changed_at = now
    flag.updated_at = now
    flag.save()
    return flag
