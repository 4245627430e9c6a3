"""The status machine of a decision record and the supersession links it rests on.

`draft → proposed → accepted | rejected` and `accepted → deprecated | superseded` (the rules
are DecisionRecord's). Accepting sets the workload's approach and supersedes the accepted
decisions it names; superseding needs a successor; supersession never makes a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from decisions.models import DecisionConflict, DecisionRecord, DecisionStatus
from decisions.services.history import emit, locked, record_revision
from teams.models import Team, WebhookEvent
from workloads.models import Workload

S = DecisionStatus


def decision_transition(
    *,
    decision: DecisionRecord,
    author,
    status: str,
    superseded_by: Sequence[DecisionRecord] = (),
    note: str = "",
) -> DecisionRecord:
    """Move a decision along the status machine.

    Accepting sets the workload's `current_approach` and marks superseded the accepted
    decisions this one supersedes. Superseding needs the successor(s): `superseded_by` (linked
    here), or links made earlier from the newer decision. Emits `decision.status_changed`.
    """
    with transaction.atomic():
        decision = locked(decision)
        decision.check_transition(status)
        if status == S.SUPERSEDED:
            _check_successors(decision, superseded_by)
        if status == S.ACCEPTED:
            decision.check_acceptable()
        _set_status(decision, status, author, note)
        if status == S.ACCEPTED:
            _accept(decision, author)
    return decision


def _check_successors(decision: DecisionRecord, successors: Sequence[DecisionRecord]) -> None:
    for successor in successors:
        link_supersedes(successor, decision)
    if not decision.superseded_by.exists():
        raise ValidationError(
            {"superseded_by": [f"Name the decision(s) that supersede {decision.code}."]}
        )


def _accept(decision: DecisionRecord, author) -> None:
    if decision.workload_id:
        Workload.objects.filter(pk=decision.workload_id).update(
            current_approach=decision.approach, updated_at=timezone.now()
        )
    for older in decision.supersedes.filter(status=S.ACCEPTED):
        _set_status(locked(older), S.SUPERSEDED, author, f"Superseded by {decision.code}")


def _set_status(decision: DecisionRecord, status: str, author, note: str) -> None:
    previous = decision.status
    decision.status = status
    decision.status_text = ""  # an imported status word no longer describes it
    decision.updated_at = timezone.now()
    decision.save(update_fields=["status", "status_text", "updated_at"])
    record_revision(decision, author, note or f"Status {previous} → {status}")
    emit(
        decision,
        WebhookEvent.DECISION_STATUS_CHANGED,
        {"from": previous, "to": status, "by": getattr(author, "username", None)},
    )


def set_supersedes(decision: DecisionRecord, targets: Sequence[DecisionRecord]) -> None:
    """Make `decision` supersede exactly `targets`."""
    wanted = {t.pk for t in targets}
    current = set(decision.supersedes.values_list("pk", flat=True))
    decision.supersedes.remove(*(current - wanted))
    for target in targets:
        if target.pk not in current:
            link_supersedes(decision, target)


def link_supersedes(newer: DecisionRecord, older: DecisionRecord) -> None:
    """`newer` supersedes `older`; refuses self-links and cycles (DecisionConflict)."""
    if newer.pk == older.pk:
        raise DecisionConflict({"supersedes": [f"{newer.code} cannot supersede itself."]})
    if _reaches(newer.team, start=older.pk, goal=newer.pk):
        raise DecisionConflict(
            {
                "supersedes": [
                    f"{newer.code} cannot supersede {older.code}: {older.code} already "
                    f"supersedes {newer.code} (directly or through other decisions), so the "
                    "link would make a cycle."
                ]
            }
        )
    newer.supersedes.add(older)


def _reaches(team: Team, *, start: int, goal: int) -> bool:
    """Whether `start` supersedes `goal` through a chain of supersession links."""
    through = DecisionRecord.supersedes.through
    edges: dict[int, list[int]] = {}
    pairs = through.objects.filter(from_decisionrecord__team=team).values_list(
        "from_decisionrecord_id", "to_decisionrecord_id"
    )
    for newer, older in pairs:
        edges.setdefault(newer, []).append(older)
    seen, frontier = {start}, [start]
    while frontier:
        node = frontier.pop()
        if node == goal:
            return True
        for older in edges.get(node, ()):
            if older not in seen:
                seen.add(older)
                frontier.append(older)
    return False
