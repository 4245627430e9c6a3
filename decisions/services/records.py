"""Decision records (ADRs): create, edit, move through the status machine, link, revise, flag for
revisit, export and import.

Rules kept here (SPEC §6.3): numbers are per team and never shared; the status machine is
`draft → proposed → accepted | rejected` and `accepted → deprecated | superseded`; the body is
frozen once a decision leaves draft/proposed (status, supersession links, evidence, revisit
triggers and the review-by date still change); every save stores an immutable revision with the
full record; accepting sets the workload's approach.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from decisions import madr, triggers
from decisions.models import (
    EVIDENCE_TARGETS,
    DecisionRecord,
    DecisionRevision,
    DecisionStatus,
    EvidenceKind,
    EvidenceLink,
)
from teams.models import Team, WebhookEvent
from teams.services import webhook_emit
from workloads import roi
from workloads.models import Approach, Assessment, SwitchFlag, Workload, Worksheet
from workloads.services.flags import flag_link_decision

S = DecisionStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.PROPOSED,),
    S.PROPOSED: (S.ACCEPTED, S.REJECTED),
    S.ACCEPTED: (S.DEPRECATED, S.SUPERSEDED),
}
# Frozen once the decision leaves draft/proposed.
BODY_FIELDS = (
    "title", "date", "decision_makers", "consulted", "informed", "context_and_problem_statement",
    "decision_drivers", "considered_options", "chosen_option", "justification", "consequences",
    "confirmation", "more_information", "approach", "workload",
)  # fmt: skip
# Links that keep changing after acceptance.
LINK_FIELDS = ("revisit_triggers", "review_by", "supersedes", "evidence")
WRITABLE_FIELDS = BODY_FIELDS + LINK_FIELDS
NAME_LISTS = ("decision_makers", "consulted", "informed")
TEXTS = (
    "context_and_problem_statement", "justification", "consequences", "confirmation",
    "more_information",
)  # fmt: skip
APPROACH_PHRASES = {
    Approach.PROMPT: "prompt engineering",
    Approach.FINE_TUNE: "a fine-tuned model",
    Approach.HYBRID: "a hybrid of fine-tuning and prompting",
    Approach.RAG: "RAG + prompting",
}
FRAMEWORKS = {
    "sla_roi": "The SLA/ROI decision function",
    "checklists": "The use-X-when checklists",
    "flowchart": "The decision flowchart",
}
MAX_IMPORT_FILES = 500
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class DecisionConflict(ValidationError):
    """The request is valid but the record's state forbids it (frozen body, illegal transition,
    supersession cycle). The API answers 409."""


# --- evidence kinds -------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceSpec:
    """How one kind of evidence is labelled, linked, exported and found again on import."""

    model: type[models.Model]
    label: Callable[[models.Model], str]
    page: Callable[[models.Model], tuple[str, dict]]  # its team-scoped page: (url name, kwargs)
    ref: Callable[[models.Model], dict]  # a portable natural key for exports
    lookup: Callable[[Mapping], Q]  # the natural key back to a filter
    related: tuple[str, ...] = ()


EVIDENCE_KINDS: dict[str, EvidenceSpec] = {
    EvidenceKind.WORKSHEET: EvidenceSpec(
        model=Worksheet,
        label=lambda w: (
            f"{w.workload.name} worksheet v{w.version} "
            f"(recommends {w.get_recommendation_display().lower()})"
        ),
        page=lambda w: (
            "workloads:worksheet_detail",
            {"slug": w.workload.slug, "version": w.version},
        ),
        ref=lambda w: {"workload": w.workload.slug, "version": w.version},
        lookup=lambda ref: Q(workload__slug=ref.get("workload"), version=ref.get("version")),
        related=("workload",),
    ),
    EvidenceKind.ASSESSMENT: EvidenceSpec(
        model=Assessment,
        label=lambda e: (
            f"{e.workload.name} assessment of {e.created_at:%Y-%m-%d %H:%M} UTC"
            + (f" (recommends {e.recommendation})" if e.recommendation else "")
        ),
        page=lambda e: ("workloads:workload_detail", {"slug": e.workload.slug}),
        ref=lambda e: {"workload": e.workload.slug, "created_at": e.created_at.isoformat()},
        lookup=lambda ref: Q(workload__slug=ref.get("workload"), created_at=ref.get("created_at")),
        related=("workload",),
    ),
}
assert set(EVIDENCE_KINDS) == set(EVIDENCE_TARGETS), "every evidence kind needs a spec"


def evidence_kind_of(obj: models.Model) -> str:
    for kind, spec in EVIDENCE_KINDS.items():
        if isinstance(obj, spec.model):
            return kind
    raise ValueError(f"{obj.__class__.__name__} is not a kind of evidence")


def evidence_item(link: EvidenceLink) -> dict:
    """An evidence link as the API shows it: kind, id, natural key and label."""
    spec, target = EVIDENCE_KINDS[link.kind], link.target
    return {"kind": link.kind, "id": target.pk, **spec.ref(target), "label": spec.label(target)}


def evidence_url(link: EvidenceLink) -> str | None:
    """The evidence's own page, when that page exists in this build."""
    name, kwargs = EVIDENCE_KINDS[link.kind].page(link.target)
    try:
        return reverse(name, kwargs={"team_slug": link.decision.team.slug, **kwargs})
    except NoReverseMatch:
        return None


def evidence_prefetch() -> list[str]:
    return [
        f"evidence_links__{EVIDENCE_TARGETS[kind]}__{rel}"
        for kind, spec in EVIDENCE_KINDS.items()
        for rel in spec.related
    ] or ["evidence_links"]


