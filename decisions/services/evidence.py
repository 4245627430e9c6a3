"""Evidence links of a decision: worksheets and workload assessments it rests on. Links change
in every status, and each change is a revision."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models, transaction

from decisions.models import EVIDENCE_KINDS, DecisionRecord, EvidenceLink, evidence_kind_of
from decisions.services.history import locked, record_revision


def link_evidence(decision: DecisionRecord, target: models.Model) -> EvidenceLink:
    """Link `target` (idempotent); it must belong to the decision's team."""
    if target.team_id != decision.team_id:
        raise ValueError("Evidence must belong to the decision's team.")
    kind = evidence_kind_of(target)
    link, _ = EvidenceLink.objects.get_or_create(
        team=decision.team, decision=decision, kind=kind, **{EVIDENCE_KINDS[kind].field: target}
    )
    return link


def set_evidence(decision: DecisionRecord, targets: Sequence[models.Model]) -> None:
    """Make the decision cite exactly `targets`."""
    keep = {(evidence_kind_of(t), t.pk) for t in targets}
    for link in decision.evidence_links.all():
        if (link.kind, link.target.pk) not in keep:
            link.delete()
    for target in targets:
        link_evidence(decision, target)


def decision_add_evidence(
    *, decision: DecisionRecord, author, target: models.Model, note: str = ""
) -> EvidenceLink:
    """Link one more piece of evidence (allowed in every status)."""
    with transaction.atomic():
        decision = locked(decision)
        link = link_evidence(decision, target)
        record_revision(decision, author, note or f"Linked evidence: {link.label}")
    return link


def decision_remove_evidence(*, decision: DecisionRecord, author, link: EvidenceLink) -> None:
    """Unlink one piece of evidence; the revision keeps what it was."""
    with transaction.atomic():
        decision = locked(decision)
        label = link.label
        EvidenceLink.objects.filter(pk=link.pk, decision=decision).delete()
        record_revision(decision, author, f"Unlinked evidence: {label}")
