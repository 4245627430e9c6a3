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


def model_taken(team, model: str, *, exclude_pk: int | None = None) -> str | None:
    """Why `model` cannot be another row of `team`'s price table, or None."""
    taken = ModelPrice.objects.for_team(team).filter(model=model).exclude(pk=exclude_pk)
    return f"{model} already has a price in this team." if taken.exists() else None


def model_price_clean(*, team, data: dict, price: ModelPrice | None = None) -> dict:
    """A form's price fields checked against the table's rules (name or pattern syntax, one row
    per name in the team, no negative price) and returned ready for `model_price_create` or
    `model_price_update`; ValidationError lists every problem. (The API's serializer applies the
    same rules itself.)"""
    errors: dict[str, list[str]] = {}
    clean = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    if "model" in data:
        try:
            clean["model"] = validate_model_name(data["model"])
        except ValidationError as exc:
            errors["model"] = exc.messages
        else:
            problem = model_taken(team, clean["model"], exclude_pk=getattr(price, "pk", None))
            if problem:
                errors["model"] = [problem]
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


def model_price_create(
    *,
    team,
    model: str,
    input_per_1m: Decimal,
    output_per_1m: Decimal,
    training_per_1m: Decimal | None = None,
    notes: str = "",
    actor=None,
) -> ModelPrice:
    """Add a price row from checked values (`model_price_clean`, or the API's serializer)."""
    price = ModelPrice(
        team=team, model=model, input_per_1m=input_per_1m, output_per_1m=output_per_1m,
        training_per_1m=training_per_1m, notes=notes,
    )  # fmt: skip
    price = _save(price)
    prices_changed.send(sender=ModelPrice, team=team)
    return price


def model_price_update(*, price: ModelPrice, actor=None, **changes) -> ModelPrice:
    """Change the given EDITABLE_FIELDS of a price row to checked values."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"Not editable price fields: {', '.join(unknown)}")
    for name, value in changes.items():
        setattr(price, name, value)
    price.updated_at = timezone.now()
    price = _save(price)
    prices_changed.send(sender=ModelPrice, team=price.team)
    return price


def model_price_delete(*, price: ModelPrice, actor=None) -> None:
    price.delete()
    prices_changed.send(sender=ModelPrice, team=price.team)
