"""Decision records (ADRs), their revisions, evidence links and revisit reasons.

Rules about one record live here: the status machine (`allowed_transitions`,
`check_transition`), the frozen body (`is_frozen`, `check_body_change`), what accepting needs
(`check_acceptable`) and when a review is due (`review_overdue`). Services apply them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from decisions.search import SEARCHED, SearchDocument
from evaluations.models import BenchmarkRun, FineTuneJob
from teams.models import TeamOwned, TeamQuerySet
from workloads import roi
from workloads.models import Approach, Assessment, Workload, Worksheet


class DecisionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    DEPRECATED = "deprecated", "Deprecated"
    SUPERSEDED = "superseded", "Superseded"


S = DecisionStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.PROPOSED,),
    S.PROPOSED: (S.ACCEPTED, S.REJECTED),
    S.ACCEPTED: (S.DEPRECATED, S.SUPERSEDED),
}
# Frozen once the decision leaves draft/proposed; the links (revisit triggers, review-by date,
# supersession, evidence) keep changing.
BODY_FIELDS = (
    "title", "date", "decision_makers", "consulted", "informed", "context_and_problem_statement",
    "decision_drivers", "considered_options", "chosen_option", "justification", "consequences",
    "confirmation", "more_information", "approach", "workload",
)  # fmt: skip


class DecisionConflict(ValidationError):
    """The request is valid but the record's state forbids it (frozen body, illegal transition,
    supersession cycle). The API answers 409."""


class DecisionQuerySet(TeamQuerySet):
    def review_overdue(self, today: dt.date) -> DecisionQuerySet:
        """Accepted decisions whose review-by date has come (the rule of
        `DecisionRecord.review_overdue_on`, in SQL)."""
        return self.filter(status=S.ACCEPTED, review_by__lte=today)


class DecisionRecord(TeamOwned):
    """An ADR with the fields of MADR 4, tied to a workload and to live evidence."""

    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.DRAFT
    )
    # Unknown for a record imported without one (shown and exported as unknown).
    date = models.DateField(null=True, blank=True, default=timezone.localdate)
    decision_makers = models.JSONField(default=list, blank=True)
    consulted = models.JSONField(default=list, blank=True)
    informed = models.JSONField(default=list, blank=True)
    context_and_problem_statement = models.TextField(blank=True)
    decision_drivers = models.JSONField(default=list, blank=True)
    considered_options = models.JSONField(default=list, blank=True)
    chosen_option = models.CharField(max_length=200, blank=True)
    justification = models.TextField(blank=True)
    consequences = models.TextField(blank=True)
    confirmation = models.TextField(blank=True)
    more_information = models.TextField(blank=True)
    approach = models.CharField(max_length=10, choices=Approach.choices, blank=True)
    workload = models.ForeignKey(
        Workload, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    # [{"metric": "monthly_requests", "comparator": ">", "threshold": 100000}, …]
    revisit_triggers = models.JSONField(default=list, blank=True)
    review_by = models.DateField(null=True, blank=True)
    # A flag, not a status: set when a trigger fires or review_by passes (the reasons are
    # RevisitReason rows).
    needs_revisit = models.BooleanField(default=False)
    revisit_flagged_at = models.DateTimeField(null=True, blank=True)
    supersedes = models.ManyToManyField(
        "self", symmetrical=False, related_name="superseded_by", blank=True
    )
    # The status as an imported file wrote it when Crossover has no such status ("on hold"):
    # shown beside the status and exported back, until the status changes here.
    status_text = models.CharField(max_length=100, blank=True)
    # The file an imported record came from (its base name) and the SHA-256 of its text: an
    # export reuses the name, links between files resolve by it, a re-import compares both.
    source_name = models.CharField(max_length=255, blank=True)
    source_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # What the decision log's search matches (decisions.search): kept by the database.
    search = models.GeneratedField(
        expression=SearchDocument(*SEARCHED), output_field=SearchVectorField(), db_persist=True
    )

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["team", "number"], name="decision_unique_number"),
            models.CheckConstraint(
                condition=models.Q(status__in=DecisionStatus.values),
                name="decision_status_valid",
            ),
            models.UniqueConstraint(
                fields=["team", "source_name"],
                condition=~models.Q(source_name=""),
                name="decision_unique_source_name",
            ),
        ]
        # On PostgreSQL, migration 0004 adds GIN indexes on `search` and on UPPER(title) with
        # trigrams (title substring search is UPPER(title) LIKE …).
        indexes = [models.Index(fields=["team", "status"]), models.Index(fields=["workload"])]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"

    @property
    def code(self) -> str:
        return f"ADR-{self.number:04d}"

    def get_absolute_url(self) -> str:
        return reverse(
            "decisions:decision_detail", kwargs={"team_slug": self.team.slug, "number": self.number}
        )

    @property
    def is_frozen(self) -> bool:
        """The body can change only while the decision is a draft or proposed."""
        return self.status not in (DecisionStatus.DRAFT, DecisionStatus.PROPOSED)

    @property
    def allowed_transitions(self) -> tuple[str, ...]:
        return TRANSITIONS.get(self.status, ())

    def review_overdue_on(self, today: dt.date) -> bool:
        """Whether the review-by date has come by `today` (the day itself counts)."""
        return self.review_by is not None and self.review_by <= today

    @property
    def review_overdue(self) -> bool:
        return self.review_overdue_on(timezone.localdate())

    def related_links(self) -> list[tuple[str, DecisionRecord]]:
        """Typed links to other records, as read from this one: its own (`Amends`, target) and
        those pointing at it (`Amended by`, source), by number."""
        links = [(link.kind, link.target) for link in self.links_out.all()]
        links += [(link.reverse_label, link.source) for link in self.links_in.all()]
        return sorted(links, key=lambda pair: (pair[1].number, pair[0]))

    def check_transition(self, status: str) -> None:
        """Raise DecisionConflict unless the status machine allows moving to `status`."""
        allowed = self.allowed_transitions
        if status not in allowed:
            options = " or ".join(allowed) if allowed else "no other status (it is final)"
            message = f"{self.code} is {self.status}: it can move to {options}, not to {status}."
            raise DecisionConflict({"status": [message]})

    def check_body_change(self, names: Iterable[str]) -> None:
        """Raise DecisionConflict naming the body fields in `names` when the body is frozen."""
        frozen = [name for name in names if name in BODY_FIELDS]
        if self.is_frozen and frozen:
            message = (
                f"{self.code} is {self.status}: its body is frozen. Only the revisit "
                "triggers, review-by date, supersession links and evidence can change; to change "
                "the decision itself, write a new one that supersedes it."
            )
            raise DecisionConflict({name: [message] for name in frozen})

    def check_acceptable(self) -> None:
        """Raise ValidationError naming what must be filled in before accepting."""
        errors = {}
        if not self.chosen_option:
            errors["chosen_option"] = ["Choose one of the considered options before accepting."]
        if self.workload_id and not self.approach:
            errors["approach"] = [
                f"Set the approach before accepting: accepting sets {self.workload.name}'s "
                "current approach."
            ]
        if errors:
            raise ValidationError(errors)


class DecisionLink(TeamOwned):
    """A typed relation between two records other than supersession, as ADR folders write
    them: `ADR-0005 amends ADR-0002`. `kind` reads from the source, `reverse` from the target
    ("Amended by"; blank when the files never said)."""

    source = models.ForeignKey(DecisionRecord, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(DecisionRecord, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=60)
    reverse = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="decision_link_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="decision_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.code} {self.kind} {self.target.code}"

    @property
    def reverse_label(self) -> str:
        """How the link reads from its target."""
        return self.reverse or f"{self.kind} (from)"


class DecisionRevision(TeamOwned):
    """One immutable save of a decision record: who, when, why, and the full record as it was."""

    decision = models.ForeignKey(DecisionRecord, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()  # the API representation of the record (SPEC §6.3 names)
    note = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decision", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "number"], name="decision_revision_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision.code} revision {self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Decision revisions are immutable: record a new revision instead.")
        super().save(*args, **kwargs)


class RevisitReason(TeamOwned):
    """Why a decision needs a revisit: one row per fired trigger (or the review-by date), keyed
    by what fired, with the sentence of its latest figure. A trigger that keeps firing updates
    its row; the row goes when someone revisits the decision."""

    decision = models.ForeignKey(
        DecisionRecord, on_delete=models.CASCADE, related_name="revisit_reasons"
    )
    key = models.CharField(max_length=200)  # "monthly_requests > 100000", "review_by"
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "key"], name="revisit_reason_unique_key"),
        ]

    def __str__(self) -> str:
        return self.text


class EvidenceKind(models.TextChoices):
    WORKSHEET = "worksheet", "Worksheet"
    ASSESSMENT = "assessment", "Workload assessment"
    BENCHMARK = "benchmark", "Benchmark run"
    FINETUNE = "finetune", "Fine-tuning job"


@dataclass(frozen=True)
class EvidenceSpec:
    """How one kind of evidence is stored, labelled, linked, exported and found again."""

    model: type[models.Model]
    field: str  # the foreign key of EvidenceLink that this kind uses
    label: Callable[[models.Model], str]
    page: Callable[[models.Model], tuple[str, dict]]  # its team-scoped page: (url name, kwargs)
    ref: Callable[[models.Model], dict]  # a portable natural key for exports
    lookup: Callable[[Mapping], models.Q]  # the natural key back to a filter
    related: tuple[str, ...] = ()


# Adding a kind (a prompt version, a benchmark run) is: a choice above, a nullable foreign key
# on EvidenceLink, and an entry here.
EVIDENCE_KINDS: dict[str, EvidenceSpec] = {
    EvidenceKind.WORKSHEET: EvidenceSpec(
        model=Worksheet,
        field="worksheet",
        label=lambda w: (
            f"{w.workload.name} worksheet v{w.version} "
            f"(recommends {w.get_recommendation_display().lower()})"
        ),
        page=lambda w: (
            "workloads:worksheet_detail",
            {"slug": w.workload.slug, "version": w.version},
        ),
        ref=lambda w: {"workload": w.workload.slug, "version": w.version},
        lookup=lambda ref: models.Q(workload__slug=ref.get("workload"), version=ref.get("version")),
        related=("workload",),
    ),
    EvidenceKind.ASSESSMENT: EvidenceSpec(
        model=Assessment,
        field="assessment",
        label=lambda e: (
            f"{e.workload.name} assessment of {e.created_at:%Y-%m-%d %H:%M} UTC"
            + (
                f" (recommends {roi.APPROACHES[e.recommendation].phrase})"
                if e.recommendation
                else ""
            )
        ),
        page=lambda e: ("workloads:workload_detail", {"slug": e.workload.slug}),
        ref=lambda e: {"workload": e.workload.slug, "created_at": e.created_at.isoformat()},
        lookup=lambda ref: models.Q(
            workload__slug=ref.get("workload"), created_at=ref.get("created_at")
        ),
        related=("workload",),
    ),
    EvidenceKind.BENCHMARK: EvidenceSpec(
        model=BenchmarkRun,
        field="benchmark_run",
        label=lambda run: (
            f"Benchmark #{run.pk} {run.name} on {run.dataset.name} "
            f"({run.get_status_display().lower()})"
        ),
        page=lambda run: ("evaluations:benchmark_detail", {"pk": run.pk}),
        ref=lambda run: {"name": run.name, "created_at": run.created_at.isoformat()},
        lookup=lambda ref: models.Q(name=ref.get("name"), created_at=ref.get("created_at")),
        related=("dataset",),
    ),
    EvidenceKind.FINETUNE: EvidenceSpec(
        model=FineTuneJob,
        field="finetune",
        label=lambda j: (
            f"Fine-tune #{j.pk} of {j.base_model} on {j.dataset_name} ({j.status}"
            + (f": {j.fine_tuned_model}" if j.fine_tuned_model else "")
            + ")"
        ),
        page=lambda j: ("evaluations:finetune_detail", {"pk": j.pk}),
        # Its model names it in any team; a job that produced none, its creation time.
        ref=lambda j: (
            {"fine_tuned_model": j.fine_tuned_model}
            if j.fine_tuned_model
            else {"created_at": j.created_at.isoformat()}
        ),
        lookup=lambda ref: (
            models.Q(fine_tuned_model=ref["fine_tuned_model"])
            if ref.get("fine_tuned_model")
            else models.Q(created_at=ref.get("created_at"))
        ),
    ),
}
assert set(EVIDENCE_KINDS) == set(EvidenceKind.values), "every evidence kind needs a spec"


def evidence_kind_of(obj: models.Model) -> str:
    for kind, spec in EVIDENCE_KINDS.items():
        if isinstance(obj, spec.model):
            return kind
    raise ValueError(f"{obj.__class__.__name__} is not a kind of evidence")


def _exactly_the_kinds_target() -> models.Q:
    condition = models.Q()
    fields = [spec.field for spec in EVIDENCE_KINDS.values()]
    for kind, spec in EVIDENCE_KINDS.items():
        empty = {f"{other}__isnull": True for other in fields if other != spec.field}
        condition |= models.Q(kind=kind, **{f"{spec.field}__isnull": False}, **empty)
    return condition


class EvidenceLink(TeamOwned):
    """A typed link from a decision to the evidence it rests on."""

    decision = models.ForeignKey(
        DecisionRecord, on_delete=models.CASCADE, related_name="evidence_links"
    )
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices)
    worksheet = models.ForeignKey(
        Worksheet, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence_links"
    )
    assessment = models.ForeignKey(
        Assessment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence_links",
    )
    benchmark_run = models.ForeignKey(
        BenchmarkRun,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence_links",
    )
    finetune = models.ForeignKey(
        FineTuneJob,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence_links",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decision", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=_exactly_the_kinds_target(), name="evidence_link_one_target"
            ),
            models.UniqueConstraint(
                fields=["decision", "worksheet"], name="evidence_link_unique_worksheet"
            ),
            models.UniqueConstraint(
                fields=["decision", "assessment"], name="evidence_link_unique_assessment"
            ),
            models.UniqueConstraint(
                fields=["decision", "benchmark_run"], name="evidence_link_unique_benchmark_run"
            ),
            models.UniqueConstraint(
                fields=["decision", "finetune"], name="evidence_link_unique_finetune"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision.code} ← {self.kind} {self.target}"

    @property
    def target(self) -> models.Model:
        return getattr(self, EVIDENCE_KINDS[self.kind].field)

    @property
    def label(self) -> str:
        return EVIDENCE_KINDS[self.kind].label(self.target)

    @property
    def ref(self) -> dict:
        """The target's natural key, which resolves in another team (exports, snapshots)."""
        return EVIDENCE_KINDS[self.kind].ref(self.target)

    @property
    def url(self) -> str | None:
        """The evidence's own page, when that page exists in this build."""
        name, kwargs = EVIDENCE_KINDS[self.kind].page(self.target)
        try:
            return reverse(name, kwargs={"team_slug": self.decision.team.slug, **kwargs})
        except NoReverseMatch:
            return None


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class DecisionExport(TeamOwned):
    """A zip of the team's whole decision log, built by a worker (a large log takes longer than
    a request may): its progress in records, then the archive itself, kept in the database so
    that any web process can serve it. A team keeps its few latest exports."""

    flavor = models.CharField(max_length=20, default="madr4")
    status = models.CharField(max_length=10, choices=ExportStatus.choices,
                              default=ExportStatus.QUEUED)  # fmt: skip
    done = models.PositiveIntegerField(default=0)  # records written so far
    total = models.PositiveIntegerField(default=0)  # records to write (known once it runs)
    archive = models.BinaryField(null=True, blank=True, editable=False)
    size = models.PositiveBigIntegerField(default=0)  # bytes of the archive
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.flavor}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def filename(self) -> str:
        stamp = self.created_at.strftime("%Y%m%d-%H%M%S")
        return f"{self.team.slug}-decisions-{self.flavor}-{stamp}.zip"