def decisions_citing(obj: models.Model) -> models.QuerySet[EvidenceLink]:
    """Evidence links (with their decisions) that cite `obj`, newest decision first."""
    kind = evidence_kind_of(obj)
    return (
        EvidenceLink.objects.for_team(obj.team)
        .filter(kind=kind, **{EVIDENCE_TARGETS[kind]: obj})
        .select_related("decision")
        .order_by("-decision__number")
    )


# --- reading --------------------------------------------------------------------------------


def decisions_with_related(queryset: models.QuerySet) -> models.QuerySet:
    """Everything `decision_data` reads, in a fixed number of queries."""
    return queryset.select_related("workload", "team").prefetch_related(
        "supersedes", "superseded_by", *evidence_prefetch()
    )


def decision_data(decision: DecisionRecord) -> dict:
    """The record with SPEC §6.3 field names (the API body, the export, a revision)."""
    return {
        "number": decision.number,
        "code": decision.code,
        "title": decision.title,
        "status": decision.status,
        "date": decision.date.isoformat() if decision.date else None,
        "decision_makers": list(decision.decision_makers),
        "consulted": list(decision.consulted),
        "informed": list(decision.informed),
        "context_and_problem_statement": decision.context_and_problem_statement,
        "decision_drivers": list(decision.decision_drivers),
        "considered_options": decision.considered_options,
        "chosen_option": decision.chosen_option,
        "justification": decision.justification,
        "consequences": decision.consequences,
        "confirmation": decision.confirmation,
        "more_information": decision.more_information,
        "approach": decision.approach or None,
        "workload": decision.workload.slug if decision.workload else None,
        "evidence": [evidence_item(link) for link in decision.evidence_links.all()],
        "revisit_triggers": decision.revisit_triggers,
        "review_by": decision.review_by.isoformat() if decision.review_by else None,
        "supersedes": sorted(d.number for d in decision.supersedes.all()),
        "superseded_by": sorted(d.number for d in decision.superseded_by.all()),
        "needs_revisit": decision.needs_revisit,
        "revisit_reasons": list(decision.revisit_reasons),
        "created_at": decision.created_at.isoformat(),
        "updated_at": decision.updated_at.isoformat(),
    }


def decision_search(
    *, team: Team, status: str = "", approach: str = "", workload: str = "", q: str = ""
) -> models.QuerySet[DecisionRecord]:
    """The decision log: filters, and text search (PostgreSQL full-text when available)."""
    qs = DecisionRecord.objects.for_team(team)
    if status:
        qs = qs.filter(status=status)
    if approach:
        qs = qs.filter(approach=approach)
    if workload:
        qs = qs.filter(workload__slug=workload)
    q = q.strip()
    if q:
        qs = _text_search(qs, q)
    return qs


_SEARCHED = ("title", "context_and_problem_statement", "chosen_option", "justification",
             "consequences", "more_information")  # fmt: skip


def _text_search(qs: models.QuerySet, q: str) -> models.QuerySet:
    if connection.vendor == "postgresql":
        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            *_SEARCHED[1:], weight="B", config="english"
        )
        query = SearchQuery(q, search_type="websearch", config="english")
        return (
            qs.annotate(search=vector, rank=SearchRank(vector, query))
            .filter(Q(search=query) | Q(title__icontains=q))
            .order_by("-rank", "-number")
        )
    match = Q()
    for name in _SEARCHED:
        match |= Q(**{f"{name}__icontains": q})
    return qs.filter(match)


def workload_decisions(workload: Workload) -> models.QuerySet[DecisionRecord]:
    """A workload's decisions, oldest first: its timeline."""
    return (
        DecisionRecord.objects.for_team(workload.team)
        .filter(workload=workload)
        .prefetch_related("supersedes", "superseded_by")
        .order_by("date", "number")
    )


def workload_accepted_decision(workload: Workload) -> DecisionRecord | None:
    """The decision the workload currently runs on: its latest accepted one."""
    return (
        DecisionRecord.objects.for_team(workload.team)
        .filter(workload=workload, status=S.ACCEPTED)
        .order_by("-date", "-number")
        .first()
    )


# --- validation -----------------------------------------------------------------------------


def decision_clean(*, team: Team, data: Mapping, instance: DecisionRecord | None = None) -> dict:
    """Validate and normalise the writable fields present in `data` (SPEC §6.3 names).

    Returns model-ready values (`workload` a Workload or None, `supersedes` a list of records,
    `evidence` a list of evidence objects). Raises ValidationError naming every bad field, with
    paths such as `considered_options[1].arguments[0].kind`.
    """
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for key in data:
        if key not in WRITABLE_FIELDS:
            fail(key, _read_only_message(key))
    out: dict = {}
    if "title" in data:
        out["title"] = _line(data["title"], "title", fail, max_length=200, required=True)
    elif instance is None:
        fail("title", "A title is required.")
    if "date" in data:
        out["date"] = _date(data["date"], "date", fail) or timezone.localdate()
    for name in NAME_LISTS:
        if name in data:
            out[name] = _lines(data[name], name, fail, max_length=100)
    for name in TEXTS:
        if name in data:
            out[name] = _text(data[name], name, fail)
    if "decision_drivers" in data:
        out["decision_drivers"] = _lines(data["decision_drivers"], "decision_drivers", fail)
    if "considered_options" in data:
        out["considered_options"] = _options(data["considered_options"], fail)
    if "chosen_option" in data:
        out["chosen_option"] = _line(data["chosen_option"], "chosen_option", fail, max_length=200)
    options = out.get("considered_options", instance.considered_options if instance else [])
    chosen = out.get("chosen_option", instance.chosen_option if instance else "")
    titles = [option["title"] for option in options or []]
    if chosen and chosen not in titles and "considered_options" not in errors:
        listed = f" ({', '.join(titles)})." if titles else "; add it as an option first."
        fail("chosen_option", f"'{chosen}' is not one of the considered options{listed}")
    if "approach" in data:
        approach = data["approach"] or ""
        if approach not in ("", *Approach.values):
            fail("approach", f"Unknown approach '{approach}': use {', '.join(Approach.values)}.")
        out["approach"] = approach
    if "workload" in data:
        out["workload"] = _workload(team, data["workload"], fail)
    if "revisit_triggers" in data:
        try:
            out["revisit_triggers"] = triggers.validate_triggers(data["revisit_triggers"])
        except triggers.TriggerError as exc:
            for error in exc.errors:
                fail(f"revisit_triggers{error['field']}", error["message"].capitalize() + ".")
    if "review_by" in data:
        out["review_by"] = _date(data["review_by"], "review_by", fail)
    if "supersedes" in data:
        out["supersedes"] = _records(team, data["supersedes"], "supersedes", fail, instance)
    if "evidence" in data:
        out["evidence"] = _evidence(team, data["evidence"], fail)
    if errors:
        raise ValidationError(errors)
    return out


