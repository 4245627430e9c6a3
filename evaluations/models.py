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


# Fine-tuning jobs live in their own module; imported here so Django registers them.
from evaluations.finetune_models import FineTuneEvent, FineTuneJob  # noqa: E402, F401
