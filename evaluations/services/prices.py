"""Writes to the model price table (SPEC §7.1).

Every cost in the product is looked up through `evaluations.pricing.price_for`, so a change here
changes every figure computed afterwards.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from evaluations.models import ModelPrice
from evaluations.signals import prices_changed

# Letters, digits and the punctuation model names use; `*` is the only wildcard. fnmatch would
# also read `?` and `[...]` as wildcards, which nobody expects in a model name: refuse them.
MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9._:/@+*-]+$")
PRICE_FIELDS = ("input_per_1m", "output_per_1m", "training_per_1m")
EDITABLE_FIELDS = ("model", *PRICE_FIELDS, "notes")
MODEL_NAME_MESSAGE = (
    "Use letters, digits and . - _ : / @ + only, with * as the one wildcard "
    "(e.g. gpt-4.1* or ft:gpt-4o-mini:*)."
)


def validate_model_name(value: str) -> str:
    """The stripped model name or pattern, or a ValidationError saying what is wrong."""
    value = (value or "").strip()
    if not value:
        raise ValidationError("Enter a model name, or a pattern such as gpt-4.1*.")
    if not MODEL_NAME_RE.match(value):
        raise ValidationError(MODEL_NAME_MESSAGE)
    return value


def _check(team, data: dict, *, exclude_pk: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    clean = dict(data)
    if "model" in data:
        try:
            clean["model"] = validate_model_name(data["model"])
        except ValidationError as exc:
            errors["model"] = exc.messages
        else:
            taken = ModelPrice.objects.for_team(team).filter(model=clean["model"])
            if taken.exclude(pk=exclude_pk).exists():
                errors["model"] = [f"{clean['model']} already has a price in this team."]
    for name in PRICE_FIELDS:
        value = data.get(name)
        if value is not None and Decimal(value) < 0:
            errors[name] = ["Prices cannot be negative."]
    if errors:
        raise ValidationError(errors)
    return clean


def _save(price: ModelPrice) -> ModelPrice:
    try:
        with transaction.atomic():
            price.save()
    except IntegrityError:  # a concurrent insert of the same name won the race
        raise ValidationError(
            {"model": [f"{price.model} already has a price in this team."]}
        ) from None
    return price


def model_price_create(*, team, data: dict, actor=None) -> ModelPrice:
    """Add a price row. `data` holds EDITABLE_FIELDS (training_per_1m and notes optional)."""
    clean = _check(team, data)
    price = ModelPrice(team=team, **{k: v for k, v in clean.items() if k in EDITABLE_FIELDS})
    price = _save(price)
    prices_changed.send(sender=ModelPrice, team=team)
    return price


def model_price_update(*, price: ModelPrice, data: dict, actor=None) -> ModelPrice:
    """Change the given fields of a price row."""
    clean = _check(price.team, data, exclude_pk=price.pk)
    for name, value in clean.items():
        if name in EDITABLE_FIELDS:
            setattr(price, name, value)
    price.updated_at = timezone.now()
    price = _save(price)
    prices_changed.send(sender=ModelPrice, team=price.team)
    return price


def model_price_delete(*, price: ModelPrice, actor=None) -> None:
    price.delete()
    prices_changed.send(sender=ModelPrice, team=price.team)
