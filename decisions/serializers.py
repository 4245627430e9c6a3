"""The one schema of decision records: what a write may send and what a read returns.

The write serializers validate every way a record comes in — the API, the browser form, a
MADR import — and are what drf-spectacular publishes; services take their validated data as
typed keyword arguments and trust it. Field names are SPEC §6.3's. Errors carry paths such as
`considered_options[1].arguments[0].kind` once flattened by teams.api.errors.

Writes need `context={"team": team}`; an update passes the record as `instance` (and
`partial=True`), so that rules spanning fields (the chosen option is one of the options, a
record does not supersede itself) see what is stored.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from decisions import madr, triggers
from decisions.fields import (
    MAX_ARGUMENT,
    MAX_DESCRIPTION,
    MAX_ITEMS,
    MAX_RECORD_TEXT,
    DecisionRefsField,
    IsoDateField,
    LineField,
    LinesField,
    MarkdownField,
    NullableChoiceField,
    NumbersField,
    ReasonsField,
    RelatedLinksField,
    ThresholdField,
    WorkloadField,
)
from decisions.models import EVIDENCE_KINDS, DecisionRecord, DecisionStatus, EvidenceKind
from teams.api.errors import flatten_errors
from teams.api.serializers import CharField, ChoiceField, ClosedSerializer
from workloads.models import Approach

_READ_ONLY_FIELDS = ("number", "code", "needs_revisit", "revisit_reasons", "created_at",
                     "updated_at")  # fmt: skip
READ_ONLY = {
    "status": "Status changes go through the transition endpoint.",
    "related": "Related links come from imported files (Amends, Clarifies, …).",
    "status_text": "This field is read-only.",
    "source_name": "This field is read-only.",
    "superseded_by": "Set 'supersedes' on the newer decision, or transition this one to "
    "superseded.",
    **dict.fromkeys(_READ_ONLY_FIELDS, "This field is read-only."),
}


def _choices(what: str, values) -> dict[str, str]:
    known = ", ".join(values)
    return {"invalid_choice": f"Unknown {what} '{{input}}': use one of {known}."}


# --- nested shapes --------------------------------------------------------------------------


class IndexedListSerializer(serializers.ListSerializer):
    """Item errors as a list with one entry per item, so that they flatten to
    `considered_options[1].title` (DRF keys them by index); null is the empty list."""

    def run_validation(self, data=empty):
        return [] if data is None and self.allow_null else super().run_validation(data)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and detail and all(isinstance(k, int) for k in detail):
                detail = [detail.get(i, {}) for i in range(max(detail) + 1)]
            raise serializers.ValidationError(detail) from None


class StrictSerializer(ClosedSerializer):
    """Refuses keys it does not declare (a misspelt field must not be dropped silently), and the
    schema says so; list items' errors are indexed."""

    class Meta:
        list_serializer_class = IndexedListSerializer

    def unknown_field_error(self, name: str) -> str:
        return self.unknown_message(name)

    def unknown_message(self, key: str) -> str:
        return "Unknown field."

    def to_internal_value(self, data):
        errors = {}
        if (
            isinstance(data, Mapping)
            and self.root is not self
            and getattr(self.root, "partial", False)
        ):
            # DRF skips required keys under a partial update, nested ones included; but a PATCH
            # replaces a list whole, and each item still needs its required keys.
            errors = {
                name: [field.error_messages["required"]]
                for name, field in self.fields.items()
                if field.required and name not in data
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ArgumentSerializer(StrictSerializer):
    """One argument about an option: good, neutral or bad, because of `text`."""

    kind = ChoiceField(
        choices=madr.ARGUMENT_KINDS, error_messages=_choices("kind", madr.ARGUMENT_KINDS)
    )
    text = LineField(max_length=MAX_ARGUMENT)


class OptionSerializer(StrictSerializer):
    """A considered option with its description and arguments."""

    title = LineField(max_length=200)
    description = MarkdownField(max_length=MAX_DESCRIPTION)
    arguments = IndexedListSerializer(
        child=ArgumentSerializer(), required=False, allow_null=True, max_length=MAX_ITEMS
    )

    def validate(self, attrs) -> dict:
        # Stored whole, whatever was sent: every option has the three keys.
        return {
            "title": attrs["title"],
            "description": attrs.get("description", ""),
            "arguments": attrs.get("arguments", []),
        }


class TriggerSerializer(StrictSerializer):
    """A revisit trigger: `monthly_requests > 100000`."""

    metric = ChoiceField(
        choices=list(triggers.METRICS), error_messages=_choices("metric", triggers.METRICS)
    )
    comparator = ChoiceField(
        choices=list(triggers.COMPARATORS),
        error_messages=_choices("comparator", triggers.COMPARATORS),
    )
    threshold = ThresholdField()


class EvidenceRefSerializer(StrictSerializer):
    """A piece of evidence of the team, by id or by its natural key (what an export writes:
    workload + version for a worksheet, workload + created_at for an assessment, name +
    created_at for a benchmark run, fine_tuned_model (or created_at) for a fine-tune). Validates to
    the evidence object itself."""

    kind = ChoiceField(
        choices=EvidenceKind.choices, error_messages=_choices("evidence kind", EVIDENCE_KINDS)
    )
    id = serializers.IntegerField(required=False, min_value=1)
    workload = CharField(required=False, max_length=100)
    name = CharField(required=False, max_length=200, help_text="A benchmark run's name.")
    version = serializers.IntegerField(required=False, min_value=1)
    created_at = serializers.DateTimeField(required=False)
    fine_tuned_model = CharField(
        required=False, max_length=300, help_text="The model a fine-tune produced (finetune)."
    )
    label = CharField(required=False, help_text="Ignored: the label is computed.")

    def validate(self, attrs):
        spec = EVIDENCE_KINDS[attrs["kind"]]
        found = spec.model.objects.for_team(self.context["team"])
        found = found.filter(pk=attrs["id"]) if "id" in attrs else found.filter(spec.lookup(attrs))
        target = found.first()
        if target is None:
            raise serializers.ValidationError(f"No such {attrs['kind']} in this team.")
        return target


# --- writes ---------------------------------------------------------------------------------


def _list_of(serializer_class) -> IndexedListSerializer:
    return IndexedListSerializer(
        child=serializer_class(), required=False, allow_null=True, max_length=MAX_ITEMS
    )


class DecisionWriteSerializer(StrictSerializer):
    """A new decision (only `title` is required) or, with `partial=True`, changed fields."""

    title = LineField(max_length=200, error_messages={"required": "A title is required."})
    date = IsoDateField(required=False, allow_null=True, help_text="Today when empty.")
    decision_makers = LinesField(item_length=100)
    consulted = LinesField(item_length=100)
    informed = LinesField(item_length=100)
    context_and_problem_statement = MarkdownField()
    decision_drivers = LinesField()
    considered_options = _list_of(OptionSerializer)
    chosen_option = LineField(
        max_length=200, allow_blank=True, required=False, help_text="Title of one option."
    )
    justification = MarkdownField()
    consequences = MarkdownField()
    confirmation = MarkdownField()
    more_information = MarkdownField()
    approach = ChoiceField(
        choices=Approach.choices, allow_blank=True, allow_null=True, required=False,
        error_messages=_choices("approach", Approach.values),
    )  # fmt: skip
    workload = WorkloadField(help_text="Workload slug.")
    evidence = _list_of(EvidenceRefSerializer)
    revisit_triggers = _list_of(TriggerSerializer)
    review_by = IsoDateField(required=False, allow_null=True)
    supersedes = DecisionRefsField(help_text="Numbers of the decisions this one replaces.")
    note = CharField(
        max_length=300, allow_blank=True, required=False, help_text="Why: kept with the revision."
    )

    def unknown_message(self, key: str) -> str:
        return READ_ONLY.get(key, "Unknown field.")

    def validate_date(self, value):
        return value or timezone.localdate()

    def validate_approach(self, value) -> str:
        return value or ""

    def validate_considered_options(self, options: list[dict]) -> list[dict]:
        seen, errors = set(), []
        for option in options:
            taken = option["title"] in seen
            seen.add(option["title"])
            errors.append(
                {"title": [f"Another option is already called '{option['title']}'."]}
                if taken
                else {}
            )
        if any(errors):
            raise serializers.ValidationError(errors)
        return options

    def validate_supersedes(self, records: list[DecisionRecord]) -> list[DecisionRecord]:
        if self.instance is not None and self.instance in records:
            raise serializers.ValidationError(f"{self.instance.code} cannot supersede itself.")
        return records

    def to_internal_value(self, data):
        # The chosen option is checked even when other fields fail, so that one answer names
        # every problem.
        try:
            value, errors = super().to_internal_value(data), {}
        except serializers.ValidationError as exc:
            value, errors = None, dict(exc.detail)
        problem = self._chosen_option_problem(data) if "chosen_option" not in errors else ""
        if problem:
            errors["chosen_option"] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs) -> dict:
        size = record_text_size({**self._stored_texts(), **attrs})
        if size > MAX_RECORD_TEXT:
            raise serializers.ValidationError(
                f"The record's text is {size:,} characters: at most {MAX_RECORD_TEXT:,} in all "
                "fields together, so that its page and the log's search stay fast."
            )
        return attrs

    def _stored_texts(self) -> dict:
        if self.instance is None:
            return {}
        return {name: getattr(self.instance, name) for name in TEXT_FIELDS}

    def _chosen_option_problem(self, data) -> str:
        # An import keeps a chosen option that names none of the options, as written.
        if not isinstance(data, Mapping) or self.context.get("imported"):
            return ""
        stored = self.instance
        chosen = data.get("chosen_option", stored.chosen_option if stored else "")
        options = data.get("considered_options", stored.considered_options if stored else [])
        if not isinstance(options, list):
            return ""  # reported as the options' own error
        titles = [_line(o.get("title")) for o in options if isinstance(o, Mapping)]
        chosen = _line(chosen)
        if not chosen or chosen in titles:
            return ""
        listed = f" ({', '.join(titles)})." if titles else "; add it as an option first."
        return f"'{chosen}' is not one of the considered options{listed}"


