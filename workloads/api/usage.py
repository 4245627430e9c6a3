"""POST /api/v1/usage — usage metrics in (SPEC §6.1)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from teams.api.views import TeamAPIView
from workloads.services.usage import usage_ingest
from workloads.usage_ingest import MAX_ERRORS_LISTED, UsageInputError

MAX_BODY_BYTES = 16 * 2**20  # 5,000 generous records fit with room to spare


class RawJSONParser(BaseParser):
    """Leaves the body alone: the view validates the bytes in one fast pass."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


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


def _require_utf8_json(request) -> None:
    # The body bypasses DRF's parsers (see RawJSONParser), so check what they would have.
    django_request = request._request
    charset = django_request.content_params.get("charset", "utf-8").lower()
    if django_request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            request.content_type or "(none)",
            detail="Send the records as JSON: Content-Type: application/json (UTF-8).",
        )


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
        request=inline_serializer(
            "UsageRecord",
            {
                "workload": serializers.SlugField(),
                "period_start": serializers.DateTimeField(),
                "period_end": serializers.DateTimeField(),
                "requests": serializers.IntegerField(min_value=0),
                "input_tokens": serializers.IntegerField(min_value=0),
                "output_tokens": serializers.IntegerField(min_value=0),
                "approach": serializers.ChoiceField(
                    ["prompt", "fine-tune", "hybrid", "rag"], required=False
                ),
                "model": serializers.CharField(required=False, max_length=200),
                "latency_p50_ms": serializers.FloatField(required=False, min_value=0),
                "latency_p99_ms": serializers.FloatField(required=False, min_value=0),
                "format_errors": serializers.IntegerField(required=False, min_value=0),
                "cost_usd": serializers.FloatField(required=False, min_value=0),
                "id": serializers.CharField(required=False, max_length=100),
            },
        ),
        responses={
            201: inline_serializer(
                "UsageAccepted",
                {"accepted": serializers.IntegerField(), "duplicates": serializers.IntegerField()},
            ),
            415: inline_serializer(
                "UsageWrongMediaType",
                {
                    "detail": serializers.CharField(),
                    "errors": serializers.ListField(child=serializers.DictField()),
                },
            ),
            400: inline_serializer(
                "UsageErrors",
                {
                    "detail": serializers.CharField(),
                    "errors": serializers.ListField(child=serializers.DictField()),
                },
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
        _require_utf8_json(request)
        # Read the stream ourselves: 5,000 records can exceed DATA_UPLOAD_MAX_MEMORY_SIZE, which
        # is sized for forms; this endpoint has its own limit.
        stream = request.stream
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_BODY_BYTES:
            detail = f"The body exceeds {MAX_BODY_BYTES // 2**20} MB: send smaller batches."
            return Response(
                {"detail": detail, "errors": [{"index": None, "field": None, "message": detail}]},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            result = usage_ingest(team=self.team, body=body)
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