def _read_only_message(key: str) -> str:
    if key == "status":
        return "Status changes go through the transition endpoint."
    if key == "superseded_by":
        return "Set 'supersedes' on the newer decision, or transition this one to superseded."
    if key in ("number", "code", "needs_revisit", "revisit_reasons", "created_at", "updated_at"):
        return "This field is read-only."
    return "Unknown field."


def _line(value, name, fail, *, max_length: int = 500, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        fail(name, "Must be a string.")
        return ""
    text = " ".join(value.split())  # one line: list items and titles cannot span lines
    if required and not text:
        fail(name, "Must not be blank.")
    if len(text) > max_length:
        fail(name, f"At most {max_length} characters (this has {len(text)}).")
    return text


def _text(value, name, fail) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        fail(name, "Must be a string (markdown).")
        return ""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _lines(value, name, fail, *, max_length: int = 500) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        fail(name, "Must be a list of strings.")
        return []
    items = [
        _line(item, f"{name}[{i}]", fail, max_length=max_length) for i, item in enumerate(value)
    ]
    return [item for item in items if item]


def _date(value, name, fail) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        fail(name, f"'{value}' is not a date: use YYYY-MM-DD.")
        return None


def _options(value, fail) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        fail("considered_options", "Must be a list of {title, description, arguments}.")
        return []
    options, seen = [], set()
    for i, raw in enumerate(value):
        path = f"considered_options[{i}]"
        if not isinstance(raw, Mapping):
            fail(path, "Must be an object with title, description and arguments.")
            continue
        unknown = sorted(set(raw) - {"title", "description", "arguments"})
        if unknown:
            fail(path, f"Unknown key(s): {', '.join(map(str, unknown))}.")
        title = _line(raw.get("title"), f"{path}.title", fail, max_length=200, required=True)
        if title in seen:
            fail(f"{path}.title", f"Another option is already called '{title}'.")
        seen.add(title)
        arguments = []
        raw_arguments = raw.get("arguments") or []
        if not isinstance(raw_arguments, list | tuple):
            fail(f"{path}.arguments", "Must be a list of {kind, text}.")
            raw_arguments = []
        for j, argument in enumerate(raw_arguments):
            apath = f"{path}.arguments[{j}]"
            if not isinstance(argument, Mapping):
                fail(apath, "Must be an object with kind and text.")
                continue
            kind = argument.get("kind")
            if kind not in madr.ARGUMENT_KINDS:
                fail(f"{apath}.kind", f"Unknown kind '{kind}': use good, neutral or bad.")
            text = _line(argument.get("text"), f"{apath}.text", fail, required=True)
            arguments.append({"kind": kind, "text": text})
        description = _text(raw.get("description"), f"{path}.description", fail)
        options.append({"title": title, "description": description, "arguments": arguments})
    return options


def _workload(team, value, fail) -> Workload | None:
    if value in (None, ""):
        return None
    workload = Workload.objects.for_team(team).filter(slug=str(value)).first()
    if workload is None:
        fail("workload", f"No workload '{value}' in this team.")
    return workload


def _records(team, value, name, fail, instance=None) -> list[DecisionRecord]:
    numbers = value if isinstance(value, list | tuple) else [value] if value else []
    clean = []
    for number in numbers:
        if isinstance(number, bool) or not str(number).isdigit():
            fail(name, f"'{number}' is not a decision number.")
        else:
            clean.append(int(number))
    found = {d.number: d for d in DecisionRecord.objects.for_team(team).filter(number__in=clean)}
    for number in clean:
        if number not in found:
            fail(name, f"There is no {madr.code(number)} in this team.")
        elif instance is not None and number == instance.number:
            fail(name, f"{instance.code} cannot supersede itself.")
    return [found[n] for n in dict.fromkeys(clean) if n in found]


def _evidence(team, value, fail) -> list[models.Model]:
    if not isinstance(value, list | tuple):
        fail("evidence", "Must be a list of {kind, id} objects.")
        return []
    found = []
    for i, item in enumerate(value):
        path = f"evidence[{i}]"
        kind = item.get("kind") if isinstance(item, Mapping) else None
        spec = EVIDENCE_KINDS.get(kind)
        if spec is None:
            known = ", ".join(EVIDENCE_KINDS)
            fail(f"{path}.kind", f"Unknown evidence kind '{kind}': use {known}.")
            continue
        target = _find_evidence(team, kind, item)
        if target is None:
            fail(path, f"No such {kind} in this team.")
        else:
            found.append(target)
    return found


def _find_evidence(team, kind: str, ref: Mapping) -> models.Model | None:
    spec = EVIDENCE_KINDS[kind]
    qs = spec.model.objects.for_team(team)
    if ref.get("id") is not None:
        return qs.filter(pk=ref["id"]).first() if str(ref["id"]).isdigit() else None
    try:
        return qs.filter(spec.lookup(ref)).first()
    except (ValueError, TypeError):
        return None


# --- writing --------------------------------------------------------------------------------


def decision_create(
    *, team: Team, author, data: Mapping, evidence: Iterable[models.Model] = (), note: str = ""
) -> DecisionRecord:
    """Create a draft decision with the next free number of the team.

    `data` uses the API field names (only `title` is required); `evidence` adds links to
    objects (a Worksheet, …) on top of any `data["evidence"]`. Stores revision 1.
    """
    values = decision_clean(team=team, data=data)
    with transaction.atomic():
        decision = _insert(team=team, author=author, values=values, evidence=evidence)
        _record_revision(decision, author, note or "Created")
    return decision


def _insert(
    *,
    team: Team,
    author,
    values: dict,
    evidence: Iterable[models.Model] = (),
    number: int | None = None,
    status: str = S.DRAFT,
) -> DecisionRecord:
    """Insert a record under the team's numbering lock; call inside a transaction."""
    values = dict(values)
    supersedes = values.pop("supersedes", [])
    linked = [*values.pop("evidence", []), *evidence]
    now = timezone.now()
    for attempt in range(3):
        allocated = _next_number(team, number)
        try:
            with transaction.atomic():  # a savepoint: a lost race only undoes this insert
                decision = DecisionRecord.objects.create(
                    team=team, number=allocated, status=status, created_by=author,
                    created_at=now, updated_at=now, **values,
                )  # fmt: skip
            break
        except IntegrityError:
            # The lock makes this unreachable on PostgreSQL; the unique constraint is the
            # backstop wherever row locks are not available.
            taken = DecisionRecord.objects.filter(team=team, number=allocated).exists()
            if not taken or attempt == 2:
                raise
            number = None
    for target in supersedes:
        _link_supersedes(decision, target)
    for target in linked:
        _link_evidence(decision, target)
    return decision


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
    *, decision: DecisionRecord, author, data: Mapping, note: str = ""
) -> DecisionRecord:
    """Change fields of a decision (a partial update) and store a revision when anything changed.

    Once the decision is accepted (or rejected, deprecated, superseded) its body is frozen:
    changing a body field raises DecisionConflict naming the fields; the revisit triggers,
    review-by date, supersession links and evidence still change.
    """
    with transaction.atomic():
        decision = _locked(decision)
        values = decision_clean(team=decision.team, data=data, instance=decision)
        changed = [
            name for name, value in values.items() if _current(decision, name) != _key(name, value)
        ]
        frozen = [name for name in changed if name in BODY_FIELDS]
        if decision.is_frozen and frozen:
            message = (
                f"{decision.code} is {decision.status}: its body is frozen. Only the revisit "
                "triggers, review-by date, supersession links and evidence can change; to change "
                "the decision itself, write a new one that supersedes it."
            )
            raise DecisionConflict({name: [message] for name in frozen})
        if not changed:
            return decision
        for name in changed:
            value = values[name]
            if name == "supersedes":
                _set_supersedes(decision, value)
            elif name == "evidence":
                _set_evidence(decision, value)
            else:
                setattr(decision, name, value)
        decision.updated_at = timezone.now()
        decision.save()
        _record_revision(decision, author, note or f"Changed {', '.join(changed)}")
    return decision


