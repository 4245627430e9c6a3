from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from teams.models import TeamOwned, TeamQuerySet


class ModelPrice(TeamOwned):
    """USD per 1M tokens for a model name, or a glob pattern such as `gpt-4.1*`.

    Every cost in the product comes from this table (see `evaluations.pricing.price_for`).
    """

    model = models.CharField(
        max_length=200, help_text="Exact model name, or a pattern with * (e.g. gpt-4.1*)."
    )
    input_per_1m = models.DecimalField(max_digits=12, decimal_places=6)
    output_per_1m = models.DecimalField(max_digits=12, decimal_places=6)
    training_per_1m = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, default=None
    )
    notes = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model"]
        constraints = [
            models.UniqueConstraint(fields=["team", "model"], name="modelprice_unique_model"),
            models.CheckConstraint(
                condition=models.Q(input_per_1m__gte=0)
                & models.Q(output_per_1m__gte=0)
                & (models.Q(training_per_1m__isnull=True) | models.Q(training_per_1m__gte=0)),
                name="modelprice_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.model

    @property
    def is_pattern(self) -> bool:
        return "*" in self.model


# Seeded for every new team; editable afterwards. USD per 1M tokens (input, output, training).
DEFAULT_PRICES: tuple[tuple[str, Decimal, Decimal, Decimal | None], ...] = (
    ("gpt-4o-mini", Decimal("0.15"), Decimal("0.60"), Decimal("3.00")),
    ("gpt-4o", Decimal("2.50"), Decimal("10.00"), Decimal("25.00")),
    ("gpt-4.1", Decimal("2.00"), Decimal("8.00"), Decimal("25.00")),
    ("gpt-4.1-mini", Decimal("0.40"), Decimal("1.60"), Decimal("5.00")),
    ("gpt-4.1-nano", Decimal("0.10"), Decimal("0.40"), Decimal("1.50")),
    ("gpt-3.5-turbo", Decimal("0.50"), Decimal("1.50"), Decimal("8.00")),
    ("demo-*", Decimal("0.15"), Decimal("0.60"), Decimal("3.00")),
)


class Provider(TeamOwned):
    """An OpenAI-compatible endpoint that benchmarks and fine-tunes call (SPEC §7.1).

    The API key is either stored encrypted (`api_key_ciphertext`, see `evaluations.crypto`) or
    read at call time from the environment variable `api_key_env`; it is never shown back.
    """

    name = models.CharField(max_length=100)
    base_url = models.CharField(max_length=500)
    api_key_ciphertext = models.TextField(blank=True, editable=False)
    api_key_env = models.CharField(max_length=100, blank=True)
    # The endpoint's models are simulated (the demo endpoint): said wherever it appears.
    is_simulated = models.BooleanField(default=False)
    # What the last "test connection" found.
    available_models = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="provider_unique_name"),
            models.CheckConstraint(
                condition=models.Q(api_key_ciphertext="") | models.Q(api_key_env=""),
                name="provider_one_key_source",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name, saying once that a simulated endpoint is simulated."""
        if self.is_simulated and "simulated" not in self.name.lower():
            return f"{self.name} (simulated)"
        return self.name

    @property
    def api_key_source(self) -> str:
        """`stored`, `environment` or `none` — what may be said about the key."""
        if self.api_key_ciphertext:
            return "stored"
        return "environment" if self.api_key_env else "none"

    def set_api_key(self, key: str) -> None:
        from evaluations.crypto import encrypt

        self.api_key_ciphertext = encrypt(key) if key else ""


class TaskKind(models.TextChoices):
    CLASSIFICATION = "classification"
    EXTRACTION = "extraction"
    GENERATION = "generation"
    PERSONA = "persona"


class Split(models.TextChoices):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"


# Free text stays short enough for pages and search to stay fast (docs/RELIABILITY.md).
DESCRIPTION_MAX_LENGTH = 10_000


class Dataset(TeamOwned):
    """Examples to benchmark candidates on and to fine-tune from (SPEC §7.2).

    Items are appended by imports and never edited; splits are assigned at import or by
    `dataset_split`. A benchmark run pins the ids of the items of its split when it starts, so
    later imports or a new split never change what a finished run measured.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    task_kind = models.CharField(max_length=20, choices=TaskKind.choices)
    output_schema = models.JSONField(null=True, blank=True, default=None)
    label_field = models.CharField(max_length=100, default="category")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="dataset_unique_name"),
            models.CheckConstraint(
                condition=models.Q(task_kind__in=TaskKind.values), name="dataset_task_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DatasetItemQuerySet(TeamQuerySet):
    def in_split(self, split: str | None) -> DatasetItemQuerySet:
        return self.filter(split=split) if split else self

    def tagged(self, tag: str | None) -> DatasetItemQuerySet:
        # A JSON list `contains` lookup is not available on SQLite; tags are stored with
        # surrounding commas so one text lookup works on both databases.
        return self.filter(tag_text__contains=f",{tag},") if tag else self


class DatasetItem(TeamOwned):
    """One example: input variables (or a multi-turn conversation) and the expected output."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()  # 1-based, in import order
    input = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(null=True, blank=True, default=None)
    conversation = models.JSONField(null=True, blank=True, default=None)
    # Empty until a split is assigned (at import, or by splitting the dataset).
    split = models.CharField(max_length=10, choices=Split.choices, blank=True)
    tags = models.JSONField(default=list, blank=True)
    tag_text = models.CharField(max_length=1100, blank=True, editable=False)
    # SHA-256 of the canonical input (exact duplicates) and of its normalised text (leakage).
    content_hash = models.CharField(max_length=64)
    text_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DatasetItemQuerySet.as_manager()

    class Meta:
        ordering = ["dataset", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "position"], name="datasetitem_unique_position"
            ),
            models.CheckConstraint(
                condition=models.Q(split="") | models.Q(split__in=Split.values),
                name="datasetitem_split_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["dataset", "split", "position"]),
            models.Index(fields=["dataset", "content_hash"]),
            models.Index(fields=["dataset", "text_hash"]),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} #{self.position}"


# Benchmark runs (SPEC §7.3) ---------------------------------------------------------------------


class Approach(models.TextChoices):
    """The approach a candidate stands for; the same keys as the ROI engine's approaches."""

    PROMPT = "prompt", "Prompt engineering"
    FINE_TUNE = "fine-tune", "Fine-tuned model"
    HYBRID = "hybrid", "Hybrid (fine-tune + prompt)"
    RAG = "rag", "RAG + prompting"


class BenchmarkStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


BENCHMARK_ACTIVE = (BenchmarkStatus.QUEUED, BenchmarkStatus.RUNNING)


class BenchmarkRunQuerySet(TeamQuerySet):
    def active(self) -> BenchmarkRunQuerySet:
        return self.filter(status__in=BENCHMARK_ACTIVE)


class BenchmarkRun(TeamOwned):
    """1..N candidates compared on the items of one dataset split (SPEC §7.3).

    Everything a run measures is pinned when it starts: the item ids (`item_ids`, in order), each
    candidate's resolved prompt version, the scorers and their settings. The per-call rows
    (`BenchmarkResult`) are the record; `summary` is computed from them once, by the claimed
    final aggregation (`evaluations.summary.summarize`), and can be recomputed from them.

    The run lives in `evaluations`, left of `workloads`: its optional workload is a string
    foreign key (no import), and the workload side reads the run through the
    `benchmark_finished` signal.
    """

    name = models.CharField(max_length=200)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="benchmark_runs")
    split = models.CharField(max_length=10, choices=Split.choices, blank=True)  # "" = all items
    workload = models.ForeignKey(
        "workloads.Workload",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="benchmark_runs",
    )
    # [{"name": "accuracy"}, {"name": "regex", "pattern": "..."}, ...] (evaluations.scoring names)
    scorers = models.JSONField(default=list)
    label_field = models.CharField(max_length=100, default="category")
    output_schema = models.JSONField(null=True, blank=True, default=None)
    concurrency = models.PositiveIntegerField(default=10)  # calls in flight per chunk
    timeout_seconds = models.FloatField(default=60.0)  # per attempt
    max_retries = models.PositiveSmallIntegerField(default=2)
    chunk_size = models.PositiveIntegerField(default=100)  # items per chunk task
    seed = models.PositiveIntegerField(default=0)  # of the bootstrap intervals
    item_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=BenchmarkStatus.choices, default=BenchmarkStatus.QUEUED
    )
    # Progress: calls stored (`done`) out of items × candidates (`total`).
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)  # why the run failed, when it did
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # a chunk last stored results
    finished_at = models.DateTimeField(null=True, blank=True)
    # Claim marker of the final aggregation: set by the one worker that aggregates.
    aggregated_at = models.DateTimeField(null=True, blank=True)

    objects = BenchmarkRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BenchmarkStatus.values),
                name="benchmarkrun_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(concurrency__gte=1) & models.Q(chunk_size__gte=1),
                name="benchmarkrun_positive_sizes",
            ),
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="benchmarkrun_done_lte_total"
            ),  # fmt: skip
        ]
        indexes = [models.Index(fields=["team", "status", "-created_at"])]

    def __str__(self) -> str:
        return f"benchmark #{self.pk} {self.name}"

    @property
    def is_active(self) -> bool:
        return self.status in BENCHMARK_ACTIVE

    @property
    def chunk_count(self) -> int:
        return -(-len(self.item_ids) // self.chunk_size)

    def chunk_item_ids(self, index: int) -> list[int]:
        return self.item_ids[index * self.chunk_size : (index + 1) * self.chunk_size]

    @property
    def progress(self) -> dict[str, int]:
        return {"done": self.done, "total": self.total}

    @property
    def scorer_names(self) -> list[str]:
        return [scorer["name"] for scorer in self.scorers]


class BenchmarkCandidate(TeamOwned):
    """One thing compared: approach + provider + model + the prompt version pinned at start."""

    run = models.ForeignKey(BenchmarkRun, on_delete=models.CASCADE, related_name="candidates")
    position = models.PositiveSmallIntegerField()  # 0-based, as given
    label = models.CharField(max_length=100)
    approach = models.CharField(max_length=10, choices=Approach.choices)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    model = models.CharField(max_length=200)
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", on_delete=models.PROTECT, related_name="benchmark_candidates"
    )
    # How the version was asked for: a label ("production") or "" when by number.
    prompt_label = models.CharField(max_length=50, blank=True)
    rag = models.BooleanField(default=False)  # the item's `context` input is given to the prompt

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "label"], name="benchmarkcandidate_unique_label"
            ),
            models.UniqueConstraint(
                fields=["run", "position"], name="benchmarkcandidate_unique_position"
            ),
            models.CheckConstraint(
                condition=models.Q(approach__in=Approach.values),
                name="benchmarkcandidate_approach_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class BenchmarkResult(TeamOwned):
    """One call: an item answered by a candidate. Upserted on (run, item, candidate), so a
    retried or restarted chunk never duplicates or loses a result.

    `scores` holds each per-call scorer's value (1.0, 0.0, or null when it cannot score);
    macro-F1 is recomputed from `expected_label`/`predicted_label`. A failed call has `error`
    set and no scores: it counts in the error rate, not in the scores. With an `llm_judge`
    scorer, `judge_output` is what the judge answered about the output (or why it could not).
    """

    run = models.ForeignKey(BenchmarkRun, on_delete=models.CASCADE, related_name="results")
    candidate = models.ForeignKey(
        BenchmarkCandidate, on_delete=models.CASCADE, related_name="results"
    )
    item = models.ForeignKey(DatasetItem, on_delete=models.PROTECT, related_name="+")
    output = models.TextField(blank=True)
    scores = models.JSONField(default=dict, blank=True)
    # None (the output gives no label) is not "" (an empty label).
    expected_label = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    predicted_label = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    latency_ms = models.FloatField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=10, null=True, blank=True)
    error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=30, blank=True)
    judge_output = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "item", "candidate"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item", "candidate"], name="benchmarkresult_unique_call"
            ),
        ]
        indexes = [models.Index(fields=["run", "candidate"])]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.item_id}/{self.candidate_id}"

    @property
    def ok(self) -> bool:
        return not self.error


# Fine-tuning jobs live in their own module; imported here so Django registers them.
from evaluations.finetune_models import FineTuneEvent, FineTuneJob  # noqa: E402, F401

# Persona specs and team attacks live in their own module (SPEC §7.5).
from evaluations.persona_models import (  # noqa: E402, F401
    BenchmarkTurn,
    PersonaRun,
    PersonaSpec,
    PersonaVersion,
    TeamAttack,
)
