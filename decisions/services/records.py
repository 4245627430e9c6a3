"""Creating and editing decision records.

Numbers are per team and never shared; the body is frozen once a decision leaves
draft/proposed (the revisit triggers, review-by date, supersession links and evidence still
change); every save stores an immutable revision with the full record. The arguments are
DecisionWriteSerializer's validated data: the services trust them.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict, Unpack

from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from decisions.models import DecisionRecord, DecisionStatus, evidence_kind_of
from decisions.services.evidence import link_evidence, set_evidence
from decisions.services.history import locked, record_revision
from decisions.services.status import link_supersedes, set_supersedes
from teams.models import Team
from workloads.models import Workload


class DecisionBody(TypedDict, total=False):
    """The writable fields of a decision record but its title, as DecisionWriteSerializer
    validates them."""

    date: dt.date
    decision_makers: list[str]
    consulted: list[str]
    informed: list[str]
    context_and_problem_statement: str
    decision_drivers: list[str]
    considered_options: list[dict]
    chosen_option: str
    justification: str
    consequences: str
    confirmation: str
    more_information: str
    approach: str
    workload: Workload | None
    revisit_triggers: list[dict]
    review_by: dt.date | None
    supersedes: list[DecisionRecord]
    evidence: list[models.Model]


class DecisionChanges(DecisionBody, total=False):
    title: str


def decision_create(
    *, team: Team, author, title: str, note: str = "", **fields: Unpack[DecisionBody]
) -> DecisionRecord:
    """Create a draft decision with the next free number of the team; stores revision 1."""
    with transaction.atomic():
        decision = decision_insert(team=team, author=author, fields={"title": title, **fields})
        record_revision(decision, author, note or "Created")
    return decision


def decision_insert(
    *,
    team: Team,
    author,
    fields: DecisionChanges,
    number: int | None = None,
    status: str = DecisionStatus.DRAFT,
) -> DecisionRecord:
    """Insert a record, with `number` when it is free, under the team's numbering lock; call
    inside a transaction (the caller records the revision)."""
    values = dict(fields)
    supersedes = values.pop("supersedes", [])
    evidence = values.pop("evidence", [])
    decision = _insert_numbered(team, number, status=status, created_by=author, **values)
    for target in supersedes:
        link_supersedes(decision, target)
    for target in evidence:
        link_evidence(decision, target)
    return decision


def _insert_numbered(team: Team, number: int | None, **values) -> DecisionRecord:
    now = timezone.now()
    attempts = 0
    while True:
        allocated = _next_number(team, number)
        try:
            with transaction.atomic():  # a savepoint: a lost race only undoes this insert
                return DecisionRecord.objects.create(
                    team=team, number=allocated, created_at=now, updated_at=now, **values
                )
        except IntegrityError:
            # The lock makes this unreachable on PostgreSQL; the unique constraint is the
            # backstop wherever row locks are not available.
            attempts += 1
            taken = DecisionRecord.objects.filter(team=team, number=allocated).exists()
            if not taken or attempts == 3:
                raise
            number = None


def _next_number(team: Team, wanted: int | None = None) -> int:
    """`wanted` when it is free, else one more than the highest number of the team.

    Locking the team row serialises numbering per team on PostgreSQL: a second creator waits
    here until the first commits, then sees its number.
    """
    Team.objects.select_for_update().filter(pk=team.pk).exists()
    numbers = DecisionRecord.objects.filter(team=team)
    if wanted and wanted > 0 and not numbers.filter(number=wanted).exists():
        return wanted
    return (numbers.aggregate(top=Max("number"))["top"] or 0) + 1


def decision_update(
    *, decision: DecisionRecord, author, note: str = "", **changes: Unpack[DecisionChanges]
) -> DecisionRecord:
    """Change fields of a decision (a partial update) and store a revision when anything changed.

    Once the decision is accepted (or rejected, deprecated, superseded) its body is frozen:
    changing a body field raises DecisionConflict naming the fields.
    """
    with transaction.atomic():
        decision = locked(decision)
        changed = [name for name, value in changes.items() if field_differs(decision, name, value)]
        decision.check_body_change(changed)
        if not changed:
            return decision
        for name in changed:
            apply_field(decision, name, changes[name])
        decision.updated_at = timezone.now()
        decision.save()
        record_revision(decision, author, note or f"Changed {', '.join(changed)}")
    return decision


def field_differs(decision: DecisionRecord, name: str, value) -> bool:
    """Whether setting `name` to `value` (validated data) would change the record."""
    if name == "supersedes":
        return {d.pk for d in decision.supersedes.all()} != {d.pk for d in value}
    if name == "evidence":
        stored = {(link.kind, link.target.pk) for link in decision.evidence_links.all()}
        return stored != {(evidence_kind_of(obj), obj.pk) for obj in value}
    if name == "workload":
        return decision.workload_id != (value.pk if value else None)
    return getattr(decision, name) != value


def apply_field(decision: DecisionRecord, name: str, value) -> None:
    """Set one validated field (links through their services); the caller saves."""
    if name == "supersedes":
        set_supersedes(decision, value)
    elif name == "evidence":
        set_evidence(decision, value)
    else:
        setattr(decision, name, value)
