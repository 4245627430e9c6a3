"""The one price lookup used everywhere a cost is computed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase

from evaluations.models import DEFAULT_PRICES, ModelPrice

DEFAULT_FT_MULTIPLIER = Decimal(2)


@dataclass(frozen=True)
class Price:
    model: str
    input_per_1m: Decimal
    output_per_1m: Decimal
    training_per_1m: Decimal | None
    source: str  # which row answered, e.g. "gpt-4o-mini" or "ft: base gpt-4o-mini × 2"


def base_model_of(model: str) -> str | None:
    """`ft:gpt-4o-mini-2024-07-18:org:name:id` → `gpt-4o-mini-2024-07-18`."""
    if model.startswith("ft:"):
        parts = model.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else None
    return None


def _match(rows: list[ModelPrice], model: str) -> ModelPrice | None:
    exact = next((row for row in rows if row.model == model), None)
    if exact is not None:
        return exact
    # The most specific pattern wins: `gpt-4.1-mini*` before `gpt-4.1*`.
    patterns = sorted((r for r in rows if r.is_pattern), key=lambda r: -len(r.model))
    return next((row for row in patterns if fnmatchcase(model, row.model)), None)


def price_for(
    team, model: str, *, ft_multiplier: Decimal = DEFAULT_FT_MULTIPLIER, rows=None
) -> Price | None:
    """Price of `model` for `team`; fine-tuned names fall back to base × multiplier.

    Pass `rows` (the team's ModelPrice list) to price many models with one query.
    """
    rows = list(ModelPrice.objects.for_team(team)) if rows is None else rows
    row = _match(rows, model)
    if row is not None:
        return Price(model, row.input_per_1m, row.output_per_1m, row.training_per_1m, row.model)
    base = base_model_of(model)
    if base is None:
        return None
    base_row = _match(rows, base)
    if base_row is None:
        return None
    return Price(
        model,
        base_row.input_per_1m * ft_multiplier,
        base_row.output_per_1m * ft_multiplier,
        base_row.training_per_1m,
        f"ft: base {base_row.model} × {ft_multiplier.normalize()}",
    )


def seed_default_prices(team) -> int:
    """Add the default price rows a team lacks; returns how many were added."""
    existing = set(ModelPrice.objects.for_team(team).values_list("model", flat=True))
    rows = [
        ModelPrice(team=team, model=m, input_per_1m=i, output_per_1m=o, training_per_1m=t)
        for m, i, o, t in DEFAULT_PRICES
        if m not in existing
    ]
    ModelPrice.objects.bulk_create(rows)
    return len(rows)
