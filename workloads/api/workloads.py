"""`/api/v1/workloads` and `/api/v1/workloads/{slug}` (scopes decisions:read / decisions:write)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from teams.api.serializers import ClosedModelSerializer, ClosedSerializer
from teams.api.views import TeamAPIView
from workloads.api.flags import SwitchFlagSerializer
from workloads.api.roi import RoiInputField
from workloads.models import DESCRIPTION_MAX_LENGTH, Approach, Assessment, Workload
from workloads.selectors import workload_live_summary
from workloads.services.workloads import (
    NOT_PARAMETERS,
    PARAMETER_SPECS,
    POLICY_IS_A_FIELD,
    WORKLOAD_FIELDS,
    slug_problem,
    workload_create,
    workload_update,
)

PARAMETERS_HELP = (
    "ROI inputs under their SPEC §8 names (see POST /api/v1/roi/evaluate), all optional: "
    "planned monthly_requests/user_tokens/output_tokens until usage arrives, overheads, "
    "training and effort, SLAs, checklist answers, price overrides. Without a price override "
    "the price table prices `model`/`ft_model`. `policy` is the workload's own field."
)


class WorkloadParametersSerializer(ClosedSerializer):
    """The workload's §8 parameters, each under the engine's rules; null means "not set" (on
    PATCH: remove it). Out, the stored parameters as they are (never null)."""

    def get_fields(self) -> dict:
        return {
            spec.name: RoiInputField(spec, as_json=True, required=False, allow_null=True)
            for spec in PARAMETER_SPECS
        }

    def to_representation(self, instance: dict) -> dict:
        return dict(instance)

    def unknown_field_error(self, name: str) -> str:
        return POLICY_IS_A_FIELD if name in NOT_PARAMETERS else super().unknown_field_error(name)


class WorkloadSerializer(ClosedModelSerializer):
    """A workload; on create, its slug must be free in the team of the view in `context`."""

    parameters = WorkloadParametersSerializer(required=False, help_text=PARAMETERS_HELP)

    class Meta:
        model = Workload
        fields = [*WORKLOAD_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # The slug's rules (free in the team, not reserved) are validate_slug's.
        validators: list = []
        extra_kwargs = {
            "slug": {"validators": []},
            "description": {"max_length": DESCRIPTION_MAX_LENGTH},
        }

    def validate_slug(self, slug: str) -> str:
        if problem := slug_problem(self.context["view"].team, slug):
            raise ValidationError(problem)
        return slug


EXAMPLE = {
    "slug": "ticket-classifier",
    "name": "Support ticket classifier",
    "current_approach": "prompt",
    "policy": "sla_roi",
    "model": "gpt-4o-mini",
    "parameters": {
        "monthly_requests": 3000000,
        "user_tokens": 180,
        "prompt_overhead_tokens": 1800,
        "output_tokens": 40,
        "latency_sla_ms": 600,
        "format_error_threshold": 0.05,
        "dev_hours": 16,
    },
}


def _service_call(call, **kwargs) -> Workload:
    try:
        return call(**kwargs)
    except DjangoValidationError as exc:  # a concurrent create of the same slug won the race
        raise ValidationError(exc.message_dict) from None


def _set(parameters: dict) -> dict:
    # null means "not set": on create, the same as leaving it out.
    return {name: value for name, value in parameters.items() if value is not None}


class WorkloadListView(TeamAPIView):
    read_scope = "decisions:read"
    write_scope = "decisions:write"
    serializer_class = WorkloadSerializer

    def get_queryset(self):
        return Workload.objects.for_team(self.team).order_by("name", "pk")

    @extend_schema(
        operation_id="workloads_list",
        summary="List workloads",
        tags=["workloads"],
        responses={200: WorkloadSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Create a workload",
        tags=["workloads"],
        responses={201: WorkloadSerializer},
        examples=[OpenApiExample("JSON classifier", value=EXAMPLE, request_only=True)],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["parameters"] = _set(data.get("parameters", {}))
        workload = _service_call(workload_create, team=self.team, actor=self.actor, **data)
        return Response(self.get_serializer(workload).data, status=status.HTTP_201_CREATED)


class _AssessmentError(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class AssessmentSerializer(serializers.Serializer):
    """The API shape of an assessment (`assessment_as_dict`), for the schema."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    reason = serializers.ChoiceField(Assessment.Reason.choices)
    current_approach = serializers.ChoiceField(Approach.choices)
    recommendation = serializers.ChoiceField(
        Approach.choices, allow_null=True, help_text="null when the inputs were incomplete"
    )
    observed = serializers.DictField(help_text="What usage showed over the trailing window.")
    inputs = serializers.DictField(help_text="The §8 inputs used (see POST /api/v1/roi/evaluate).")
    outputs = serializers.DictField(help_text="The §8 outputs; empty when the inputs were invalid.")
    errors = _AssessmentError(many=True, help_text="Why the inputs were invalid, if they were.")


class WorkloadDetailSerializer(WorkloadSerializer):
    """One workload with its live state: the latest assessment and its open switch flags."""

    latest_assessment = serializers.SerializerMethodField()
    open_flags = serializers.SerializerMethodField()

    class Meta(WorkloadSerializer.Meta):
        fields = [*WorkloadSerializer.Meta.fields, "latest_assessment", "open_flags"]
        # The slug names the workload in usage records and API clients: it never changes.
        read_only_fields = [
            *WorkloadSerializer.Meta.read_only_fields,
            "slug",
            "latest_assessment",
            "open_flags",
        ]
        extra_kwargs = {"description": {"max_length": DESCRIPTION_MAX_LENGTH}}

    def unknown_field_error(self, name: str) -> str:
        if name == "slug":
            return "The slug cannot change: usage records and API clients refer to it."
        return super().unknown_field_error(name)

    def _summary(self, workload: Workload) -> dict:
        if getattr(self, "_live", None) is None:
            self._live = workload_live_summary(workload)
        return self._live

    @extend_schema_field(AssessmentSerializer(allow_null=True))
    def get_latest_assessment(self, workload: Workload) -> dict | None:
        return self._summary(workload)["latest_assessment"]

    @extend_schema_field(SwitchFlagSerializer(many=True))
    def get_open_flags(self, workload: Workload) -> list:
        return self._summary(workload)["open_flags"]


class WorkloadDetailView(TeamAPIView):
    read_scope = "decisions:read"
    write_scope = "decisions:write"
    serializer_class = WorkloadDetailSerializer

    def get_object(self) -> Workload:
        return get_object_or_404(Workload.objects.for_team(self.team), slug=self.kwargs["slug"])

    @extend_schema(summary="One workload", tags=["workloads"])
    def get(self, request, slug: str):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Change a workload",
        description=(
            "Only the fields sent change; the slug cannot. `parameters` is merged into the "
            "stored ones (JSON merge patch): a key set to null is removed, so the input falls "
            "back to its default, usage or the price table."
        ),
        tags=["workloads"],
        examples=[
            OpenApiExample(
                "New planned volume, drop the dev-hours estimate",
                value={"parameters": {"monthly_requests": 5000000, "dev_hours": None}},
                request_only=True,
            )
        ],
    )
    def patch(self, request, slug: str):
        workload = self.get_object()
        serializer = self.get_serializer(workload, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "parameters" in data:
            data["parameters"] = _set({**workload.parameters, **data["parameters"]})
        workload = workload_update(workload=workload, actor=self.actor, **data)
        return Response(self.get_serializer(workload).data)