TEXT_FIELDS = (
    "title", "context_and_problem_statement", "justification", "consequences", "confirmation",
    "more_information", "considered_options", "decision_drivers",
)  # fmt: skip


def record_text_size(values: Mapping) -> int:
    """Characters of a record's text, every field and option together."""
    size = 0
    for name in TEXT_FIELDS:
        value = values.get(name) or ""
        if name == "considered_options":
            for option in value:
                size += len(option["title"]) + len(option.get("description") or "")
                size += sum(len(argument["text"]) for argument in option.get("arguments") or [])
        elif name == "decision_drivers":
            size += sum(len(driver) for driver in value)
        else:
            size += len(value)
    return size


def _line(value) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


class TransitionSerializer(StrictSerializer):
    """A move along the status machine; `context["decision"]` is the record that moves."""

    status = ChoiceField(
        choices=DecisionStatus.choices, error_messages=_choices("status", DecisionStatus.values)
    )
    superseded_by = DecisionRefsField(help_text="When superseding: the successors' numbers.")
    note = CharField(max_length=300, allow_blank=True, required=False)

    def validate(self, attrs) -> dict:
        successors = attrs.get("superseded_by") or []
        if successors and attrs["status"] != DecisionStatus.SUPERSEDED:
            raise serializers.ValidationError(
                {"superseded_by": ["Only a transition to superseded names successors."]}
            )
        decision = self.context["decision"]
        if decision in successors:
            raise serializers.ValidationError(
                {"superseded_by": [f"{decision.code} cannot supersede itself."]}
            )
        return attrs


