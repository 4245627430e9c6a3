"""`/api/v1/datasets`: datasets, their items (imported all-or-nothing), splits and leakage."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from evaluations import selectors
from evaluations.api.common import ErrorSerializer, error_responses, service_error
from evaluations.dataset_files import Record, decode, parse_json_list, parse_jsonl
from evaluations.models import DESCRIPTION_MAX_LENGTH, Dataset, DatasetItem, Split, TaskKind
from evaluations.scoring import expected_label, schema_errors, schema_validator
from evaluations.services.datasets import dataset_create, dataset_items_add, dataset_split
from teams.api.errors import flatten_errors
from teams.api.parsers import RawJSONParser, check_json_value, raw_body
from teams.api.serializers import (
    CharField,
    ChoiceField,
    ClosedSerializer,
    FloatField,
    IntegerField,
    SlugField,
)
from teams.api.views import TeamAPIView

MAX_ITEMS_PER_IMPORT = 10_000
MAX_ERRORS_LISTED = 1_000
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/jsonlines")


# Items ------------------------------------------------------------------------------------------


class MessageSerializer(ClosedSerializer):
    role = ChoiceField(["system", "user", "assistant"])
    content = CharField(allow_blank=True, trim_whitespace=False, max_length=100_000)


class DatasetItemInputSerializer(ClosedSerializer):
    """One item to import; `context["dataset"]` is the dataset it joins."""

    input = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        default=dict,
        help_text="Template variables: {NAME: value}.",
    )
    expected = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The expected output: a label, a text, or a JSON value (extraction).",
    )
    split = ChoiceField(
        Split.values, required=False, allow_null=True, allow_blank=True, default=None,
        help_text="Leave out to assign it later by splitting the dataset.",
    )  # fmt: skip
    tags = serializers.ListField(
        child=SlugField(max_length=50), required=False, default=list, max_length=20
    )
    # A ListField, not many=True: with many=True, allow_null would also let null messages in.
    conversation = serializers.ListField(
        child=MessageSerializer(), required=False, allow_null=True, default=None, max_length=500,
        help_text="A multi-turn conversation: [{role, content}], for persona datasets.",
    )  # fmt: skip

    def validate_input(self, value: dict) -> dict:
        bad = [name for name in value if not VARIABLE_RE.match(name)]
        if bad:
            raise serializers.ValidationError(
                f"Variable names are letters, digits and _, not starting with a digit: {bad[0]!r}."
            )
        if len(value) > 100:
            raise serializers.ValidationError("At most 100 variables per item.")
        return value

    def validate_tags(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(tag.lower() for tag in value))

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("input") and not attrs.get("conversation"):
            raise serializers.ValidationError(
                {"input": ["Give input variables, a conversation, or both."]}
            )
        dataset: Dataset = self.context["dataset"]
        expected = attrs.get("expected")
        if expected is None:
            return attrs
        if dataset.task_kind == TaskKind.CLASSIFICATION and not expected_label(
            expected, dataset.label_field
        ):
            raise serializers.ValidationError(
                {
                    "expected": [
                        f"A label: a text, or an object with a {dataset.label_field!r} text."
                    ]
                }
            )
        schema_applies = dataset.task_kind == TaskKind.EXTRACTION and dataset.output_schema
        if schema_applies and not self.context["schema_check"](expected):
            raise serializers.ValidationError(
                {"expected": ["It does not satisfy the dataset's output schema."]}
            )
        return attrs


def check_records(
    dataset: Dataset, records: Sequence[Record]
) -> tuple[list[dict], list[dict[str, object]]]:
    """Validate parsed records for `dataset`: (valid items, errors as {line, field, message})."""
    context = {"dataset": dataset, "schema_check": _schema_check(dataset)}
    items, errors = [], []
    if len(records) > MAX_ITEMS_PER_IMPORT:
        message = f"At most {MAX_ITEMS_PER_IMPORT:,} items per import; split the file."
        return [], [{"line": None, "field": None, "message": message}]
    for record in records:
        if record.error:
            errors.append({"line": record.line, "field": None, "message": record.error})
            continue
        serializer = DatasetItemInputSerializer(data=record.data, context=context)
        if serializer.is_valid():
            items.append(serializer.validated_data)
        else:
            errors.extend({"line": record.line, **e} for e in flatten_errors(serializer.errors))
    return items, errors


def _schema_check(dataset: Dataset):
    if dataset.output_schema is None:
        return lambda value: True
    return schema_validator(dataset.output_schema)


class DatasetItemSerializer(serializers.ModelSerializer):
    split = serializers.SerializerMethodField()

    class Meta:
        model = DatasetItem
        fields = ["id", "position", "input", "expected", "split", "tags", "conversation",
                  "content_hash", "text_hash", "created_at"]  # fmt: skip

    def get_split(self, item: DatasetItem) -> str | None:
        return item.split or None


# Datasets ---------------------------------------------------------------------------------------


class DatasetWriteSerializer(ClosedSerializer):
    name = CharField(max_length=200)
    description = CharField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH
    )
    task_kind = ChoiceField(TaskKind.values)
    output_schema = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="A JSON Schema for outputs."
    )
    label_field = CharField(
        required=False,
        default="category",
        max_length=100,
        help_text="The JSON field of an output that holds its label (classification).",
    )

    def validate_output_schema(self, value):
        if value is None:
            return None
        problems = schema_errors(value)
        if problems:
            raise serializers.ValidationError(f"Not a valid JSON Schema: {problems[0]}")
        return value


SplitCountsSerializer = inline_serializer(
    "SplitCounts",
    {
        "train": serializers.IntegerField(),
        "validation": serializers.IntegerField(),
        "test": serializers.IntegerField(),
        "unassigned": serializers.IntegerField(),
    },
)


class DatasetSerializer(serializers.ModelSerializer):
    """A dataset from `selectors.datasets_with_counts` (its counts are annotations)."""

    item_count = serializers.IntegerField(read_only=True)
    splits = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "task_kind", "output_schema", "label_field",
                  "item_count", "splits", "created_at"]  # fmt: skip

    @extend_schema_field(SplitCountsSerializer)
    def get_splits(self, dataset: Dataset) -> dict[str, int]:
        counts = {split: getattr(dataset, f"{split}_count") for split in Split.values}
        return {**counts, "unassigned": dataset.unassigned_count}


LeakageSerializer = inline_serializer(
    "Leakage",
    {
        "clean": serializers.BooleanField(),
        "groups": serializers.IntegerField(help_text="Duplicate groups found in several splits."),
        "exact_groups": serializers.IntegerField(help_text="Of those, groups of identical items."),
        "items": serializers.IntegerField(help_text="Items in those groups."),
        "pairs": serializers.DictField(
            child=serializers.IntegerField(), help_text='Groups per pair of splits: "train/test".'
        ),
        "examples": inline_serializer(
            "LeakGroup",
            {
                "kind": serializers.ChoiceField(["exact", "normalised"]),
                "splits": serializers.ListField(child=serializers.CharField()),
                "items": serializers.ListField(child=serializers.IntegerField(), help_text="ids"),
            },
            many=True,
        ),
    },
)


class DatasetDetailSerializer(DatasetSerializer):
    tags = serializers.SerializerMethodField()
    leakage = serializers.SerializerMethodField()

    class Meta(DatasetSerializer.Meta):
        fields = [*DatasetSerializer.Meta.fields, "tags", "leakage"]

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_tags(self, dataset: Dataset) -> dict[str, int]:
        return selectors.tag_counts(dataset)

    @extend_schema_field(LeakageSerializer)
    def get_leakage(self, dataset: Dataset) -> dict:
        report = selectors.dataset_leakage(dataset)
        return {
            "clean": report.clean,
            "groups": report.groups,
            "exact_groups": report.exact_groups,
            "items": report.items,
            "pairs": report.pairs,
            "examples": [
                {"kind": g.kind, "splits": g.splits, "items": [i.pk for i in g.items]}
                for g in report.examples
            ],
        }


def _share() -> FloatField:
    return FloatField(min_value=0, max_value=1)


class SplitRequestSerializer(ClosedSerializer):
    train = _share()
    validation = _share()
    test = _share()
    seed = IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1)

    def validate(self, attrs: dict) -> dict:
        # Shares as decimals, so that 0.7 + 0.2 + 0.1 is exactly 1.
        shares = {split: Decimal(str(attrs[split])) for split in Split.values}
        if sum(shares.values()) != Decimal(1):
            raise serializers.ValidationError("train + validation + test must add up to 1.")
        return {**attrs, **shares}


# Views ------------------------------------------------------------------------------------------


class DatasetAPIView(TeamAPIView):
    read_scope = "evaluations:read"
    write_scope = "evaluations:write"

    def get_dataset(self) -> Dataset:
        queryset = selectors.datasets_with_counts(self.team)
        return get_object_or_404(queryset, pk=self.kwargs["pk"])


class DatasetListView(DatasetAPIView):
    serializer_class = DatasetSerializer

    @extend_schema(
        operation_id="datasets_list",
        summary="List the team's datasets with their item counts",
        tags=["datasets"],
        responses={200: DatasetSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.datasets_with_counts(self.team))
        return self.get_paginated_response(DatasetSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a dataset",
        tags=["datasets"],
        request=DatasetWriteSerializer,
        responses={201: DatasetSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = DatasetWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            dataset = dataset_create(
                team=self.team, created_by=self.actor, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        self.kwargs["pk"] = dataset.pk
        return Response(DatasetSerializer(self.get_dataset()).data, status=status.HTTP_201_CREATED)


class DatasetDetailView(DatasetAPIView):
    serializer_class = DatasetDetailSerializer

    @extend_schema(
        summary="One dataset: counts per split, tags and the leakage check",
        tags=["datasets"],
        responses={200: DatasetDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return Response(DatasetDetailSerializer(self.get_dataset()).data)


# One raw parser per JSON Lines media type in use (there is no registered one).
JSON_LINES_PARSERS = [
    type(f"RawJSONLinesParser{i}", (RawJSONParser,), {"media_type": media_type})
    for i, media_type in enumerate(JSONL_TYPES)
]


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True,
        help_text="Line of a JSON Lines body, or 1-based position in a JSON list; null for the "
        "whole body.",
    )
    field = serializers.CharField(allow_null=True, help_text="e.g. split, input.ticket, tags.0")
    message = serializers.CharField()


ImportResultSerializer = inline_serializer(
    "ImportResult",
    {"accepted": serializers.IntegerField(), "errors": ImportErrorSerializer(many=True)},
)
ImportRejectedSerializer = inline_serializer(
    "ImportRejected",
    {
        "detail": serializers.CharField(),
        "accepted": serializers.IntegerField(help_text="Always 0: nothing was stored."),
        "errors": ImportErrorSerializer(many=True),
    },
)
_ITEM_EXAMPLE = {
    "input": {"ticket": "I was charged twice this month"},
    "expected": "billing",
    "split": "test",
    "tags": ["edge-case"],
}


def _rejected(detail: str, errors: list[dict], code: int = status.HTTP_400_BAD_REQUEST):
    if len(errors) > MAX_ERRORS_LISTED:
        detail = f"{detail} {len(errors):,} errors; the first {MAX_ERRORS_LISTED:,} are listed."
        errors = errors[:MAX_ERRORS_LISTED]
    return Response({"detail": detail, "accepted": 0, "errors": errors}, status=code)


class UnsafeBody(ValueError):
    """Values the API's JSON parser refuses anywhere (NUL characters, depth, numbers no column
    holds), found in a body this view parses itself; `errors` as the import reports them."""

    def __init__(self, errors: list[dict]):
        super().__init__("unsafe values")
        self.errors = errors


def parse_body(content_type: str, body: bytes) -> list[Record]:
    """Records of a JSON list or JSON Lines body; ValueError when the body cannot be read,
    UnsafeBody when it holds what no endpoint accepts."""
    text = decode(body)
    if content_type in JSONL_TYPES:
        records = parse_jsonl(text)
        _check_values((record.line, record.data) for record in records)
        return records
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"The body is not valid JSON: {error}.") from None
    _check_values([(None, value)])
    return parse_json_list(value)


def _check_values(values) -> None:
    errors = []
    for line, value in values:
        try:
            check_json_value(value)
        except (ParseError, drf_exceptions.ValidationError) as exc:
            errors += [{"line": line, **error} for error in flatten_errors(exc.detail)]
    if errors:
        raise UnsafeBody(errors)


class _ItemFilters(serializers.Serializer):
    split = serializers.ChoiceField([*Split.values, "unassigned"], required=False)
    tag = serializers.SlugField(max_length=50, required=False, help_text="Items with this tag")


class DatasetItemsView(DatasetAPIView):
    parser_classes = [RawJSONParser, *JSON_LINES_PARSERS]
    serializer_class = DatasetItemSerializer

    @extend_schema(
        summary="The dataset's items, filtered by split and tag",
        tags=["datasets"],
        parameters=[_ItemFilters],
        responses={200: DatasetItemSerializer(many=True), **error_responses()},
    )
    def get(self, request, pk: int):
        dataset = self.get_dataset()
        # A dict, not the QueryDict: DRF reads an empty form value as "not given".
        params = _ItemFilters(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        split = params.validated_data.get("split")
        items = DatasetItem.objects.filter(dataset=dataset)
        if split:
            items = items.filter(split="" if split == "unassigned" else split)
        items = items.tagged(params.validated_data.get("tag")).order_by("position")
        page = self.paginate_queryset(items)
        return self.get_paginated_response(DatasetItemSerializer(page, many=True).data)

    @extend_schema(
        summary="Import items: a JSON list or JSON Lines; all are stored, or none",
        tags=["datasets"],
        request={
            "application/json": DatasetItemInputSerializer(many=True),
            "application/x-ndjson": OpenApiTypes.STR,
        },
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(
                ImportRejectedSerializer, description="Some items are invalid: none was stored."
            ),
            **error_responses(401, 403, 404, 413),
            415: OpenApiResponse(ErrorSerializer, description="Send JSON or JSON Lines."),
        },
        examples=[
            OpenApiExample("Two items", value=[_ITEM_EXAMPLE, _ITEM_EXAMPLE], request_only=True),
            OpenApiExample(
                "Rejected",
                value={
                    "detail": "Invalid input: nothing was stored.",
                    "accepted": 0,
                    "errors": [
                        {"line": 2, "field": "split", "message": '"dev" is not a valid choice.'}
                    ],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request, pk: int):
        # The body is judged before the dataset is looked up, like every other API body.
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        try:
            records = parse_body(content_type, raw_body(request))
        except UnsafeBody as unsafe:
            return _rejected("Invalid input: nothing was stored.", unsafe.errors)
        except ValueError as error:
            return _rejected("Invalid input: nothing was stored.",
                             [{"line": None, "field": None, "message": str(error)}])  # fmt: skip
        dataset = self.get_dataset()
        items, errors = check_records(dataset, records)
        if errors:
            return _rejected("Invalid input: nothing was stored.", errors)
        accepted = dataset_items_add(dataset=dataset, items=items)
        return Response({"accepted": accepted, "errors": []}, status=status.HTTP_201_CREATED)


class DatasetSplitView(DatasetAPIView):
    serializer_class = SplitRequestSerializer

    @extend_schema(
        summary="Assign every item a split by ratio, deterministically from a seed",
        tags=["datasets"],
        request=SplitRequestSerializer,
        responses={200: DatasetSerializer, **error_responses()},
        examples=[
            OpenApiExample(
                "80/10/10", value={"train": 0.8, "validation": 0.1, "test": 0.1, "seed": 42}
            )
        ],
    )
    def post(self, request, pk: int):
        dataset = self.get_dataset()
        serializer = SplitRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ratios = {split: data[split] for split in Split.values}
        dataset_split(dataset=dataset, ratios=ratios, seed=data["seed"])
        return Response(DatasetSerializer(self.get_dataset()).data)
