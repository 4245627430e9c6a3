from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from teams.models import TeamOwned


class Approach(models.TextChoices):
    PROMPT = "prompt", "Prompt engineering"
    FINE_TUNE = "fine-tune", "Fine-tuned model"
    HYBRID = "hybrid", "Hybrid (fine-tune + prompt)"
    RAG = "rag", "RAG + prompting"


class Policy(models.TextChoices):
    SLA_ROI = "sla_roi", "SLA + ROI (latency, format errors, payback)"
    CHECKLISTS = "checklists", "Checklists (use-X-when lists)"
    FLOWCHART = "flowchart", "Flowchart (data, consistency, volume, accuracy)"


class Workload(TeamOwned):
    """An LLM feature in production (or planned) whose approach we keep deciding.

    `parameters` holds every ROI input (decisions/roi.py names) that is not observed from usage:
    overheads, training and effort figures, SLAs, checklist answers, optional price overrides, and
    planned volumes (`monthly_requests`, `user_tokens`, `output_tokens`) used until usage arrives.
    """

    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    current_approach = models.CharField(
        max_length=10, choices=Approach.choices, default=Approach.PROMPT
    )
    policy = models.CharField(max_length=12, choices=Policy.choices, default=Policy.SLA_ROI)
    model = models.CharField(max_length=200, help_text="Model used under prompt engineering.")
    ft_model = models.CharField(
        max_length=200, blank=True, help_text="Fine-tuned model, if any (ft:<base>:…)."
    )
    parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "slug"], name="workload_unique_slug"),
            models.CheckConstraint(
                condition=models.Q(current_approach__in=Approach.values),
                name="workload_approach_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(policy__in=Policy.values), name="workload_policy_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Worksheet(TeamOwned):
    """One immutable version of an approach-analysis worksheet for a workload."""

    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="worksheets")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True)
    inputs = models.JSONField()  # roi.RoiInputs.as_dict()
    outputs = models.JSONField()  # roi.RoiResult.as_dict()
    recommendation = models.CharField(max_length=10, choices=Approach.choices)
    justification = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["workload", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["workload", "version"], name="worksheet_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workload} worksheet v{self.version}"


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


# Each evidence kind names the one foreign key of EvidenceLink that it uses. Adding a kind (a
# workload evaluation, a prompt version, a benchmark run) is: a choice above, a nullable foreign
# key below, an entry here, and its label/URL in decisions.services.records.EVIDENCE_KINDS.
EVIDENCE_TARGETS: dict[str, str] = {EvidenceKind.WORKSHEET: "worksheet"}


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
        ]

    def __str__(self) -> str:
        return f"{self.decision.code} ← {self.kind} {self.target}"

    @property
    def target(self) -> models.Model:
        return getattr(self, EVIDENCE_TARGETS[self.kind])


def workload_roi_data(workload: Workload, *, price_rows=None) -> dict:
    """The workload's ROI inputs before observation: its parameters, its policy, and prices from
    the price table for `model` / `ft_model` (an explicit price parameter always wins)."""
    from evaluations.pricing import DEFAULT_FT_MULTIPLIER, price_for

    data = dict(workload.parameters)
    data["policy"] = workload.policy
    rows = price_rows
    price = price_for(workload.team, workload.model, rows=rows) if workload.model else None
    if price is not None:
        data.setdefault("input_price_per_1m", price.input_per_1m)
        data.setdefault("output_price_per_1m", price.output_per_1m)
        if price.training_per_1m is not None:
            data.setdefault("training_price_per_1m", price.training_per_1m)
    if workload.ft_model:
        multiplier = data.get("ft_price_multiplier", DEFAULT_FT_MULTIPLIER)
        ft_price = price_for(workload.team, workload.ft_model, ft_multiplier=multiplier, rows=rows)
        if ft_price is not None:
            data.setdefault("ft_input_price_per_1m", ft_price.input_per_1m)
            data.setdefault("ft_output_price_per_1m", ft_price.output_per_1m)
    return data
