"""The prompt registry's API shapes: every request is validated here (and published as such by
drf-spectacular); services take the validated values and trust them."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from jsonschema import Draft202012Validator, SchemaError
from rest_framework import serializers

from prompts import content as prompt_content
from prompts.checking import SLUG_RE
from prompts.models import LATEST, Kind
from prompts.sandbox import MAX_SOURCE_CHARS
from teams.api.serializers import (
    BooleanField,
    CharField,
    ChoiceField,
    FloatField,
    IntegerField,
    RegexField,
)

MAX_MESSAGES = 200
MAX_FEW_SHOT = 500
MAX_EXAMPLE_CHARS = 50_000
MAX_TAGS = 20
MAX_JSON_BYTES = 64 * 1024  # config, one JSON schema
MAX_JSON_DEPTH = 32
MAX_PLACEHOLDER_TURNS = 1_000
PLACEHOLDER_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
RESERVED_SLUGS = frozenset({"new", "import"})  # page URLs under /prompts/


def slug_field(max_length: int, **kwargs) -> RegexField:
    return RegexField(
        SLUG_RE.pattern,
        max_length=max_length,
        error_messages={
            "invalid": "Use lowercase letters, digits and hyphens (e.g. ticket-triage)."
        },
        **kwargs,
    )


def label_field(**kwargs) -> RegexField:
    return slug_field(
        50, help_text="production (the default), staging or any slug; `latest` is implicit.",
        **kwargs,
    )  # fmt: skip


def check_json(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse what JSON columns cannot store or pages should not hold: NUL characters (refused
    by PostgreSQL), non-finite numbers, nesting deeper than MAX_JSON_DEPTH."""
    if depth > MAX_JSON_DEPTH:
        raise serializers.ValidationError(
            f"{path or 'value'}: nested deeper than {MAX_JSON_DEPTH}."
        )
    if isinstance(value, str) and "\x00" in value:
        raise serializers.ValidationError(f"{path or 'value'}: NUL characters are not allowed.")
    if isinstance(value, float) and not math.isfinite(value):
        raise serializers.ValidationError(f"{path or 'value'}: numbers must be finite.")
    if isinstance(value, dict):
        for key, item in value.items():
            check_json(key, path, depth + 1)
            check_json(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{path}[{i}]", depth + 1)


def check_json_size(value: Any, what: str) -> None:
    if len(prompt_content.canonical_json(value)) > MAX_JSON_BYTES:
        raise serializers.ValidationError(f"{what} is larger than {MAX_JSON_BYTES // 1024} KB.")


def text_field(max_length: int = MAX_SOURCE_CHARS, **kwargs) -> CharField:
    # Whitespace is part of a prompt: never trimmed.
    return CharField(max_length=max_length, trim_whitespace=False, **kwargs)


# Errors -----------------------------------------------------------------------------------------

# The API's one error body (teams.api.errors), published once by teams.api.schema as "Error".
ERROR_BODY = {"$ref": "#/components/schemas/Error"}


# Templates --------------------------------------------------------------------------------------


class PromptGateSerializer(serializers.Serializer):
    enabled = BooleanField()
    metric = CharField(
        max_length=100, required=False, allow_blank=True,
        help_text="Benchmark score compared, e.g. accuracy or json_schema_valid.",
    )  # fmt: skip
    margin = FloatField(
        min_value=0, max_value=1, required=False,
        help_text="How much worse than production's score a version may be (0.02 = 2 points).",
    )  # fmt: skip


class PromptGateOutSerializer(PromptGateSerializer):
    metric = CharField()
    margin = FloatField()
    enforced = BooleanField(help_text="False until benchmark runs exist.")
    explanation = CharField()


class PromptTemplateWriteSerializer(serializers.Serializer):
    slug = slug_field(100)
    name = CharField(max_length=200)
    description = CharField(max_length=5_000, required=False, allow_blank=True)
    tags = serializers.ListField(child=slug_field(50), max_length=MAX_TAGS, required=False)
    protected_labels = serializers.ListField(
        child=label_field(), max_length=MAX_TAGS, required=False,
        help_text="Labels only team admins may move.",
    )  # fmt: skip
    gate = PromptGateSerializer(required=False)

    def validate_slug(self, value: str) -> str:
        if value in RESERVED_SLUGS:
            raise serializers.ValidationError(f"'{value}' names a page of the registry.")
        return value

    def validate_tags(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate_protected_labels(self, value: list[str]) -> list[str]:
        if LATEST in value:
            raise serializers.ValidationError("latest is implicit and cannot be protected.")
        return list(dict.fromkeys(value))


class PromptTemplateUpdateSerializer(PromptTemplateWriteSerializer):
    slug = None
    name = CharField(max_length=200, required=False)


class PromptTemplateSerializer(serializers.Serializer):
    slug = CharField()
    name = CharField()
    description = CharField()
    tags = serializers.ListField(child=CharField())
    protected_labels = serializers.ListField(child=CharField())
    gate = PromptGateOutSerializer()
    latest_version = IntegerField(allow_null=True)
    labels = serializers.DictField(child=IntegerField(), help_text="label → version number")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# Versions ---------------------------------------------------------------------------------------


class PromptMessageSerializer(serializers.Serializer):
    """A chat message `{role, content}` (content is a template), or a placeholder
    `{type: "placeholder", name}` that takes a list of messages at render time."""

    type = ChoiceField(choices=["message", "placeholder"], default="message")
    role = ChoiceField(choices=prompt_content.ROLES, required=False)
    content = text_field(required=False, allow_blank=True)
    name = RegexField(
        PLACEHOLDER_NAME, required=False, help_text="Placeholder name, e.g. history.",
        error_messages={"invalid": "Use letters, digits and _ (e.g. chat_history)."},
    )  # fmt: skip

    def validate(self, attrs: dict) -> dict:
        if attrs["type"] == "placeholder":
            if "name" not in attrs:
                raise serializers.ValidationError({"name": "A placeholder needs a name."})
            if "role" in attrs or "content" in attrs:
                raise serializers.ValidationError(
                    "A placeholder has a name, not a role or content."
                )
            return {"type": "placeholder", "name": attrs["name"]}
        missing = {
            key: "This field is required." for key in ("role", "content") if key not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        if "name" in attrs:
            raise serializers.ValidationError({"name": "Only placeholders have a name."})
        return {"role": attrs["role"], "content": attrs["content"]}


class PromptExampleSerializer(serializers.Serializer):
    input = text_field(MAX_EXAMPLE_CHARS, allow_blank=True)
    output = text_field(MAX_EXAMPLE_CHARS, allow_blank=True)


class PromptJsonSchemaSerializer(serializers.Serializer):
    name = RegexField(r"^[A-Za-z0-9_-]{1,64}$")
    schema = serializers.DictField(required=False, help_text="A JSON Schema.")
    strict = BooleanField(required=False)
    description = CharField(max_length=1_000, required=False)

    def validate_schema(self, value: dict) -> dict:
        check_json(value)
        check_json_size(value, "The schema")
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path)
            raise serializers.ValidationError(
                f"not a valid JSON Schema{f' at {where}' if where else ''}: {exc.message}"[:500]
            ) from None
        return value


class PromptResponseFormatSerializer(serializers.Serializer):
    type = ChoiceField(choices=["text", "json_object", "json_schema"])
    json_schema = PromptJsonSchemaSerializer(required=False)

    def validate(self, attrs: dict) -> dict:
        if attrs["type"] == "json_schema" and "json_schema" not in attrs:
            raise serializers.ValidationError({"json_schema": "Required when type is json_schema."})
        if attrs["type"] != "json_schema" and "json_schema" in attrs:
            raise serializers.ValidationError({"json_schema": "Only for type json_schema."})
        return attrs


class PromptConfigSerializer(serializers.Serializer):
    """Model parameters, versioned with the prompt. Keys other than these are kept as given."""

    temperature = FloatField(min_value=0, max_value=2, required=False)
    top_p = FloatField(min_value=0, max_value=1, required=False)
    max_tokens = IntegerField(min_value=1, max_value=1_000_000, required=False)
    response_format = PromptResponseFormatSerializer(required=False)

    def to_internal_value(self, data: Any) -> dict:
        known = super().to_internal_value(data)
        extra = {key: value for key, value in data.items() if key not in self.fields}
        try:
            check_json(extra)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"non_field_errors": exc.detail}) from None
        merged = {**extra, **known}
        check_json_size(merged, "config")
        return merged


