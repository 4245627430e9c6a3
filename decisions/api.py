"""REST API for decision records: /api/v1/decisions… (scopes decisions:read / decisions:write).

Field names are SPEC §6.3's. The serializers of decisions.serializers validate every body and
are what the schema publishes; each view calls one service with the validated data. Bad fields
are a 400 with one error per field path; a frozen body or an illegal transition is a 409 with
the reason; both in the error body of teams.api.errors.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from decisions import madr
from decisions.models import DecisionConflict, DecisionRecord, DecisionStatus
from decisions.selectors import decision_for_team, decision_search, decisions_in_order
from decisions.serializers import (
    DecisionSerializer,
    DecisionWriteSerializer,
    RevisionSerializer,
    TransitionSerializer,
)
from decisions.services.exports import decision_export_markdown
from decisions.services.records import decision_create, decision_update
from decisions.services.status import decision_transition
from teams.api.errors import error_body, flatten_errors
from teams.api.serializers import CharField, ChoiceField
from teams.api.views import TeamAPIView
from workloads.models import Approach

# Every operation also documents the error statuses of the shared mechanisms (400, 401, 403,
# 404, 413, 415, 429, 503: teams.api.schema.document_errors) with the same body.
CONFLICT = {
    409: OpenApiResponse(
        {"$ref": "#/components/schemas/Error"},
        description="The record's state forbids it: a frozen body, an illegal transition, a "
        "supersession cycle. `detail` says why.",
    )
}


EXAMPLE = OpenApiExample(
    "A draft",
    value={
        "title": "Run ticket-classifier on a fine-tuned model",
        "workload": "ticket-classifier",
        "approach": "fine-tune",
        "considered_options": [
            {"title": "Prompt engineering", "arguments": [{"kind": "bad", "text": "slow p99"}]},
            {"title": "Fine-tuned model", "arguments": [{"kind": "good", "text": "pays back"}]},
        ],
        "chosen_option": "Fine-tuned model",
        "revisit_triggers": [{"metric": "monthly_requests", "comparator": "<", "threshold": 10000}],
    },
    request_only=True,
)


def _service_error(exc: DjangoValidationError) -> Response:
    """A service's refusal (a rule about the record's state) in the API's error body."""
    errors = flatten_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, DecisionConflict):
        return Response(error_body(errors[0]["message"], errors), status=status.HTTP_409_CONFLICT)
    return Response(error_body("Invalid input.", errors), status=status.HTTP_400_BAD_REQUEST)


class FlavorNegotiation(DefaultContentNegotiation):
    """On the export views `?format=` names the markdown flavor, not a renderer (DRF's
    URL_FORMAT_OVERRIDE would answer 404 to `?format=nygard`): responses are JSON or files."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return super().select_renderer(request, renderers, format_suffix="json")


class DecisionAPIView(TeamAPIView):
    """The decision records of the caller's team."""

    read_scope = "decisions:read"
    write_scope = "decisions:write"

    def get_decision(self, number: int) -> DecisionRecord:
        decision = decision_for_team(self.team, number)
        if decision is None:
            raise NotFound(f"No decision {number} in this team.")
        return decision

    def validated(self, serializer_class, **kwargs) -> tuple[dict, str]:
        """The request body validated by `serializer_class`, and its note."""
        kwargs.setdefault("context", {}).update(team=self.team)
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        return data, data.pop("note", "")

    def respond(self, decision: DecisionRecord, code: int = 200) -> Response:
        fresh = self.get_decision(decision.number)
        return Response(DecisionSerializer(fresh).data, status=code)


class ExportParamsSerializer(serializers.Serializer):
    format = ChoiceField(choices=madr.FLAVORS, default="madr4")


class DecisionFilterSerializer(serializers.Serializer):
    """The decision log's filters; a value outside them is a 400, not an empty page."""

    status = ChoiceField(choices=DecisionStatus.choices, required=False)
    approach = ChoiceField(choices=Approach.choices, required=False)
    workload = CharField(required=False, max_length=60, help_text="Workload slug")
    q = CharField(
        required=False, max_length=200, help_text="Text search (title, context, justification…)"
    )


