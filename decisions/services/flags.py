"""Switch flags: "the evidence says this workload should run on another approach".

Rules (also in docs/usage-and-flags.md and the flags page help):

- A flag is raised when an evaluation recommends another approach than the workload's current
  one, and resolves itself when a later evaluation agrees with the current approach again.
- One live flag per workload (database constraint). While it is live, later evaluations keep
  its target, reasons and figures up to date; a new target puts an acknowledged or dismissed
  flag back to open, because the situation changed.
- No flapping: a new flag is not raised within 24 hours of the previous flag's creation. An
  evaluation that disagrees during that quiet period is held back; the periodic sweep raises
  the flag once the period is over if the latest evaluation still disagrees. So a metric
  hovering around a threshold raises at most one flag per workload per day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from decisions.models import (
    Approach,
    DecisionRecord,
    Evaluation,
    FlagStatus,
    SwitchFlag,
    Workload,
)
from teams import services as team_services

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
        "evaluation": flag.evaluation_id,
        "decision": flag.decision.number if flag.decision_id else None,
        "created_at": flag.created_at.isoformat(),
        "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
    }


def flag_figures(evaluation: Evaluation) -> dict:
    """The figures a reader needs to judge the flag, from the evaluation."""
    inputs, outputs = evaluation.inputs, evaluation.outputs
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


def _reasons(evaluation: Evaluation) -> list[str]:
    current = Approach(evaluation.current_approach).label.lower()
    target = Approach(evaluation.recommendation).label.lower()
    headline = f"The evidence now favours {target} over the current {current}."
    return [headline, *evaluation.outputs.get("recommendation_reasons", [])]


def flag_sync(*, evaluation: Evaluation, now: datetime | None = None) -> SwitchFlag | None:
    """Raise, update or resolve the workload's flag after `evaluation`; returns the live flag.

    `now` (default: the evaluation's time) is when a flag would be raised.
    """
    now = now or evaluation.created_at
    if not evaluation.recommendation:
        return None  # the inputs were invalid: the evaluation says nothing either way
    with transaction.atomic():
        # Serialise flag changes per workload (concurrent evaluations, sweep, user actions).
        Workload.objects.select_for_update().filter(pk=evaluation.workload_id).first()
        live = SwitchFlag.objects.filter(workload=evaluation.workload_id).live().first()
        if not evaluation.disagrees:
            if live is not None:
                _resolve(live, evaluation)
            return None
        if live is not None:
            return _update(live, evaluation)
        return _raise(evaluation, now)


def _raise(evaluation: Evaluation, now: datetime) -> SwitchFlag | None:
    last = (
        SwitchFlag.objects.filter(workload=evaluation.workload_id).order_by("-created_at").first()
    )
    if last is not None and now - last.created_at < QUIET_PERIOD:
        return None  # held back by the no-flapping rule; the sweep raises it later
    flag = SwitchFlag.objects.create(
        team_id=evaluation.team_id,
        workload=evaluation.workload,
        evaluation=evaluation,
        from_approach=evaluation.current_approach,
        to_approach=evaluation.recommendation,
        reasons=_reasons(evaluation),
        figures=flag_figures(evaluation),
        created_at=now,
        updated_at=now,
    )
    _emit("flag.raised", flag)
    return flag


def _update(flag: SwitchFlag, evaluation: Evaluation) -> SwitchFlag:
    if flag.to_approach != evaluation.recommendation:
        flag.status = FlagStatus.OPEN
        flag.to_approach = evaluation.recommendation
    flag.from_approach = evaluation.current_approach
    flag.evaluation = evaluation
    flag.reasons = _reasons(evaluation)
    flag.figures = flag_figures(evaluation)
    flag.updated_at = evaluation.created_at
    flag.save()
    return flag


def _resolve(flag: SwitchFlag, evaluation: Evaluation) -> None:
    # A dismissed flag keeps its status (and reason) but stops being live.
    if flag.status != FlagStatus.DISMISSED:
        flag.status = FlagStatus.RESOLVED
    flag.resolved_at = evaluation.created_at
    flag.updated_at = evaluation.created_at
    flag.evaluation = evaluation
    flag.save()
    _emit("flag.resolved", flag)


def _emit(event: str, flag: SwitchFlag) -> None:
    payload = {"flag": flag_as_dict(flag), "workload_name": flag.workload.name}
    team_services.webhook_emit(team=flag.workload.team, event=event, payload=payload)


def flags_release_held(*, now: datetime | None = None) -> list[SwitchFlag]:
    """Raise the flags the quiet period held back, where the latest evaluation still disagrees."""
    now = now or timezone.now()
    latest = Evaluation.objects.filter(workload=OuterRef("pk")).order_by("-created_at", "-id")
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
        evaluation = Evaluation.objects.filter(workload=workload).order_by("-created_at").first()
        flag = flag_sync(evaluation=evaluation, now=now)
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


def flag_start_decision(*, flag: SwitchFlag, user) -> DecisionRecord:
    """Open a draft decision record prefilled from the flag, with its evaluation as evidence,
    and acknowledge the flag."""
    from decisions.services.records import decision_create

    if flag.decision_id:
        return flag.decision
    workload = flag.workload
    current = Approach(flag.from_approach).label
    target = Approach(flag.to_approach).label
    figures = "\n".join(
        f"- {k.replace('_', ' ')}: {v}" for k, v in flag.figures.items() if v is not None
    )
    reasons = "\n".join(f"- {reason}" for reason in flag.reasons)
    data = {
        "title": f"Switch {workload.name} from {current.lower()} to {target.lower()}?",
        "workload": workload.slug,
        "approach": flag.to_approach,
        "context_and_problem_statement": (
            f"{workload.name} runs on {current.lower()}. The live evaluation of "
            f"{flag.created_at:%Y-%m-%d %H:%M} UTC recommends {target.lower()}.\n\n"
            f"Why:\n{reasons}\n\nFigures at that evaluation:\n{figures}"
        ),
        "decision_drivers": flag.reasons[1:],
        "considered_options": [
            {"title": f"Keep {current.lower()}", "description": "", "arguments": []},
            {"title": f"Switch to {target.lower()}", "description": "", "arguments": []},
        ],
    }
    evidence = [flag.evaluation] if flag.evaluation_id else []
    with transaction.atomic():
        decision = decision_create(
            team=flag.team,
            author=user,
            data=data,
            evidence=evidence,
            note=f"Started from switch flag #{flag.pk}.",
        )
        flag.decision = decision
        if flag.status == FlagStatus.OPEN:
            _set_status(flag, FlagStatus.ACKNOWLEDGED, user)
        else:
            flag.save(update_fields=["decision"])
    return decision


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