def _current(decision: DecisionRecord, name: str) -> object:
    if name == "supersedes":
        return sorted(d.pk for d in decision.supersedes.all())
    if name == "evidence":
        return sorted((link.kind, link.target.pk) for link in decision.evidence_links.all())
    if name == "workload":
        return decision.workload_id
    return getattr(decision, name)


def _key(name: str, value: object) -> object:
    """A cleaned value in the shape `_current` returns, to tell what changed."""
    if name == "supersedes":
        return sorted(d.pk for d in value)
    if name == "evidence":
        return sorted((evidence_kind_of(obj), obj.pk) for obj in value)
    if name == "workload":
        return value.pk if value else None
    return value


def _locked(decision: DecisionRecord) -> DecisionRecord:
    return DecisionRecord.objects.select_for_update().get(pk=decision.pk)


def _set_supersedes(decision: DecisionRecord, targets: list[DecisionRecord]) -> None:
    wanted = {t.pk for t in targets}
    current = set(decision.supersedes.values_list("pk", flat=True))
    decision.supersedes.remove(*(current - wanted))
    for target in targets:
        if target.pk not in current:
            _link_supersedes(decision, target)


def _set_evidence(decision: DecisionRecord, targets: list[models.Model]) -> None:
    keep = {(evidence_kind_of(t), t.pk) for t in targets}
    for link in decision.evidence_links.all():
        if (link.kind, link.target.pk) not in keep:
            link.delete()
    for target in targets:
        _link_evidence(decision, target)


def _link_supersedes(newer: DecisionRecord, older: DecisionRecord) -> None:
    """`newer` supersedes `older`; refuses self-links and cycles."""
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


def _link_evidence(decision: DecisionRecord, target: models.Model) -> EvidenceLink:
    if target.team_id != decision.team_id:
        raise ValidationError({"evidence": ["Evidence must belong to the decision's team."]})
    kind = evidence_kind_of(target)
    link, _ = EvidenceLink.objects.get_or_create(
        team=decision.team, decision=decision, kind=kind, **{EVIDENCE_TARGETS[kind]: target}
    )
    return link


def decision_add_evidence(
    *, decision: DecisionRecord, author, target: models.Model, note: str = ""
) -> EvidenceLink:
    """Link one more piece of evidence (allowed in every status)."""
    with transaction.atomic():
        decision = _locked(decision)
        link = _link_evidence(decision, target)
        _record_revision(
            decision, author, note or f"Linked evidence: {evidence_item(link)['label']}"
        )
    return link


def decision_remove_evidence(*, decision: DecisionRecord, author, link: EvidenceLink) -> None:
    with transaction.atomic():
        decision = _locked(decision)
        label = evidence_item(link)["label"]
        EvidenceLink.objects.filter(pk=link.pk, decision=decision).delete()
        _record_revision(decision, author, f"Unlinked evidence: {label}")