class DecisionListView(DecisionAPIView):
    @extend_schema(
        summary="List decision records",
        description="The team's decision log, newest number first, filtered and searched.",
        parameters=[DecisionFilterSerializer],
        responses={200: DecisionSerializer(many=True)},
    )
    def get(self, request):
        # A plain dict: DRF reads an empty value of a QueryDict as "not given".
        filters = DecisionFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        found = decision_search(team=self.team, **filters.validated_data)
        ids = self.paginate_queryset(found.values_list("pk", flat=True))
        page = decisions_in_order(self.team, ids, full=True)
        return self.get_paginated_response(DecisionSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a draft decision (only title is required)",
        description="Stores the draft with the team's next number and its first revision.",
        request=DecisionWriteSerializer,
        responses={201: DecisionSerializer},
        examples=[EXAMPLE],
    )
    def post(self, request):
        fields, note = self.validated(DecisionWriteSerializer)
        try:
            decision = decision_create(team=self.team, author=self.actor, note=note, **fields)
        except DjangoValidationError as exc:
            return _service_error(exc)
        return self.respond(decision, 201)


class DecisionDetailView(DecisionAPIView):
    @extend_schema(
        summary="One decision record",
        description="The record by its number, with evidence, links and revisit state.",
        responses={200: DecisionSerializer},
    )
    def get(self, request, number: int):
        return Response(DecisionSerializer(self.get_decision(number)).data)

    @extend_schema(
        summary="Change fields (409 when the body is frozen after acceptance)",
        description="Only the fields sent change; each change is a revision. Once accepted, "
        "only the revisit triggers, review-by date, supersession links and evidence change.",
        request=DecisionWriteSerializer,
        responses={200: DecisionSerializer, **CONFLICT},
    )
    def patch(self, request, number: int):
        decision = self.get_decision(number)
        changes, note = self.validated(DecisionWriteSerializer, instance=decision, partial=True)
        try:
            decision_update(decision=decision, author=self.actor, note=note, **changes)
        except DjangoValidationError as exc:
            return _service_error(exc)
        return self.respond(decision)


class DecisionTransitionView(DecisionAPIView):
    @extend_schema(
        summary="Move along the status machine",
        description="draft → proposed → accepted | rejected; accepted → deprecated | "
        "superseded (name the successors in superseded_by, or set supersedes on them first).",
        request=TransitionSerializer,
        responses={200: DecisionSerializer, **CONFLICT},
        examples=[
            OpenApiExample("Accept", value={"status": "accepted"}, request_only=True),
            OpenApiExample(
                "Supersede", value={"status": "superseded", "superseded_by": [9]}, request_only=True
            ),
        ],
    )
    def post(self, request, number: int):
        decision = self.get_decision(number)
        move, note = self.validated(TransitionSerializer, context={"decision": decision})
        try:
            decision_transition(decision=decision, author=self.actor, note=note, **move)
        except DjangoValidationError as exc:
            return _service_error(exc)
        return self.respond(decision)


class DecisionRevisionsView(DecisionAPIView):
    @extend_schema(
        summary="Every revision, newest first",
        description="Who changed what and why: each revision keeps the full record as it was.",
        responses={200: RevisionSerializer(many=True)},
    )
    def get(self, request, number: int):
        decision = self.get_decision(number)
        revisions = decision.revisions.select_related("author").order_by("-number")
        page = self.paginate_queryset(revisions)
        return self.get_paginated_response(RevisionSerializer(page, many=True).data)


class DecisionExportView(DecisionAPIView):
    content_negotiation_class = FlavorNegotiation

    @extend_schema(
        operation_id="decisions_export_markdown",
        summary="The decision as a markdown file (MADR 4, Nygard or Log4brains)",
        description="`madr4` (default): YAML front matter with MADR's fields and Crossover's "
        "under `crossover:`; `nygard`: what adr-tools reads; `log4brains`: MADR 2's header list.",
        parameters=[ExportParamsSerializer],
        responses={(200, "text/markdown"): OpenApiTypes.STR},
    )
    def get(self, request, number: int):
        params = ExportParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        flavor = params.validated_data["format"]
        name, text = decision_export_markdown(self.get_decision(number), flavor)
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
