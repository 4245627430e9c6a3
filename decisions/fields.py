"""Serializer fields of the decision-record schema (decisions.serializers): one-line and
markdown text, ISO dates, trigger thresholds, lists whose errors name the item, and references
to the team's workloads and decisions."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from decisions import madr, triggers
from decisions.models import DecisionRecord
from teams.api.serializers import CharField
from workloads.models import Workload

BLANK = "Must not be blank."
# Sizes that keep a record's page and the log's full-text search fast (bench/decision_size.py):
# characters of one markdown field, of an option's description, of an argument, and of all the
# record's text together.
MAX_TEXT = 20_000
MAX_DESCRIPTION = 5_000
MAX_ARGUMENT = 1_000
MAX_RECORD_TEXT = 60_000
MAX_ITEMS = 100  # items of one list
MAX_THRESHOLD = 10**15


class LineField(CharField):
    """One line of text: runs of whitespace (newlines included) become one space."""

    def __init__(self, **kwargs):
        messages = {"blank": BLANK, "max_length": "At most {max_length} characters."}
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        return " ".join(super().to_internal_value(data).split())


class MarkdownField(CharField):
    """Markdown text with Unix line ends; blank is allowed."""

    def __init__(self, max_length: int = MAX_TEXT, **kwargs):
        messages = {"max_length": "At most {max_length} characters."}
        super().__init__(allow_blank=True, max_length=max_length, required=False,
                         error_messages=messages, **kwargs)  # fmt: skip

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(data).replace("\r\n", "\n").replace("\r", "\n")


class IsoDateField(serializers.DateField):
    """A YYYY-MM-DD date (no date is null: the form sends null for an empty input)."""

    def __init__(self, **kwargs):
        super().__init__(input_formats=["iso-8601"], **kwargs)

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except serializers.ValidationError:
            raise serializers.ValidationError(f"'{value}' is not a date: use YYYY-MM-DD.") from None


@extend_schema_field(OpenApiTypes.NUMBER)
class ThresholdField(serializers.Field):
    """A finite number; numeric strings ("100,000", "0.05") from forms are accepted too."""

    default_error_messages = {
        "invalid": "Must be a number.",
        "null": "Must be a number.",
        "range": f"Must be between -{MAX_THRESHOLD:,} and {MAX_THRESHOLD:,}.",
    }

    def to_internal_value(self, data) -> int | float:
        number = triggers.parse_number(data)
        if number is None:
            self.fail("invalid")
        if abs(number) > MAX_THRESHOLD:
            self.fail("range")
        return triggers.plain(number)

    def to_representation(self, value):
        return value


class IndexedListField(serializers.ListField):
    """A list whose item errors name the item (`decision_makers[2]`), as nested serializers do;
    null is the empty list."""

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_ITEMS, required=False, allow_null=True, **kwargs)

    def run_validation(self, data=empty):
        return [] if data is None else super().run_validation(data)

    def run_child_validation(self, data) -> list:
        values, errors = [], []
        for item in data:
            try:
                values.append(self.child.run_validation(item))
                errors.append([])
            except serializers.ValidationError as exc:
                errors.append(exc.detail)
        if any(errors):
            raise serializers.ValidationError(errors)
        return values


class LinesField(IndexedListField):
    """A list of one-line strings; blank items are dropped."""

    def __init__(self, *, item_length: int = 500, **kwargs):
        super().__init__(child=LineField(max_length=item_length, allow_blank=True), **kwargs)

    def to_internal_value(self, data) -> list[str]:
        return [item for item in super().to_internal_value(data) if item]


class DecisionRefsField(IndexedListField):
    """Numbers of decisions of the team, validated to the records themselves."""

    child = serializers.IntegerField(min_value=1)

    def to_internal_value(self, data) -> list[DecisionRecord]:
        numbers = list(dict.fromkeys(super().to_internal_value(data)))
        records = DecisionRecord.objects.for_team(self.context["team"]).filter(number__in=numbers)
        found = {record.number: record for record in records}
        missing = [f"There is no {madr.code(n)} in this team." for n in numbers if n not in found]
        if missing:
            raise serializers.ValidationError(missing)
        return [found[n] for n in numbers]


class WorkloadField(serializers.SlugRelatedField):
    """A workload of the team, by slug."""

    def __init__(self, **kwargs):
        messages = {
            "does_not_exist": "No workload '{value}' in this team.",
            "blank": "Give a workload's slug, or null for none.",
            "invalid": "Give a workload's slug as a string, or null for none.",
        }
        super().__init__(
            slug_field="slug", queryset=Workload.objects.none(), allow_null=True,
            required=False, error_messages=messages, **kwargs,
        )  # fmt: skip

    def get_queryset(self):
        return Workload.objects.for_team(self.context["team"])

    def run_validation(self, data=empty):
        # DRF's related fields read "" as null; the published schema says a slug or null.
        if data == "":
            self.fail("blank")
        return super().run_validation(data)

    def to_internal_value(self, data):
        # A slug is a string: 0 must not find the workload "0".
        if not isinstance(data, str):
            self.fail("invalid")
        # As CharField does: a NUL cannot be a slug, and PostgreSQL refuses it in a query.
        if "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.")
        return super().to_internal_value(data)


class NullableChoiceField(serializers.ChoiceField):
    """A choice stored blank and shown as null."""

    def to_representation(self, value):
        return value or None


class NumbersField(serializers.ListField):
    """The numbers of a relation's decisions, ascending whatever order it was fetched in."""

    child = serializers.IntegerField()

    def to_representation(self, related) -> list[int]:
        return sorted(record.number for record in related.all())


class ReasonsField(serializers.ListField):
    """The sentences of a decision's revisit reasons, oldest first."""

    child = serializers.CharField()

    def to_representation(self, related) -> list[str]:
        return [reason.text for reason in related.all()]


class RelatedLinkSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="How the link reads from this record: Amends, …")
    number = serializers.IntegerField()


@extend_schema_field(RelatedLinkSerializer(many=True))
class RelatedLinksField(serializers.Field):
    """A record's typed links to others (not supersession), read from this record: its own
    (`Amends 2`) and those pointing at it (`Amended by 5`), by number."""

    def to_representation(self, decision) -> list[dict]:
        return [{"kind": kind, "number": other.number} for kind, other in decision.related_links()]
