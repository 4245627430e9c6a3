"""What every write of a decision goes through: the row lock, the immutable revision that
records the change, and the webhook that announces it."""

from __future__ import annotations

from django.db.models import Max

from decisions.models import DecisionRecord, DecisionRevision
from decisions.selectors import decisions_with_related
from decisions.serializers import DecisionSnapshotSerializer
from teams.services import webhook_emit


def locked(decision: DecisionRecord) -> DecisionRecord:
    """The decision re-read under its row lock (call inside a transaction)."""
    return DecisionRecord.objects.select_for_update().get(pk=decision.pk)


def revision_snapshot(decision: DecisionRecord) -> dict:
    """The record as a revision stores it (DecisionSnapshotSerializer's shape)."""
    return dict(DecisionSnapshotSerializer(decision).data)


def record_revision(decision: DecisionRecord, author, note: str) -> DecisionRevision:
    """Store the record as it is now; the caller holds the decision's row lock."""
    fresh = decisions_with_related(DecisionRecord.objects.filter(pk=decision.pk)).get()
    latest = decision.revisions.aggregate(top=Max("number"))["top"] or 0
    return DecisionRevision.objects.create(
        team=decision.team,
        decision=decision,
        number=latest + 1,
        snapshot=revision_snapshot(fresh),
        note=note[:300],
        author=author,
    )


def emit(decision: DecisionRecord, event: str, extra: dict) -> None:
    """Announce `event` about the decision to the team's webhooks."""
    payload = {
        "decision": {
            "number": decision.number,
            "code": decision.code,
            "title": decision.title,
            "status": decision.status,
            "approach": decision.approach or None,
            "workload": decision.workload.slug if decision.workload_id else None,
        },
        **extra,
    }
    webhook_emit(team=decision.team, event=event, payload=payload)