def allowed_transitions(decision: DecisionRecord) -> tuple[str, ...]:
    return TRANSITIONS.get(decision.status, ())


def decision_transition(
    *,
    decision: DecisionRecord,
    author,
    status: str,
    superseded_by: Iterable[int] = (),
    note: str = "",
) -> DecisionRecord:
    """Move a decision along the status machine.

    Accepting sets the workload's `current_approach` and supersedes (marks superseded) the
    accepted decisions this one supersedes. Superseding needs the successor(s): `superseded_by`
    numbers (linked here), or links made earlier from the newer decision. Emits
    `decision.status_changed`.
    """
    with transaction.atomic():
        decision = _locked(decision)
        _check_transition(decision, status)
        successors = []
        if superseded_by:
            if status != S.SUPERSEDED:
                raise ValidationError(
                    {"superseded_by": ["Only a transition to superseded names successors."]}
                )
            errors: dict[str, list[str]] = {}
            successors = _records(
                decision.team, list(superseded_by), "superseded_by",
                lambda n, m: errors.setdefault(n, []).append(m), decision,
            )  # fmt: skip
            if errors:
                raise ValidationError(errors)
        if status == S.SUPERSEDED:
            for successor in successors:
                _link_supersedes(successor, decision)
            if not decision.superseded_by.exists():
                raise ValidationError(
                    {"superseded_by": [f"Name the decision(s) that supersede {decision.code}."]}
                )
        if status == S.ACCEPTED:
            _check_acceptable(decision)
        _set_status(decision, status, author, note)
        if status == S.ACCEPTED:
            if decision.workload_id:
                Workload.objects.filter(pk=decision.workload_id).update(
                    current_approach=decision.approach, updated_at=timezone.now()
                )
            for older in decision.supersedes.filter(status=S.ACCEPTED):
                _set_status(_locked(older), S.SUPERSEDED, author, f"Superseded by {decision.code}")
    return decision


def _check_transition(decision: DecisionRecord, status: str) -> None:
    if status not in S.values:
        raise ValidationError(
            {"status": [f"Unknown status '{status}': use one of {', '.join(S.values)}."]}
        )
    allowed = allowed_transitions(decision)
    if status not in allowed:
        options = " or ".join(allowed) if allowed else "no other status (it is final)"
        raise DecisionConflict(
            {
                "status": [
                    f"{decision.code} is {decision.status}: it can move to {options}, "
                    f"not to {status}."
                ]
            }
        )


def _check_acceptable(decision: DecisionRecord) -> None:
    errors = {}
    if not decision.chosen_option:
        errors["chosen_option"] = ["Choose one of the considered options before accepting."]
    if decision.workload_id and not decision.approach:
        errors["approach"] = [
            f"Set the approach before accepting: accepting sets {decision.workload.name}'s "
            "current approach."
        ]
    if errors:
        raise ValidationError(errors)


def _set_status(decision: DecisionRecord, status: str, author, note: str) -> None:
    previous = decision.status
    decision.status = status
    decision.updated_at = timezone.now()
    decision.save(update_fields=["status", "updated_at"])
    _record_revision(decision, author, note or f"Status {previous} → {status}")
    _emit(
        decision,
        WebhookEvent.DECISION_STATUS_CHANGED,
        {"from": previous, "to": status, "by": getattr(author, "username", None)},
    )


def _emit(decision: DecisionRecord, event: str, extra: dict) -> None:
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


def _record_revision(decision: DecisionRecord, author, note: str) -> DecisionRevision:
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


_NOT_SNAPSHOT = ("code", "needs_revisit", "revisit_reasons", "created_at", "updated_at")


def revision_snapshot(decision: DecisionRecord) -> dict:
    data = decision_data(decision)
    for key in _NOT_SNAPSHOT:
        data.pop(key)
    for item in data["evidence"]:
        item.pop("id")  # the natural key and label say what it was, even once it is gone
    return data


# --- revisit --------------------------------------------------------------------------------


def decision_mark_needs_revisit(*, decision: DecisionRecord, reasons: Iterable[str]) -> bool:
    """Flag a decision for revisiting (a flag, not a status). Idempotent: reasons already
    recorded are not repeated, and `decision.needs_revisit` is emitted only when the flag turns
    on. Returns whether anything changed."""
    reasons = [r for r in dict.fromkeys(reasons) if r]
    if not reasons:
        return False
    with transaction.atomic():
        locked = _locked(decision)
        new = [r for r in reasons if r not in locked.revisit_reasons]
        if locked.needs_revisit and not new:
            return False
        turned_on = not locked.needs_revisit
        locked.needs_revisit = True
        locked.revisit_reasons = [*locked.revisit_reasons, *new]
        if turned_on:
            locked.revisit_flagged_at = timezone.now()
        locked.save(update_fields=["needs_revisit", "revisit_reasons", "revisit_flagged_at"])
        if turned_on:
            _emit(locked, WebhookEvent.DECISION_NEEDS_REVISIT, {"reasons": locked.revisit_reasons})
    decision.needs_revisit, decision.revisit_reasons = True, locked.revisit_reasons
    decision.revisit_flagged_at = locked.revisit_flagged_at
    return True


def decision_clear_revisit(
    *, decision: DecisionRecord, author, review_by: dt.date | None = None, note: str = ""
) -> DecisionRecord:
    """Someone revisited the decision and keeps it: clear the flag (optionally with a new
    review-by date) and record that in the history."""
    with transaction.atomic():
        locked = _locked(decision)
        reasons = "; ".join(locked.revisit_reasons)
        locked.needs_revisit, locked.revisit_reasons, locked.revisit_flagged_at = False, [], None
        if review_by is not None:
            locked.review_by = review_by
        locked.updated_at = timezone.now()
        locked.save()
        _record_revision(locked, author, note or f"Revisited and kept ({reasons})")
    return locked