@extend_schema_field(OpenApiTypes.OBJECT)
class AnyJsonObjectField(serializers.DictField):
    pass


class PromptVersionWriteSerializer(serializers.Serializer):
    kind = ChoiceField(choices=Kind.choices, default="chat")
    messages = PromptMessageSerializer(many=True, required=False, max_length=MAX_MESSAGES,
                                 help_text="For kind chat.")  # fmt: skip
    text = text_field(required=False, help_text="For kind text.")
    model = RegexField(
        r"^[A-Za-z0-9._:/@+-]+$", max_length=200,
        help_text="Model whose encoding counts the tokens, e.g. gpt-4o-mini.",
    )  # fmt: skip
    config = PromptConfigSerializer(required=False)
    few_shot = PromptExampleSerializer(many=True, required=False, max_length=MAX_FEW_SHOT)
    commit_message = CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        kind = attrs["kind"]
        if kind == "chat":
            if not attrs.get("messages"):
                raise serializers.ValidationError({"messages": "A chat prompt needs messages."})
            if "text" in attrs:
                raise serializers.ValidationError({"text": "Only text prompts have a text."})
            names = [m["name"] for m in attrs["messages"] if "name" in m]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise serializers.ValidationError(
                    {"messages": f"Placeholder names must differ: {', '.join(repeated)}."}
                )
        else:
            if not attrs.get("text", "").strip():
                raise serializers.ValidationError({"text": "A text prompt needs a text."})
            if attrs.get("messages"):
                raise serializers.ValidationError({"messages": "Only chat prompts have messages."})
        content = prompt_content.Content(
            kind=kind,
            messages=attrs.get("messages", []) if kind == "chat" else [],
            text=attrs.get("text", "") if kind == "text" else "",
            model=attrs["model"],
            config=attrs.get("config", {}),
            few_shot=attrs.get("few_shot", []),
        )
        try:
            prompt_content.analyze(content)
        except prompt_content.ContentInvalid as exc:
            raise serializers.ValidationError(_as_detail(exc.errors)) from None
        return {"content": content, "commit_message": attrs.get("commit_message", "")}