class RevisitClearSerializer(StrictSerializer):
    """Someone revisited the decision and keeps it, optionally with a new review-by date."""

    review_by = IsoDateField(required=False, allow_null=True)
    note = CharField(max_length=300, allow_blank=True, required=False)


# --- reads ----------------------------------------------------------------------------------


class EvidenceItemSerializer(serializers.Serializer):
    """A piece of evidence a decision cites: its kind, id, natural key and label."""

    kind = ChoiceField(choices=EvidenceKind.choices)
    id = serializers.IntegerField(source="target.pk")
    # Worksheets and assessments belong to a workload; a benchmark run has a name, a fine-tune
    # its model.
    workload = CharField(source="ref.workload", required=False)
    name = CharField(source="ref.name", required=False, help_text="A benchmark run's name.")
    version = serializers.IntegerField(source="ref.version", required=False)
    created_at = serializers.DateTimeField(source="ref.created_at", required=False)
    fine_tuned_model = CharField(source="ref.fine_tuned_model", required=False)
    label = CharField()


class DecisionSerializer(serializers.Serializer):
    """A decision record as the API returns it (fetched with
    decisions.selectors.decisions_with_related)."""

    number = serializers.IntegerField()
    code = CharField(help_text="ADR-0007")
    title = CharField()
    status = ChoiceField(choices=DecisionStatus.choices)
    status_text = CharField(
        help_text="The status as an imported file wrote it, when Crossover has no such status."
    )
    date = serializers.DateField(allow_null=True, help_text="Null when the source had none.")
    decision_makers = serializers.ListField(child=CharField())
    consulted = serializers.ListField(child=CharField())
    informed = serializers.ListField(child=CharField())
    context_and_problem_statement = CharField()
    decision_drivers = serializers.ListField(child=CharField())
    considered_options = OptionSerializer(many=True)
    chosen_option = CharField()
    justification = CharField()
    consequences = CharField()
    confirmation = CharField()
    more_information = CharField()
    approach = NullableChoiceField(choices=Approach.choices, allow_null=True)
    workload = CharField(source="workload.slug", allow_null=True)
    evidence = EvidenceItemSerializer(many=True, source="evidence_links.all")
    revisit_triggers = TriggerSerializer(many=True)
    review_by = serializers.DateField(allow_null=True)
    supersedes = NumbersField()
    superseded_by = NumbersField()
    related = RelatedLinksField(source="*")
    source_name = CharField(help_text="The file an imported record came from.")
    needs_revisit = serializers.BooleanField()
    revisit_reasons = ReasonsField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SnapshotEvidenceSerializer(EvidenceItemSerializer):
    # The natural key and label say what it was, even once the evidence is gone.
    id = None


