from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from teams.models import Team, TeamOwned, TeamQuerySet
from workloads import roi


def _member(key: str) -> str:
    return key.upper().replace("-", "_")


# Built from the ROI engine's registry of names: PROMPT, FINE_TUNE, HYBRID, RAG and SLA_ROI,
# CHECKLISTS, FLOWCHART, labelled as everywhere else.
Approach = models.TextChoices(
    "Approach", [(_member(key), (key, name.label)) for key, name in roi.APPROACHES.items()]
)
Policy = models.TextChoices(
    "Policy", [(_member(key), (key, name.label)) for key, name in roi.POLICIES.items()]
)


# Free text stays short enough for pages and search to stay fast (docs/RELIABILITY.md).
DESCRIPTION_MAX_LENGTH = 10_000


class Workload(TeamOwned):
    """An LLM feature in production (or planned) whose approach we keep deciding.

    `parameters` holds every ROI input (workloads/roi.py names) that is not observed from usage:
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
    # Its prompt in the registry: the production version's static tokens are the prompt
    # overhead (P) of every assessment.
    prompt_template = models.ForeignKey(
        "prompts.PromptTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workloads",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Live re-assessment bookkeeping (workloads.services.assessments): when usage last changed,
    # and the claim marker of a pending (coalesced) re-assessment.
    usage_changed_at = models.DateTimeField(null=True, blank=True)
    assessment_requested_at = models.DateTimeField(null=True, blank=True)
    # Who last changed the parameters and when; `parameters_from` is the worksheet version they
    # were applied from (cleared by an edit by hand).
    parameters_changed_at = models.DateTimeField(null=True, blank=True)
    parameters_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parameters_from = models.ForeignKey(
        "Worksheet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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

    def save(self, *args, **kwargs) -> None:
        # A saved version is evidence (decision records link to it): changes make a new one.
        if not self._state.adding:
            raise ValueError("Worksheet versions are immutable: save a new version instead.")
        super().save(*args, **kwargs)


class UsageRecord(TeamOwned):
    """Usage of one workload over one period, as pushed by a service (POST /api/v1/usage).

    Written only by `workloads.usage_ingest` (bulk, idempotent on the client's `id`).
    """

    # Each index costs every ingested row; the two foreign keys are already the leading columns
    # of the unique (team, client_id) and the (workload, period_start) indexes.
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    workload = models.ForeignKey(
        Workload, on_delete=models.CASCADE, related_name="usage", db_index=False
    )
    # NULL, not "", when the client sent no id: NULLs never collide in the unique constraint.
    client_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    requests = models.BigIntegerField()
    input_tokens = models.BigIntegerField()
    output_tokens = models.BigIntegerField()
    approach = models.CharField(max_length=10, choices=Approach.choices, blank=True)
    model = models.CharField(max_length=200, blank=True)
    latency_p50_ms = models.FloatField(null=True, blank=True)
    latency_p99_ms = models.FloatField(null=True, blank=True)
    format_errors = models.BigIntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["workload", "period_start"]
        constraints = [
            # The idempotency key: a client id is stored once per team (NULLs never collide).
            models.UniqueConstraint(fields=["team", "client_id"], name="usage_unique_client_id"),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="usage_period_order",
            ),
            models.CheckConstraint(
                condition=models.Q(requests__gte=0, input_tokens__gte=0, output_tokens__gte=0),
                name="usage_counts_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(format_errors__isnull=True)
                | models.Q(format_errors__gte=0, format_errors__lte=models.F("requests")),
                name="usage_format_errors_range",
            ),
        ]
        indexes = [models.Index(fields=["workload", "period_start"], name="usage_workload_start")]

    def __str__(self) -> str:
        return f"{self.workload_id} {self.period_start:%Y-%m-%d %H:%M} {self.requests} requests"


class UsageDay(TeamOwned):
    """The sums of one workload's usage records that began on one UTC day, per approach.

    Maintained by `workloads.usage_ingest` in the transaction that stores the records, from the
    rows actually inserted (a re-pushed or repeated id adds nothing): for every (workload, day,
    approach) the figures equal a GROUP BY over `UsageRecord`. Pages and assessments read it
    wherever daily or monthly sums suffice.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    workload = models.ForeignKey(
        Workload, on_delete=models.CASCADE, related_name="usage_days", db_index=False
    )
    day = models.DateField()  # UTC date of the records' period_start
    approach = models.CharField(max_length=10, choices=Approach.choices, blank=True)
    records = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    # Over records that report format errors: their errors and their requests.
    format_errors = models.BigIntegerField(default=0)
    format_requests = models.BigIntegerField(default=0)
    # Over records that report a p99: Σ p99 × requests and Σ requests.
    p99_weighted = models.FloatField(default=0)
    p99_requests = models.BigIntegerField(default=0)
    first_start = models.DateTimeField()  # the earliest period_start of the day's records

    class Meta:
        ordering = ["workload", "day", "approach"]
        constraints = [
            models.UniqueConstraint(
                fields=["workload", "day", "approach"], name="usageday_unique_day"
            ),
        ]
        indexes = [models.Index(fields=["team", "day"], name="usageday_team_day")]

    def __str__(self) -> str:
        return f"{self.workload_id} {self.day} {self.approach or '-'} {self.requests} requests"


class Assessment(TeamOwned):
    """One re-assessment of a workload: the observed metrics, the ROI inputs built from them and
    the workload's parameters, the ROI outputs and the recommendation, frozen at that time."""

    class Reason(models.TextChoices):
        USAGE = "usage", "New usage"
        PARAMETERS = "parameters", "Parameters changed"
        PRICES = "prices", "Prices changed"
        BENCHMARK = "benchmark", "Benchmark finished"
        PROMPT = "prompt", "Production prompt moved"
        SWEEP = "sweep", "Periodic sweep"
        MANUAL = "manual", "Requested by a user"
        DEMO = "demo", "Demo data"

    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="assessments")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    current_approach = models.CharField(max_length=10, choices=Approach.choices)
    observed = models.JSONField(default=dict)  # window, R, mean tokens, p99, format error rate
    inputs = models.JSONField(default=dict)  # roi.RoiInputs.as_dict(), or the raw data if invalid
    outputs = models.JSONField(default=dict)  # roi.RoiResult.as_dict()
    recommendation = models.CharField(max_length=10, choices=Approach.choices, blank=True)
    errors = models.JSONField(default=list, blank=True)  # [{"field", "message"}] when invalid
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workload", "-created_at"], name="assessment_latest")]

    def __str__(self) -> str:
        return f"{self.workload} assessment {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def disagrees(self) -> bool:
        return bool(self.recommendation) and self.recommendation != self.current_approach

    def metrics(self) -> dict[str, float | None]:
        """The figures revisit triggers compare (decisions.triggers.METRICS names; None when
        unknown). Cost figures are those of the approach the workload runs on."""
        inputs, outputs = self.inputs, self.outputs
        fine_tuned = self.current_approach in (Approach.FINE_TUNE, Approach.HYBRID)
        side = "fine_tune" if fine_tuned else "prompt"
        costs = outputs.get(side) or {}
        return {
            "monthly_requests": inputs.get("monthly_requests"),
            "monthly_tokens": outputs.get("monthly_tokens"),
            "latency_p99_ms": inputs.get("latency_p99_ms"),
            "format_error_rate": inputs.get("format_error_rate"),
            "cost_per_request": costs.get("cost_per_request"),
            "monthly_cost": costs.get("monthly_cost"),
            "payback_months": outputs.get("payback_months"),
            "monthly_savings": outputs.get("monthly_savings"),
        }


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    DISMISSED = "dismissed", "Dismissed"
    RESOLVED = "resolved", "Resolved"


