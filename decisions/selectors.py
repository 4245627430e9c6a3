"""Shared read queries of decision records: the log, a workload's timeline and current
decision, what cites a piece of evidence, and the prefetching every representation needs."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, models
from django.db.models import F, Q

from decisions.models import (
    EVIDENCE_KINDS,
    DecisionExport,
    DecisionRecord,
    DecisionStatus,
    EvidenceLink,
    evidence_kind_of,
)
from decisions.search import CONFIG
from teams.models import Team
from workloads.models import Workload


def evidence_prefetch() -> list[str]:
    return [
        f"evidence_links__{spec.field}__{rel}"
        for spec in EVIDENCE_KINDS.values()
        for rel in spec.related
    ] or ["evidence_links"]


def decisions_with_related(queryset: models.QuerySet) -> models.QuerySet[DecisionRecord]:
    """Everything a decision's representation reads, in a fixed number of queries."""
    return queryset.select_related("workload", "team").prefetch_related(
        "supersedes",
        "superseded_by",
        "revisit_reasons",
        "links_out__target",
        "links_in__source",
        *evidence_prefetch(),
    )


def decisions_in_order(
    team: Team, ids: Sequence[int], *, full: bool = False
) -> list[DecisionRecord]:
    """The records of `ids`, in that order, with their workloads; `full`: with everything their
    API representation reads (`decisions_with_related`).

    A page of the log is chosen on ids alone (`decision_search(...).values_list("pk")` sliced),
    then its records are read here: ranking and sorting a search never carry whole rows
    (10,000 records matching one word: 49 ms for a page of 100 ranked with their rows joined,
    spilled to disk by the sort; 13 ms for their ids).
    """
    records = DecisionRecord.objects.for_team(team)
    records = decisions_with_related(records) if full else records.select_related("workload")
    found = records.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def decision_for_team(team: Team, number: int) -> DecisionRecord | None:
    """One decision of `team` by number, with everything its representation reads."""
    return decisions_with_related(
        DecisionRecord.objects.for_team(team).filter(number=number)
    ).first()


def decision_search(
    *, team: Team, status: str = "", approach: str = "", workload: str = "", q: str = ""
) -> models.QuerySet[DecisionRecord]:
    """The decision log: filters, and text search (PostgreSQL full-text when available)."""
    qs = DecisionRecord.objects.for_team(team)
    filters = {"status": status, "approach": approach, "workload__slug": workload}
    qs = qs.filter(**{name: value for name, value in filters.items() if value})
    q = q.strip()
    return _text_search(qs, q) if q else qs


def _text_search(qs: models.QuerySet, q: str) -> models.QuerySet:
    """Records matching `q` by full text (stored `search` vector, GIN index) or by a title
    substring (trigram index), best match first. The rank reads the stored vector; a count of
    the result leaves it out."""
    if connection.vendor == "postgresql":
        query = SearchQuery(q, search_type="websearch", config=CONFIG)
        return (
            qs.filter(Q(search=query) | Q(title__icontains=q))
            .annotate(rank=SearchRank(F("search"), query))
            .order_by("-rank", "-number")
        )
    return qs.filter(search__contains=q.lower())


def workload_decisions(workload: Workload) -> models.QuerySet[DecisionRecord]:
    """A workload's decisions, oldest first: its timeline."""
    return (
        DecisionRecord.objects.for_team(workload.team)
        .filter(workload=workload)
        .prefetch_related("supersedes", "superseded_by")
        .order_by(F("date").asc(nulls_first=True), "number")
    )


def workload_accepted_decision(workload: Workload) -> DecisionRecord | None:
    """The decision the workload currently runs on: its latest accepted one."""
    return (
        DecisionRecord.objects.for_team(workload.team)
        .filter(workload=workload, status=DecisionStatus.ACCEPTED)
        .prefetch_related("revisit_reasons")
        .order_by(F("date").desc(nulls_last=True), "-number")
        .first()
    )


def decisions_citing(obj: models.Model) -> models.QuerySet[EvidenceLink]:
    """Evidence links (with their decisions) that cite `obj`, newest decision first."""
    kind = evidence_kind_of(obj)
    return (
        EvidenceLink.objects.for_team(obj.team)
        .filter(kind=kind, **{EVIDENCE_KINDS[kind].field: obj})
        .select_related("decision")
        .order_by("-decision__number")
    )


def decision_exports(team: Team, *, archive: bool = False) -> models.QuerySet[DecisionExport]:
    """The team's exports of its whole log, newest first; their archives only if asked."""
    exports = DecisionExport.objects.for_team(team).select_related("team")
    return exports if archive else exports.defer("archive")