def decision_revisit_check(
    *, workload: Workload, metrics: Mapping[str, object], today: dt.date | None = None
) -> list[DecisionRecord]:
    """Check the workload's accepted decisions against fresh figures (`metrics` with
    decisions.triggers metric names) and their review-by dates; flag those that need a revisit.
    Returns the decisions newly flagged or given new reasons."""
    today = today or timezone.localdate()
    flagged = []
    accepted = DecisionRecord.objects.for_team(workload.team).filter(
        workload=workload, status=S.ACCEPTED
    )
    for decision in accepted:
        reasons = triggers.evaluate_triggers(decision.revisit_triggers, metrics)
        if decision.review_by and decision.review_by <= today:
            reasons.append(_review_reason(decision))
        if decision_mark_needs_revisit(decision=decision, reasons=reasons):
            flagged.append(decision)
    return flagged


def decisions_flag_overdue_reviews(*, today: dt.date | None = None) -> int:
    """Flag every accepted decision whose review-by date has come (a daily sweep)."""
    today = today or timezone.localdate()
    due = DecisionRecord.objects.filter(status=S.ACCEPTED, review_by__lte=today)
    return sum(decision_mark_needs_revisit(decision=d, reasons=[_review_reason(d)]) for d in due)


def _review_reason(decision: DecisionRecord) -> str:
    return f"review-by date {decision.review_by.isoformat()} has come"


# --- from a worksheet -----------------------------------------------------------------------


def decision_create_from_worksheet(*, worksheet: Worksheet, author) -> DecisionRecord:
    """A draft ADR prefilled from a saved worksheet: the situation in figures, the drivers,
    the four approaches argued with the frameworks' verdicts, the recommendation as the
    proposed outcome, the worksheet as evidence, and revisit triggers at the thresholds
    nearest to firing."""
    workload, inputs, outputs = worksheet.workload, worksheet.inputs, worksheet.outputs
    recommendation = worksheet.recommendation
    data = {
        "title": f"Run {workload.name} on {APPROACH_PHRASES[recommendation]}",
        "workload": workload.slug,
        "approach": recommendation,
        "context_and_problem_statement": _worksheet_context(workload, inputs, outputs),
        "decision_drivers": _worksheet_drivers(inputs),
        "considered_options": _worksheet_options(outputs),
        "chosen_option": Approach(recommendation).label,
        "justification": worksheet.justification
        or "; ".join(outputs.get("recommendation_reasons") or []),
        "consequences": "\n".join(f"* Bad, because {w}" for w in outputs.get("warnings") or []),
        "revisit_triggers": worksheet_triggers(inputs),
    }
    return decision_create(
        team=worksheet.team,
        author=author,
        data=data,
        evidence=[worksheet],
        note=f"Created from {workload.name} worksheet v{worksheet.version}",
    )


def decision_create_from_flag(*, flag: SwitchFlag, user) -> DecisionRecord:
    """Open a draft decision record prefilled from the flag, with its assessment as evidence,
    and acknowledge the flag."""
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
            f"{workload.name} runs on {current.lower()}. The live assessment of "
            f"{flag.created_at:%Y-%m-%d %H:%M} UTC recommends {target.lower()}.\n\n"
            f"Why:\n{reasons}\n\nFigures at that assessment:\n{figures}"
        ),
        "decision_drivers": flag.reasons[1:],
        "considered_options": [
            {"title": f"Keep {current.lower()}", "description": "", "arguments": []},
            {"title": f"Switch to {target.lower()}", "description": "", "arguments": []},
        ],
    }
    evidence = [flag.assessment] if flag.assessment_id else []
    with transaction.atomic():
        decision = decision_create(
            team=flag.team,
            author=user,
            data=data,
            evidence=evidence,
            note=f"Started from switch flag #{flag.pk}.",
        )
        flag.decision = decision
        flag_link_decision(flag=flag, decision=decision, user=user)
    return decision


def worksheet_triggers(inputs: Mapping, limit: int = 3) -> list[dict]:
    """Revisit triggers at the thresholds nearest to changing a verdict."""
    try:
        margins = roi.threshold_margins(roi.evaluate(roi.parse_inputs(inputs)))
    except roi.RoiInputError:
        return []
    found = []
    for margin in margins:
        metric = triggers.METRICS.get(margin["metric"])
        if margin["distance"] is None or metric is None:
            continue
        # A crossover volume of 376,744.186… requests reads (and compares) as 376,744.
        places = 0 if metric.unit == "count" else 6
        threshold = round(margin["threshold"], places)
        found.append(
            {
                "metric": metric.name,
                "comparator": margin["comparator"],
                "threshold": int(threshold) if threshold == int(threshold) else threshold,
            }
        )
    return found[:limit]


def _figure(metric: str, value: object) -> str:
    return triggers.format_value(metric, value) if value is not None else "not measured"


