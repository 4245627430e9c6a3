"""POST /api/v1/usage — usage metrics in (SPEC §6.1)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from pydantic import TypeAdapter
from rest_framework import serializers, status
from rest_framework.response import Response

from teams.api.parsers import RawJSONParser, raw_body
from teams.api.views import TeamAPIView
from workloads.services.usage import usage_ingest
from workloads.usage_ingest import MAX_ERRORS_LISTED, MAX_RECORDS, UsageIn, UsageInputError

_RECORD_EXAMPLE = {
    "workload": "ticket-classifier",
    "period_start": "2026-03-01T10:00:00Z",
    "period_end": "2026-03-01T11:00:00Z",
    "requests": 1200,
    "input_tokens": 780000,
    "output_tokens": 36000,
    "approach": "prompt",
    "model": "gpt-4o-mini",
    "latency_p50_ms": 310,
    "latency_p99_ms": 720,
    "format_errors": 18,
    "cost_usd": 0.1386,
    "id": "ticket-classifier-2026-03-01T10",
}


def _openapi(node: object) -> object:
    """pydantic's JSON Schema (2020-12) in the schema's OpenAPI 3.0 terms: `nullable` instead
    of a null alternative, boolean exclusive bounds, no titles."""
    if isinstance(node, list):
        return [_openapi(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi(value) for key, value in node.items() if key != "title"}
    if "properties" in node:
        out["properties"] = {name: _openapi(value) for name, value in node["properties"].items()}
    options = out.get("anyOf", [])
    if len(options) == 2 and {"type": "null"} in options:
        del out["anyOf"]
        out = {**next(o for o in options if o != {"type": "null"}), **out, "nullable": True}
        if "enum" in out:  # an enum allows null only by listing it (OpenAPI 3.0.3)
            out["enum"] = [*out["enum"], None]
    for bound in ("Maximum", "Minimum"):
        if not isinstance(out.get(f"exclusive{bound}", True), bool):
            out[bound.lower()] = out.pop(f"exclusive{bound}")
            out[f"exclusive{bound}"] = True
    return out


# The request schema is the validator's own (usage_ingest.UsageIn), not a description of it.
RECORD_SCHEMA = _openapi(TypeAdapter(UsageIn).json_schema())
BODY_SCHEMA = {
    "oneOf": [
        RECORD_SCHEMA,
        {
            "type": "object",
            "properties": {
                "records": {
                    "type": "array",
                    "items": RECORD_SCHEMA,
                    "minItems": 1,
                    "maxItems": MAX_RECORDS,
                }
            },
            "required": ["records"],
            "additionalProperties": False,
        },
    ]
}


class UsageErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        allow_null=True,
        help_text="the record's position (0 for a single record); null for the body as a whole",
    )
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class UsageView(TeamAPIView):
    write_scope = "usage:write"
    parser_classes = [RawJSONParser]

    @extend_schema(
        operation_id="usage_push",
        summary="Push usage records",
        description=(
            'One record object, or `{"records": [...]}` with up to 5,000 records. All or '
            "nothing: any invalid record rejects the whole body with per-record errors. A record "
            "whose `id` the team already stored (or that repeats an id earlier in the same body) "
            "is counted as a duplicate and ignored, so retries are safe. Timestamps are ISO 8601; "
            "without an offset they are taken as UTC. Periods end after they start and span at "
            "most 31 days. Each workload that gains records is re-assessed shortly after."
        ),
        request={"application/json": BODY_SCHEMA},
        responses={
            201: inline_serializer(
                "UsageAccepted",
                {"accepted": serializers.IntegerField(), "duplicates": serializers.IntegerField()},
            ),
            400: OpenApiResponse(
                inline_serializer(
                    "UsageErrors",
                    {"detail": serializers.CharField(), "errors": UsageErrorSerializer(many=True)},
                ),
                description="Invalid records: each error names its record and field; nothing "
                "was stored.",
            ),
        },
        examples=[
            OpenApiExample("One record", value=_RECORD_EXAMPLE, request_only=True),
            OpenApiExample("A batch", value={"records": [_RECORD_EXAMPLE]}, request_only=True),
            OpenApiExample(
                "Accepted",
                value={"accepted": 1, "duplicates": 0},
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Rejected",
                value={
                    "detail": "Invalid input.",
                    "errors": [
                        {
                            "index": 3,
                            "field": "period_end",
                            "message": "Must be after period_start.",
                        }
                    ],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request):
        try:
            result = usage_ingest(team=self.team, body=raw_body(request))
        except UsageInputError as exc:
            errors = exc.errors
            detail = "Invalid input."
            if len(errors) > MAX_ERRORS_LISTED:
                detail = (
                    f"Invalid input: {len(errors):,} errors, the first {MAX_ERRORS_LISTED:,} "
                    "are listed."
                )
                errors = errors[:MAX_ERRORS_LISTED]
            return Response(
                {"detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)
