from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from teams.models import TeamOwned
from workloads.models import Approach, Assessment, Workload, Worksheet


class DecisionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    DEPRECATED = "deprecated", "Deprecated"
    SUPERSEDED = "superseded", "Superseded"


class DecisionRecord(TeamOwned):
    """An ADR with the fields of MADR 4, tied to a workload and to live evidence."""

    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.DRAFT
    )
    date = models.DateField(default=timezone.localdate)
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
    # A flag, not a status: set when a trigger fires or review_by passes.
    needs_revisit = models.BooleanField(default=False)
    revisit_reasons = models.JSONField(default=list, blank=True)
    revisit_flagged_at = models.DateTimeField(null=True, blank=True)
    supersedes = models.ManyToManyField(
        "self", symmetrical=False, related_name="superseded_by", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["team", "number"], name="decision_unique_number"),
            models.CheckConstraint(
                condition=models.Q(status__in=DecisionStatus.values),
                name="decision_status_valid",
            ),
        ]
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


class EvidenceKind(models.TextChoices):
    WORKSHEET = "worksheet", "Worksheet"
    ASSESSMENT = "assessment", "Workload assessment"


# Each evidence kind names the one foreign key of EvidenceLink that it uses. Adding a kind (a
# workload assessment, a prompt version, a benchmark run) is: a choice above, a nullable foreign
# key below, an entry here, and its label/URL in decisions.services.records.EVIDENCE_KINDS.
EVIDENCE_TARGETS: dict[str, str] = {
    EvidenceKind.WORKSHEET: "worksheet",
    EvidenceKind.ASSESSMENT: "assessment",
}


def _exactly_the_kinds_target() -> models.Q:
    condition = models.Q()
    for kind, field in EVIDENCE_TARGETS.items():
        empty = {f"{other}__isnull": True for other in EVIDENCE_TARGETS.values() if other != field}
        condition |= models.Q(kind=kind, **{f"{field}__isnull": False}, **empty)
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
        ]

    def __str__(self) -> str:
        return f"{self.decision.code} ← {self.kind} {self.target}"

    @property
    def target(self) -> models.Model:
        return getattr(self, EVIDENCE_TARGETS[self.kind])