def _worksheet_context(workload: Workload, inputs: Mapping, outputs: Mapping) -> str:
    prompt, fine_tune = outputs.get("prompt") or {}, outputs.get("fine_tune") or {}
    payback = outputs.get("payback_months")
    lines = [
        f"{workload.name} serves {_figure('monthly_requests', inputs.get('monthly_requests'))} "
        f"requests a month: {inputs.get('user_tokens')} user tokens, "
        f"{inputs.get('prompt_overhead_tokens')} prompt-overhead tokens and "
        f"{inputs.get('output_tokens')} output tokens per request "
        f"({_figure('monthly_tokens', outputs.get('monthly_tokens'))} tokens a month).",
        f"Prompted, a request costs {_figure('cost_per_request', prompt.get('cost_per_request'))}"
        f" ({_figure('monthly_cost', prompt.get('monthly_cost'))} a month); on a fine-tuned "
        f"model {_figure('cost_per_request', fine_tune.get('cost_per_request'))} "
        f"({_figure('monthly_cost', fine_tune.get('monthly_cost'))} a month) after a one-time "
        f"investment of {_figure('monthly_cost', outputs.get('investment'))}.",
        f"Fine-tuning would save {_figure('monthly_savings', outputs.get('monthly_savings'))} a "
        "month"
        + (
            f" and pay back in {_figure('payback_months', payback)}."
            if payback is not None
            else ", so it never pays back at these figures."
        ),
        f"Measured p99 latency: {_figure('latency_p99_ms', inputs.get('latency_p99_ms'))} "
        f"(SLA {_figure('latency_p99_ms', inputs.get('latency_sla_ms'))}); format error rate: "
        f"{_figure('format_error_rate', inputs.get('format_error_rate'))} (threshold "
        f"{_figure('format_error_rate', inputs.get('format_error_threshold'))}).",
    ]
    return "\n\n".join(lines)


def _worksheet_drivers(inputs: Mapping) -> list[str]:
    drivers = [
        f"p99 latency within the {_figure('latency_p99_ms', inputs.get('latency_sla_ms'))} SLA",
        "format errors at most "
        f"{_figure('format_error_rate', inputs.get('format_error_threshold'))}",
        f"fine-tuning must pay back within "
        f"{_figure('payback_months', inputs.get('horizon_months'))}",
    ]
    checks = {
        "consistency_critical": "consistent output is critical",
        "public_facing": "the feature is public-facing",
        "latency_sensitive": "latency-sensitive",
        "time_to_market_critical": "time to market is critical",
        "dynamic_knowledge": "answers depend on knowledge that changes (fine-tuning does not "
        "inject knowledge)",
        "multi_persona": "several personas",
    }
    drivers += [text for key, text in checks.items() if inputs.get(key) is True]
    return drivers


def _worksheet_options(outputs: Mapping) -> list[dict]:
    verdicts = outputs.get("verdicts") or {}
    costs = {
        Approach.PROMPT: outputs.get("prompt") or {},
        Approach.FINE_TUNE: outputs.get("fine_tune") or {},
    }
    options = []
    for approach in Approach:
        arguments = []
        for name, verdict in verdicts.items():
            framework = FRAMEWORKS.get(name, name)
            picked = verdict.get("verdict")
            if picked == approach:
                why = "; ".join(verdict.get("reasons") or [])
                arguments.append({"kind": "good", "text": f"{framework} picks it: {why}"})
            else:
                label = Approach(picked).label.lower() if picked in Approach.values else picked
                arguments.append({"kind": "bad", "text": f"{framework} picks {label} instead"})
        cost = costs.get(approach)
        if cost:
            arguments.append(
                {
                    "kind": "neutral",
                    "text": f"it costs {_figure('cost_per_request', cost.get('cost_per_request'))}"
                    f" per request, {_figure('monthly_cost', cost.get('monthly_cost'))} a month",
                }
            )
        options.append({"title": approach.label, "description": "", "arguments": arguments})
    return options


# --- revisions and diffs --------------------------------------------------------------------

DIFF_LABELS = {
    "title": "Title", "status": "Status", "date": "Date", "decision_makers": "Decision-makers",
    "consulted": "Consulted", "informed": "Informed",
    "context_and_problem_statement": "Context and problem statement",
    "decision_drivers": "Decision drivers", "considered_options": "Considered options",
    "chosen_option": "Chosen option", "justification": "Justification",
    "consequences": "Consequences", "confirmation": "Confirmation",
    "more_information": "More information", "approach": "Approach", "workload": "Workload",
    "evidence": "Evidence", "revisit_triggers": "Revisit triggers", "review_by": "Review by",
    "supersedes": "Supersedes", "superseded_by": "Superseded by",
}  # fmt: skip


def revisions_diff(old: Mapping, new: Mapping) -> list[dict]:
    """Per changed field: `{"field", "label", "lines": [{"op": add|del|same, "text"}]}`.

    A line diff (difflib) of each field rendered as text; the template escapes every line."""
    changes = []
    for name, label in DIFF_LABELS.items():
        before, after = _diff_lines(name, old.get(name)), _diff_lines(name, new.get(name))
        if before == after:
            continue
        lines = []
        for line in difflib.ndiff(before, after):
            op = {"+": "add", "-": "del", " ": "same"}.get(line[0])
            if op:
                lines.append({"op": op, "text": line[2:]})
        changes.append({"field": name, "label": label, "lines": lines})
    return changes


