"""REST API for decision records: /api/v1/decisions… (scopes decisions:read / decisions:write).

Field names are SPEC §6.3's. Validation and every write live in decisions.services.records;
these views parse, call one service and answer. A frozen body or an illegal transition is a
409 Conflict with the reason; bad fields are 400 with one error per field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from decisions.models import DecisionRecord, DecisionStatus
from decisions.services import records as svc
from teams.api.errors import flatten_errors
from teams.api.views import TeamAPIView
from workloads.models import Approach

# --- documentation shapes (validation is the service's) --------------------------------------


class ArgumentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["good", "neutral", "bad"])
    text = serializers.CharField()


class OptionSerializer(serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField(required=False)
    arguments = ArgumentSerializer(many=True, required=False)


class TriggerSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(svc.triggers.METRICS))
    comparator = serializers.ChoiceField(choices=list(svc.triggers.COMPARATORS))
    threshold = serializers.FloatField()


class EvidenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(svc.EVIDENCE_KINDS))
    id = serializers.IntegerField(help_text="Or the kind's natural key, e.g. workload + version.")
    label = serializers.CharField(read_only=True)


class DecisionWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    date = serializers.DateField(required=False)
    decision_makers = serializers.ListField(child=serializers.CharField(), required=False)
    consulted = serializers.ListField(child=serializers.CharField(), required=False)
    informed = serializers.ListField(child=serializers.CharField(), required=False)
    context_and_problem_statement = serializers.CharField(required=False)
    decision_drivers = serializers.ListField(child=serializers.CharField(), required=False)
    considered_options = OptionSerializer(many=True, required=False)
    chosen_option = serializers.CharField(required=False, help_text="Title of one option.")
    justification = serializers.CharField(required=False)
    consequences = serializers.CharField(required=False)
    confirmation = serializers.CharField(required=False)
    more_information = serializers.CharField(required=False)
    approach = serializers.ChoiceField(choices=Approach.values, required=False, allow_blank=True)
    workload = serializers.SlugField(required=False, allow_null=True, help_text="Workload slug.")
    evidence = EvidenceSerializer(many=True, required=False)
    revisit_triggers = TriggerSerializer(many=True, required=False)
    review_by = serializers.DateField(required=False, allow_null=True)
    supersedes = serializers.ListField(child=serializers.IntegerField(), required=False)
    note = serializers.CharField(required=False, help_text="Why: kept with the revision.")


class DecisionSerializer(DecisionWriteSerializer):
    number = serializers.IntegerField()
    code = serializers.CharField(help_text="ADR-0007")
    status = serializers.ChoiceField(choices=DecisionStatus.choices)
    superseded_by = serializers.ListField(child=serializers.IntegerField())
    needs_revisit = serializers.BooleanField()
    revisit_reasons = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DecisionStatus.choices)
    superseded_by = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="When superseding."
    )
    note = serializers.CharField(required=False)


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    author = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    note = serializers.CharField()
    snapshot = DecisionWriteSerializer()


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


# --- views ----------------------------------------------------------------------------------


def _service_error(exc: DjangoValidationError) -> Response:
    errors = flatten_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, svc.DecisionConflict):
        return Response(
            {"detail": errors[0]["message"], "errors": errors}, status=status.HTTP_409_CONFLICT
        )
    return Response({"detail": "Invalid input.", "errors": errors}, status=400)


def _body(request) -> tuple[dict, str]:
    if not isinstance(request.data, dict):
        raise ValidationError({"body": ["Send a JSON object."]})
    data = dict(request.data)
    note = data.pop("note", "") or ""
    if not isinstance(note, str):
        raise ValidationError({"note": ["Must be a string."]})
    return data, note


class DecisionAPIView(TeamAPIView):
    read_scope = "decisions:read"
    write_scope = "decisions:write"

    def get_decision(self, number: int) -> DecisionRecord:
        queryset = DecisionRecord.objects.for_team(self.team).filter(number=number)
        decision = svc.decisions_with_related(queryset).first()
        if decision is None:
            raise Http404(f"No decision {number} in this team.")
        return decision

    def respond(self, decision: DecisionRecord, code: int = 200) -> Response:
        fresh = self.get_decision(decision.number)
        return Response(svc.decision_data(fresh), status=code)


class DecisionListView(DecisionAPIView):
    @extend_schema(
        summary="List decision records",
        parameters=[
            OpenApiParameter("status", enum=DecisionStatus.values),
            OpenApiParameter("approach", enum=Approach.values),
            OpenApiParameter("workload", description="Workload slug"),
            OpenApiParameter("q", description="Text search (title, context, justification…)"),
        ],
        responses=DecisionSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        queryset = svc.decision_search(
            team=self.team,
            status=params.get("status", ""),
            approach=params.get("approach", ""),
            workload=params.get("workload", ""),
            q=params.get("q", ""),
        )
        page = self.paginate_queryset(svc.decisions_with_related(queryset))
        return self.get_paginated_response([svc.decision_data(d) for d in page])

    @extend_schema(
        summary="Create a draft decision (only title is required)",
        request=DecisionWriteSerializer,
        responses={201: DecisionSerializer},
        examples=[EXAMPLE],
    )
    def post(self, request):
        data, note = _body(request)
        try:
            decision = svc.decision_create(team=self.team, author=self.actor, data=data, note=note)
        except DjangoValidationError as exc:
            return _service_error(exc)
        return self.respond(decision, 201)


class DecisionDetailView(DecisionAPIView):
    @extend_schema(summary="One decision record", responses=DecisionSerializer)
    def get(self, request, number: int):
        return Response(svc.decision_data(self.get_decision(number)))

    @extend_schema(
        summary="Change fields (409 when the body is frozen after acceptance)",
        request=DecisionWriteSerializer,
        responses={200: DecisionSerializer},
    )
    def patch(self, request, number: int):
        decision = self.get_decision(number)
        data, note = _body(request)
        try:
            svc.decision_update(decision=decision, author=self.actor, data=data, note=note)
        except DjangoValidationError as exc:
            return _service_error(exc)
        return self.respond(decision)


class DecisionTransitionView(DecisionAPIView):
    @extend_schema(
        summary="Move along the status machine",
        description="draft → proposed → accepted | rejected; accepted → deprecated | "
        "superseded (name the successors in superseded_by, or set supersedes on them first).",
        request=TransitionSerializer,
        responses={200: DecisionSerializer},
        examples=[
            OpenApiExample("Accept", value={"status": "accepted"}, request_only=True),
            OpenApiExample(
                "Supersede", value={"status": "superseded", "superseded_by": [9]}, request_only=True
            ),
        ],
    )
    def post(self, request, number: int):
        decision = self.get_decision(number)
        data, note = _body(request)
        successors = data.get("superseded_by") or []
        if not isinstance(successors, list):
            successors = [successors]
        try:
            svc.decision_transition(
                decision=decision,
                author=self.actor,
                status=str(data.get("status") or ""),
                superseded_by=successors,
                note=note,
            )
        except DjangoValidationError as exc:
            return _service_error(exc)
        return self.respond(decision)


class DecisionRevisionsView(DecisionAPIView):
    @extend_schema(summary="Every revision, newest first", responses=RevisionSerializer(many=True))
    def get(self, request, number: int):
        decision = self.get_decision(number)
        revisions = decision.revisions.select_related("author").order_by("-number")
        page = self.paginate_queryset(revisions)
        return self.get_paginated_response(
            [
                {
                    "number": r.number,
                    "author": r.author.username if r.author else None,
                    "created_at": r.created_at.isoformat(),
                    "note": r.note,
                    "snapshot": r.snapshot,
                }
                for r in page
            ]
        )


class DecisionExportView(DecisionAPIView):
    @extend_schema(
        summary="The decision as a MADR 4 markdown file",
        responses={(200, "text/markdown"): OpenApiTypes.STR},
    )
    def get(self, request, number: int):
        name, text = svc.decision_export_markdown(self.get_decision(number))
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
