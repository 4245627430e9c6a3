"""Serializer building blocks for the API: strict JSON types and closed objects.

DRF's fields are liberal because they also serve HTML forms: `IntegerField` takes "12",
`CharField` takes 12, `BooleanField` takes "yes" and 1, `DecimalField` takes "1.5". The API
speaks JSON and publishes JSON types (/api/schema/), so the fields here take exactly the type
they publish and the published schema is the one enforced:

- `CharField`, `SlugField`, `URLField`, `ChoiceField`, `RegexField`: a JSON string;
- `IntegerField`: a JSON integer (not a boolean; 2.0 is an integer, as in JSON Schema);
- `FloatField`: a JSON number; `DecimalField`: a JSON number, rounded half-even to the column's
  decimal places and refused when its whole part does not fit the column;
- `BooleanField`: true or false.

`ClosedSerializer` and `ClosedModelSerializer` refuse keys they do not know ("Unknown field.")
and report them with every other error at once; the schema marks their request bodies
`additionalProperties: false` (teams.api.schema.ClosedSerializerExtension).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from django.db import models
from rest_framework import serializers

UNKNOWN_FIELD = "Unknown field."


class _JSONString:
    default_error_messages = {"wrong_type": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("wrong_type")
        return super().to_internal_value(data)


class CharField(_JSONString, serializers.CharField):
    pass


class SlugField(_JSONString, serializers.SlugField):
    pass


class URLField(_JSONString, serializers.URLField):
    pass


class ChoiceField(_JSONString, serializers.ChoiceField):
    pass


class RegexField(_JSONString, serializers.RegexField):
    pass


class _JSONNumber:
    default_error_messages = {"wrong_type": "Must be a number."}

    def to_internal_value(self, data):
        # bool is an int subclass: true must not quietly become 1.
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("wrong_type")
        return super().to_internal_value(data)


class IntegerField(serializers.IntegerField):
    default_error_messages = {"wrong_type": "Must be an integer."}

    def to_internal_value(self, data):
        integral_float = isinstance(data, float) and data.is_integer()
        if isinstance(data, bool) or not (isinstance(data, int) or integral_float):
            self.fail("wrong_type")
        return super().to_internal_value(int(data))


class FloatField(_JSONNumber, serializers.FloatField):
    pass


class DecimalField(_JSONNumber, serializers.DecimalField):
    """A JSON number kept as a Decimal with the column's places (more are rounded half-even:
    0.1234567 is 0.123457 at 6 places). Not coerced to a string on output."""

    default_error_messages = {
        "too_large": "Must be less than {limit} in absolute value (the largest amount stored)."
    }

    def __init__(self, max_digits: int, decimal_places: int, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        kwargs.setdefault("rounding", ROUND_HALF_EVEN)
        # The largest value the column holds, published as the schema's maximum.
        largest = Decimal(10) ** (max_digits - decimal_places) - Decimal(1).scaleb(-decimal_places)
        kwargs.setdefault("max_value", largest)
        super().__init__(max_digits, decimal_places, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("wrong_type")
        # repr: the shortest form that reads back as the same float, so 0.15 stays 0.15.
        value = Decimal(repr(data)) if isinstance(data, float) else Decimal(data)
        places = Decimal(1).scaleb(-self.decimal_places)
        with localcontext() as context:
            context.prec = 1000  # enough for any float; quantize must never raise
            value = value.quantize(places, rounding=self.rounding)
        limit = Decimal(10) ** self.max_whole_digits
        if abs(value) >= limit:
            self.fail("too_large", limit=f"{limit:,}")
        return value


class BooleanField(serializers.BooleanField):
    default_error_messages = {"wrong_type": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("wrong_type")
        return data


# No docstrings on these bases: drf-spectacular would publish them as the description of every
# serializer built on them.
class _Closed:
    # Refuses keys that are not writable fields, with every other error of the object.

    unknown_field_message = UNKNOWN_FIELD

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's "Expected a dictionary" error
        writable = {name for name, field in self.fields.items() if not field.read_only}
        errors: dict = {
            name: [self.unknown_field_error(name)] for name in sorted(set(data) - writable, key=str)
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors.update(exc.detail)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def unknown_field_error(self, name: str) -> str:
        return self.unknown_field_message


class ClosedSerializer(_Closed, serializers.Serializer):
    pass


class ClosedModelSerializer(_Closed, serializers.ModelSerializer):
    # The fields it generates are the strict ones above.

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
        models.SlugField: SlugField,
        models.URLField: URLField,
        models.IntegerField: IntegerField,
        models.BigIntegerField: IntegerField,
        models.SmallIntegerField: IntegerField,
        models.PositiveIntegerField: IntegerField,
        models.PositiveBigIntegerField: IntegerField,
        models.PositiveSmallIntegerField: IntegerField,
        models.FloatField: FloatField,
        models.DecimalField: DecimalField,
        models.BooleanField: BooleanField,
    }
    serializer_choice_field = ChoiceField
