from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from teams.models import TeamOwned


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