def _as_detail(errors: list[tuple[str, str]]) -> dict[str, list[str]]:
    detail: dict[str, list[str]] = {}
    for field, message in errors:
        detail.setdefault(field, []).append(message)
    return detail


class PromptReferenceSerializer(serializers.Serializer):
    reference = CharField(help_text='As written: "tone@production" or "tone v3".')
    slug = CharField()
    version = IntegerField()
    hash = CharField()


class PromptVersionSerializer(serializers.Serializer):
    version = IntegerField()
    hash = CharField(help_text="SHA-256 of the canonical JSON of the content.")
    kind = ChoiceField(choices=Kind.choices)
    messages = serializers.ListField(child=AnyJsonObjectField())
    text = CharField()
    model = CharField()
    config = AnyJsonObjectField()
    few_shot = PromptExampleSerializer(many=True)
    commit_message = CharField()
    author = CharField(help_text="A username, or `token <name>`.")
    created_at = serializers.DateTimeField()
    static_tokens = IntegerField(
        help_text="Tokens of the static part (system + few-shot + included prompts)."
    )
    variables = serializers.ListField(child=CharField())
    warnings = serializers.ListField(child=CharField())
    references = PromptReferenceSerializer(many=True, help_text="As resolved when saved.")
    labels = serializers.ListField(child=CharField())


class PromptVersionSavedSerializer(PromptVersionSerializer):
    created = BooleanField(help_text="False when the content equals the latest.")
    detail = CharField()


# Resolve and render -----------------------------------------------------------------------------


class PromptSelectorSerializer(serializers.Serializer):
    label = label_field(required=False)
    version = IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, help_text="Instead of a label."
    )

    def validate(self, attrs: dict) -> dict:
        if "label" in attrs and "version" in attrs:
            raise serializers.ValidationError("Give a label or a version, not both.")
        return attrs


class PromptQuerySerializer(PromptSelectorSerializer):
    """The selector as query parameters (`?version=3`): text that is a number."""

    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, help_text="Instead of a label."
    )


