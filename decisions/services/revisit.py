"""Marking accepted decisions "needs revisit" (a flag, not a status) and clearing the flag.

One implementation, reached from two places: every workload assessment (the
`workloads_assessed` signal, connected in decisions/apps.py) checks the revisit triggers and
review-by dates of the workload's accepted decisions, and a daily task checks every review-by
date. A reason is keyed by what fired (the trigger, or the review-by date): one that keeps
firing updates its sentence in place, and a check that changes nothing writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from decisions import triggers
from decisions.models import DecisionRecord, DecisionStatus, RevisitReason
from decisions.services.history import emit, locked, record_revision
from teams.models import WebhookEvent
from workloads.models import Workload

REVIEW_BY = "review_by"


def review_reason(decision: DecisionRecord) -> triggers.Reason:
    return triggers.Reason(
        key=REVIEW_BY, text=f"review-by date {decision.review_by.isoformat()} has come"
    )


def decision_revisit_check(
    *, workload: Workload, metrics: Mapping[str, object], today: dt.date | None = None
) -> list[DecisionRecord]:
    """Check the workload's accepted decisions against fresh figures (`metrics` with
    decisions.triggers metric names) and their review-by dates. Returns the decisions newly
    flagged or whose reasons changed."""
    return decisions_revisit_check(checks=[(workload, metrics)], today=today)


def decisions_revisit_check(
    *,
    checks: Sequence[tuple[Workload, Mapping[str, object]]],
    today: dt.date | None = None,
) -> list[DecisionRecord]:
    """`decision_revisit_check` for several workloads (a batch of assessments): one read of the
    accepted decisions per team, one write for all of them."""
    today = today or timezone.localdate()
    by_team: dict[int, dict[int, tuple[Workload, Mapping[str, object]]]] = {}
    for workload, metrics in checks:
        by_team.setdefault(workload.team_id, {})[workload.pk] = (workload, metrics)
    found = {}
    for team_checks in by_team.values():
        team = next(iter(team_checks.values()))[0].team
        # A decision without triggers or a review-by date has nothing to check.
        accepted = (
            DecisionRecord.objects.for_team(team)
            .filter(workload__in=list(team_checks), status=DecisionStatus.ACCEPTED)
            .filter(Q(review_by__isnull=False) | ~Q(revisit_triggers=[]))
            .select_related("team", "workload")
            .prefetch_related("revisit_reasons")
        )
        for decision in accepted:
            metrics = team_checks[decision.workload_id][1]
            reasons = triggers.evaluate_triggers(decision.revisit_triggers, metrics)
            if decision.review_overdue_on(today):
                reasons.append(review_reason(decision))
            found[decision] = reasons
    return _record(found)


def decisions_flag_overdue_reviews(*, today: dt.date | None = None) -> int:
    """Flag every accepted decision whose review-by date has come (the daily sweep)."""
    today = today or timezone.localdate()
    due = (
        DecisionRecord.objects.review_overdue(today)
        .select_related("team", "workload")
        .prefetch_related("revisit_reasons")
    )
    return len(_record({decision: [review_reason(decision)] for decision in due}))


def _record(found: Mapping[DecisionRecord, list[triggers.Reason]]) -> list[DecisionRecord]:
    """Store the reasons of each decision (prefetched `revisit_reasons`): insert the new keys,
    update the sentences that changed, turn the flag on where it was off. Nothing is written
    for a decision whose reasons are already stored as they are."""
    now = timezone.now()
    inserts, updates, changed = [], [], []
    for decision, reasons in found.items():
        new, moved = _diff(decision, reasons, now)
        inserts += new
        updates += moved
        if new or moved or (reasons and not decision.needs_revisit):
            changed.append(decision)
    if not changed:
        return []
    with transaction.atomic():
        RevisitReason.objects.bulk_create(inserts, ignore_conflicts=True)
        RevisitReason.objects.bulk_update(updates, ["text", "updated_at"])
        for decision in changed:
            if not decision.needs_revisit:
                _turn_on(decision, now)
    return changed


def _diff(decision: DecisionRecord, reasons: list[triggers.Reason], now) -> tuple[list, list]:
    stored = {reason.key: reason for reason in decision.revisit_reasons.all()}
    new, moved = [], []
    for reason in {reason.key: reason for reason in reasons}.values():
        row = stored.get(reason.key)
        if row is None:
            new.append(
                RevisitReason(
                    team_id=decision.team_id,
                    decision=decision,
                    key=reason.key,
                    text=reason.text,
                    created_at=now,
                    updated_at=now,
                )  # fmt: skip
            )
        elif row.text != reason.text:
            row.text, row.updated_at = reason.text, now
            moved.append(row)
    return new, moved


def _turn_on(decision: DecisionRecord, now) -> None:
    # A conditional UPDATE claims the change: of two concurrent checks, one announces it.
    claimed = DecisionRecord.objects.filter(pk=decision.pk, needs_revisit=False).update(
        needs_revisit=True, revisit_flagged_at=now
    )
    decision.needs_revisit, decision.revisit_flagged_at = True, now
    if claimed:
        texts = list(decision.revisit_reasons.values_list("text", flat=True))
        emit(decision, WebhookEvent.DECISION_NEEDS_REVISIT, {"reasons": texts})


def decision_clear_revisit(
    *, decision: DecisionRecord, author, review_by: dt.date | None = None, note: str = ""
) -> DecisionRecord:
    """Someone revisited the decision and keeps it: clear the flag and its reasons (optionally
    with a new review-by date) and record that in the history."""
    with transaction.atomic():
        decision = locked(decision)
        stored = decision.revisit_reasons.all()
        reasons = "; ".join(reason.text for reason in stored)
        stored.delete()
        decision.needs_revisit, decision.revisit_flagged_at = False, None
        if review_by is not None:
            decision.review_by = review_by
        decision.updated_at = timezone.now()
        decision.save()
        record_revision(decision, author, note or f"Revisited and kept ({reasons})")
    return decision
