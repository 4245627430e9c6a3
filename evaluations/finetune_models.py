"""Fine-tuning jobs and their events (SPEC §7.4); imported by `evaluations.models`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from teams.models import TeamOwned, TeamQuerySet


class FineTuneStatus(models.TextChoices):
    PREPARING = "preparing"  # built and validated here; nothing sent yet
    VALIDATING = "validating"  # files uploaded, the provider validates them
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset(
    {FineTuneStatus.SUCCEEDED, FineTuneStatus.FAILED, FineTuneStatus.CANCELLED}
)
ACTIVE_STATUSES = frozenset(
    {FineTuneStatus.VALIDATING, FineTuneStatus.QUEUED, FineTuneStatus.RUNNING}
)
# The order of the timeline; a job only moves forward along it (or to a terminal state).
STATUS_ORDER = [s.value for s in FineTuneStatus if s not in TERMINAL_STATUSES]
# The provider's statuses (the fine-tuning API's) in ours.
REMOTE_STATUSES = {
    "validating_files": FineTuneStatus.VALIDATING,
    "queued": FineTuneStatus.QUEUED,
    "running": FineTuneStatus.RUNNING,
    "succeeded": FineTuneStatus.SUCCEEDED,
    "failed": FineTuneStatus.FAILED,
    "cancelled": FineTuneStatus.CANCELLED,
}


class SystemPrompt(models.TextChoices):
    FULL = "full", "Full system prompt of the version"
    MINIMAL = "minimal", "Minimal (the task statement only)"
    NONE = "none", "None"


def can_move(current: str, new: str) -> bool:
    """A status moves forward along the timeline or to a terminal state; a terminal one stays."""
    if current in TERMINAL_STATUSES or current == new:
        return False
    if new in TERMINAL_STATUSES:
        return True
    return STATUS_ORDER.index(new) > STATUS_ORDER.index(current)


class FineTuneJobQuerySet(TeamQuerySet):
    def for_list(self) -> FineTuneJobQuerySet:
        return self.select_related("provider", "created_by").defer(
            "training_jsonl", "validation_jsonl", "report"
        )


class FineTuneJob(TeamOwned):
    """One fine-tuning job: the JSONL built from a dataset's train (and validation) split and a
    prompt version, what validating it found, the estimate, and the provider's job once launched.

    Polling is claimed through `poll_token`: each poll replaces it with a conditional UPDATE and
    only the poller holding the current token may act, so one job never has two pollers.
    """

    dataset = models.ForeignKey(
        "evaluations.Dataset", null=True, on_delete=models.SET_NULL, related_name="finetunes"
    )
    dataset_name = models.CharField(max_length=200)
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    prompt_ref = models.CharField(max_length=200)  # e.g. "support-triage v3 (production)"
    provider = models.ForeignKey(
        "evaluations.Provider", null=True, on_delete=models.SET_NULL, related_name="finetunes"
    )
    workload = models.ForeignKey(
        "workloads.Workload",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="finetunes",
    )
    base_model = models.CharField(max_length=200)
    status = models.CharField(
        max_length=12, choices=FineTuneStatus.choices, default=FineTuneStatus.PREPARING
    )
    system_prompt_mode = models.CharField(
        max_length=10, choices=SystemPrompt.choices, default=SystemPrompt.FULL
    )
    system_prompt = models.TextField(blank=True)  # what every example starts with
    n_epochs = models.PositiveSmallIntegerField(default=3)
    batch_size = models.PositiveSmallIntegerField(default=4)
    learning_rate_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=1)
    # The files as built, and what validating them found (finetune_data.Report.as_dict()).
    training_jsonl = models.TextField(blank=True)
    validation_jsonl = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True)
    train_examples = models.PositiveIntegerField(default=0)
    validation_examples = models.PositiveIntegerField(default=0)
    estimated_tokens = models.PositiveBigIntegerField(default=0)  # file tokens × epochs
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    training_price_per_1m = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True
    )
    price_source = models.CharField(max_length=200, blank=True)
    leakage = models.JSONField(default=dict, blank=True)  # groups/items/pairs when it leaked
    leakage_override_reason = models.TextField(blank=True)
    # The provider's side, once launched.
    training_file_id = models.CharField(max_length=100, blank=True)
    validation_file_id = models.CharField(max_length=100, blank=True)
    remote_job_id = models.CharField(max_length=100, blank=True)
    fine_tuned_model = models.CharField(max_length=300, blank=True)
    trained_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    actual_cost = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    # Polling bookkeeping.
    poll_token = models.UUIDField(null=True, blank=True, editable=False)
    poll_attempt = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    progress = models.JSONField(default=dict, blank=True)  # {step, total_steps, train_loss}
    # The one-click comparison with the production prompt, once asked for.
    benchmark_run = models.ForeignKey(
        "evaluations.BenchmarkRun", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = FineTuneJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=FineTuneStatus.values),
                name="finetunejob_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(n_epochs__gte=1, n_epochs__lte=50)
                & models.Q(batch_size__gte=1, batch_size__lte=256)
                & models.Q(learning_rate_multiplier__gt=0, learning_rate_multiplier__lte=10),
                name="finetunejob_hyperparameters_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="succeeded") | ~models.Q(fine_tuned_model=""),
                name="finetunejob_succeeded_has_model",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_poll_at"])]

    def __str__(self) -> str:
        return f"Fine-tune #{self.pk} of {self.base_model} on {self.dataset_name}"

    def get_absolute_url(self) -> str:
        return reverse("evaluations:finetune_detail", args=[self.team.slug, self.pk])

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_launched(self) -> bool:
        return bool(self.launched_at)

    @property
    def hyperparameters(self) -> dict:
        return {
            "n_epochs": self.n_epochs,
            "batch_size": self.batch_size,
            "learning_rate_multiplier": float(self.learning_rate_multiplier),
        }

    @property
    def progress_percent(self) -> int | None:
        step, total = self.progress.get("step"), self.progress.get("total_steps")
        if self.status == FineTuneStatus.SUCCEEDED:
            return 100
        if not step or not total:
            return None
        return min(100, round(100 * step / total))

    @property
    def cost_difference(self):
        if self.actual_cost is None or self.estimated_cost is None:
            return None
        return self.actual_cost - self.estimated_cost


class FineTuneEvent(TeamOwned):
    """A status transition recorded here, or an event the provider reported (`remote_id`)."""

    class Kind(models.TextChoices):
        STATUS = "status"
        MESSAGE = "message"
        METRICS = "metrics"
        ERROR = "error"

    job = models.ForeignKey(FineTuneJob, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    level = models.CharField(max_length=10, default="info")
    message = models.TextField()
    data = models.JSONField(null=True, blank=True, default=None)
    remote_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "remote_id"],
                condition=~models.Q(remote_id=""),
                name="finetuneevent_unique_remote",
            ),
        ]

    def __str__(self) -> str:
        return self.message