class SwitchFlagQuerySet(TeamQuerySet):
    def live(self) -> SwitchFlagQuerySet:
        """Flags that still apply: the recommendation has not agreed with the approach since."""
        return self.filter(resolved_at__isnull=True)

    def needing_attention(self) -> SwitchFlagQuerySet:
        return self.live().filter(status=FlagStatus.OPEN)


class SwitchFlag(TeamOwned):
    """ "The evidence says switch": raised when an assessment recommends another approach than the
    workload's current one, closed (resolved_at) when a later assessment agrees again.

    A flag stays live (resolved_at is null) while open, acknowledged or dismissed; at most one
    live flag per workload (database constraint).
    """

    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="flags")
    assessment = models.ForeignKey(
        Assessment, null=True, on_delete=models.SET_NULL, related_name="flags"
    )
    from_approach = models.CharField(max_length=10, choices=Approach.choices)
    to_approach = models.CharField(max_length=10, choices=Approach.choices)
    status = models.CharField(max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    reasons = models.JSONField(default=list)
    figures = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.TextField(blank=True)
    decision = models.ForeignKey(
        "decisions.DecisionRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags",
    )

    objects = SwitchFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workload"],
                condition=models.Q(resolved_at__isnull=True),
                name="switchflag_one_live_per_workload",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=FlagStatus.values), name="switchflag_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=FlagStatus.RESOLVED)
                | models.Q(resolved_at__isnull=False),
                name="switchflag_resolved_has_time",
            ),
        ]
        indexes = [models.Index(fields=["team", "status"], name="switchflag_team_status")]

    def __str__(self) -> str:
        return f"{self.workload}: {self.from_approach} → {self.to_approach} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.resolved_at is None