def _diff_lines(name: str, value: object) -> list[str]:
    if value in (None, "", []):
        return []
    if name == "considered_options":
        lines = []
        for option in value:
            lines.append(f"### {option.get('title')}")
            if option.get("description"):
                lines += option["description"].split("\n")
            for argument in option.get("arguments") or []:
                kind = str(argument.get("kind", "")).capitalize()
                lines.append(f"* {kind}, because {argument.get('text')}")
        return lines
    if name == "revisit_triggers":
        return [triggers.describe_trigger(t) for t in value]
    if name == "evidence":
        return [item.get("label") or str(item) for item in value]
    if name in ("supersedes", "superseded_by"):
        return [madr.code(n) for n in value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return str(value).split("\n")


# --- export ---------------------------------------------------------------------------------


def export_data(decision: DecisionRecord) -> dict:
    """The record for a MADR file: evidence by natural key, so it resolves in another team."""
    data = decision_data(decision)
    data["evidence"] = [
        {"kind": item["kind"], **EVIDENCE_KINDS[item["kind"]].ref(link.target)}
        for item, link in zip(data["evidence"], decision.evidence_links.all(), strict=True)
    ]
    return data


def decision_export_markdown(decision: DecisionRecord) -> tuple[str, str]:
    """(file name, MADR 4 markdown) of one decision."""
    data = export_data(decision)
    return madr.filename(data), madr.export_record(data)


def decisions_export_zip(*, team: Team) -> bytes:
    """Every decision of the team as MADR 4 files plus an index.md, zipped."""
    records = [
        export_data(d)
        for d in decisions_with_related(DecisionRecord.objects.for_team(team)).order_by("number")
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(madr.filename(record), madr.export_record(record))
        archive.writestr("index.md", madr.export_index(records))
    return buffer.getvalue()


# --- import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What happened to one file of an import."""

    filename: str
    status: str  # imported | error | skipped
    number: int | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return madr.code(self.number) if self.number else ""


def decisions_import_zip(*, team: Team, author, data: bytes) -> list[ImportResult]:
    """Import the markdown files of a zip (e.g. an exported folder or an adr-tools `doc/adr`)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationError({"file": ["This is not a zip archive."]}) from None
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and "__MACOSX/" not in info.filename
        and not info.filename.rsplit("/", 1)[-1].startswith(".")
    ]  # fmt: skip
    if len(members) > MAX_IMPORT_FILES:
        raise ValidationError({"file": [f"At most {MAX_IMPORT_FILES} files per archive."]})
    if sum(info.file_size for info in members) > MAX_IMPORT_BYTES:
        raise ValidationError({"file": ["The archive unpacks to more than 20 MB."]})
    files = [(info.filename, archive.read(info)) for info in members]
    return decisions_import(team=team, author=author, files=files)


@dataclass
class _Parsed:
    result: ImportResult
    record: dict
    original: int | None
    decision: DecisionRecord | None = None
    done: bool = False
    # Links declared by earlier files towards this one: (their record, "supersedes" | …).
    waiting: list[tuple[DecisionRecord, str]] = field(default_factory=list)


def decisions_import(*, team: Team, author, files: list[tuple[str, bytes]]) -> list[ImportResult]:
    """Import MADR 2/3/4 or Nygard markdown files, each all-or-nothing in its own savepoint.

    Numbers are kept when free (else the next free one, and the result says so); statuses are
    taken as written (an import records history, it does not re-decide, so it does not change
    any workload's approach); supersession links between files follow the renumbering.
    """
    results: list[ImportResult] = []
    parsed: list[_Parsed] = []
    for name, content in files:
        result = ImportResult(filename=name, status="error")
        results.append(result)
        if not madr.is_record_filename(name):
            result.status, result.message = "skipped", "not a decision record (index or non-.md)"
            continue
        try:
            record = madr.parse_record(content.decode("utf-8"), name)
        except UnicodeDecodeError:
            result.message = "not UTF-8 text"
            continue
        except madr.MadrError as exc:
            result.message = str(exc)
            continue
        parsed.append(_Parsed(result, record, record.get("number")))
    parsed.sort(key=lambda p: (p.original is None, p.original or 0, p.result.filename))
    by_original = {}
    for item in parsed:
        if item.original is not None:
            by_original.setdefault(item.original, item)
    for item in parsed:
        try:
            with transaction.atomic():
                item.decision = _import_one(team, author, item, by_original)
        except ValidationError as exc:
            item.result.status = "error"
            item.result.message = describe_error(exc)
            item.result.notes = []
            continue
        finally:
            item.done = True
        item.result.status, item.result.number = "imported", item.decision.number
        item.result.message = f"imported as {item.decision.code}"
    return results


def _import_one(team: Team, author, item: _Parsed, by_original: dict) -> DecisionRecord:
    record, notes = dict(item.record), item.result.notes
    workload = record.get("workload")
    if workload and not Workload.objects.for_team(team).filter(slug=workload).exists():
        notes.append(f"workload '{workload}' does not exist here: imported without it")
        record["workload"] = ""
    evidence = []
    for ref in record.get("evidence") or []:
        kind = ref.get("kind") if isinstance(ref, Mapping) else None
        target = _find_evidence(team, kind, ref) if kind in EVIDENCE_KINDS else None
        if target is None:
            notes.append(f"evidence {ref} not found here: link skipped")
        else:
            evidence.append(target)
    status = record["status"]
    data = {
        key: record.get(key) for key in WRITABLE_FIELDS if key not in ("supersedes", "evidence")
    }
    values = decision_clean(team=team, data=data)
    decision = _insert(
        team=team, author=author, values=values, evidence=evidence, number=item.original,
        status=status,
    )  # fmt: skip
    if item.original and decision.number != item.original:
        notes.append(f"{madr.code(item.original)} was taken: imported as {decision.code}")
    elif not item.original:
        notes.append(f"the file has no number: imported as {decision.code}")
    # (newer, older) pairs: this file's own references, then earlier files' references to it.
    pairs = []
    for relation in ("supersedes", "superseded_by"):
        for number in record.get(relation) or []:
            source = by_original.get(number)
            if source is not None and source is not item and not source.done:
                source.waiting.append((decision, relation))  # linked when that file imports
                continue
            other = (
                source.decision
                if source is not None
                else (DecisionRecord.objects.for_team(team).filter(number=number).first())
            )
            if other is None or other == decision:
                notes.append(
                    f"{relation.replace('_', ' ')} {madr.code(number)}: not found "
                    "here, link skipped"
                )
                continue
            pairs.append((decision, other) if relation == "supersedes" else (other, decision))
    for earlier, relation in item.waiting:
        pairs.append((earlier, decision) if relation == "supersedes" else (decision, earlier))
    for newer, older in pairs:
        if not newer.supersedes.filter(pk=older.pk).exists():
            _link_supersedes(newer, older)
    _record_revision(decision, author, f"Imported from {item.result.filename}")
    return decision


def describe_error(exc: ValidationError) -> str:
    """One line naming each field and its problem, for a message or an import report."""
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