class ResolvedPromptSerializer(serializers.Serializer):
    slug = CharField()
    version = IntegerField()
    hash = CharField()
    kind = ChoiceField(choices=Kind.choices)
    messages = serializers.ListField(
        child=AnyJsonObjectField(), required=False, help_text="Chat prompts: references inlined."
    )
    text = CharField(required=False, help_text="Text prompts: references inlined.")
    model = CharField()
    config = AnyJsonObjectField()
    few_shot = PromptExampleSerializer(many=True)
    variables = serializers.ListField(child=CharField())
    labels = serializers.ListField(child=CharField())
    resolved = PromptReferenceSerializer(many=True)


class PromptTurnSerializer(serializers.Serializer):
    role = ChoiceField(choices=prompt_content.ROLES)
    content = text_field(max_length=None, allow_blank=True)


class PromptRenderSerializer(PromptSelectorSerializer):
    variables = serializers.DictField(child=serializers.JSONField(), required=False)
    placeholders = serializers.DictField(
        child=serializers.ListField(child=PromptTurnSerializer(), max_length=MAX_PLACEHOLDER_TURNS),
        required=False,
        help_text="placeholder name → messages inserted there",
    )


class RenderedPromptSerializer(serializers.Serializer):
    slug = CharField()
    version = IntegerField()
    hash = CharField()
    kind = ChoiceField(choices=Kind.choices)
    messages = PromptTurnSerializer(many=True, required=False)
    text = CharField(required=False)
    model = CharField()
    config = AnyJsonObjectField()
    resolved = PromptReferenceSerializer(many=True)
    unused_variables = serializers.ListField(
        child=CharField(), help_text="Given but not used by the template."
    )
    unused_placeholders = serializers.ListField(child=CharField())


# Labels -----------------------------------------------------------------------------------------


class PromptLabelMoveSerializer(serializers.Serializer):
    version = IntegerField(min_value=1, max_value=2**31 - 1)
    note = CharField(max_length=500, required=False, allow_blank=True)


class PromptLabelMoveOutSerializer(serializers.Serializer):
    from_version = IntegerField(allow_null=True)
    to_version = IntegerField()
    moved_by = CharField()
    moved_at = serializers.DateTimeField()
    note = CharField()


class PromptLabelSerializer(serializers.Serializer):
    label = CharField()
    version = IntegerField()
    protected = BooleanField()
    implicit = BooleanField(help_text="True for latest, which no one moves.")
    updated_at = serializers.DateTimeField(allow_null=True)
    history = PromptLabelMoveOutSerializer(many=True, help_text="Newest first.")


# Import -----------------------------------------------------------------------------------------

EXPORT_FORMAT = "crossover-prompt/1"


class PromptImportVersionSerializer(PromptVersionWriteSerializer):
    version = IntegerField(min_value=1)
    hash = RegexField(r"^[0-9a-f]{64}$", required=False)
    created_at = serializers.DateTimeField(required=False)
    author = CharField(max_length=200, required=False, allow_blank=True)

    def to_internal_value(self, data: Any) -> dict:
        # An export carries both shapes (canonical content): drop the other kind's empty one.
        if isinstance(data, dict):
            empty = {"chat": ("text", ""), "text": ("messages", [])}.get(data.get("kind"))
            if empty and data.get(empty[0]) == empty[1]:
                data = {key: value for key, value in data.items() if key != empty[0]}
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        data = super().validate(attrs)
        if "hash" in attrs and attrs["hash"] != data["content"].hash:
            raise serializers.ValidationError(
                {"hash": "does not match the content: the file was changed or is damaged."}
            )
        return {**data, "version": attrs["version"], "created_at": attrs.get("created_at")}


class PromptImportSerializer(PromptTemplateWriteSerializer):
    format = ChoiceField(choices=[EXPORT_FORMAT])
    versions = PromptImportVersionSerializer(many=True, min_length=1, max_length=1_000)
    labels = serializers.DictField(child=IntegerField(min_value=1), required=False)

    def validate(self, attrs: dict) -> dict:
        numbers = [item["version"] for item in attrs["versions"]]
        if numbers != list(range(1, len(numbers) + 1)):
            raise serializers.ValidationError({"versions": "Versions must be numbered 1, 2, 3 …"})
        labels = attrs.get("labels", {})
        for label, number in labels.items():
            if not SLUG_RE.match(label) or len(label) > 50 or label == LATEST:
                raise serializers.ValidationError({f"labels.{label}": "Not a label name."})
            if number > len(numbers):
                raise serializers.ValidationError(
                    {f"labels.{label}": f"There is no version {number}."}
                )
        return attrs