class DecisionSnapshotSerializer(DecisionSerializer):
    """The record as a revision keeps it: its content, not its live state."""

    code = None
    evidence = SnapshotEvidenceSerializer(many=True, source="evidence_links.all")
    needs_revisit = None
    revisit_reasons = None
    created_at = None
    updated_at = None


@extend_schema_field(DecisionSnapshotSerializer)
class SnapshotField(serializers.JSONField):
    """A stored snapshot, returned as it was written by DecisionSnapshotSerializer."""


class RevisionSerializer(serializers.Serializer):
    """One immutable save of a decision: who, when, why, and the record as it was."""

    number = serializers.IntegerField()
    author = CharField(source="author.username", allow_null=True)
    created_at = serializers.DateTimeField()
    note = CharField()
    snapshot = SnapshotField()


def error_paths(errors) -> dict[str, list[str]]:
    """Serializer errors by field path (`considered_options[1].title`; `body` for the whole),
    for a form or an import report."""
    paths: dict[str, list[str]] = {}
    for error in flatten_errors(errors):
        paths.setdefault(error["field"] or "body", []).append(error["message"])
    return paths


def describe(paths: dict[str, list[str]]) -> str:
    """One line naming each field and its problem: `title: Must not be blank.; …`."""
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in paths.items())


def describe_error(exc) -> str:
    """One line naming each field and its problem, from a Django ValidationError."""
    return describe(exc.message_dict) if hasattr(exc, "error_dict") else " ".join(exc.messages)
