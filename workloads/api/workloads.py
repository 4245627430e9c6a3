"""`/api/v1/workloads` and `/api/v1/workloads/{slug}` (scopes decisions:read / decisions:write)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from teams.api.views import TeamAPIView
from workloads.models import Workload
from workloads.selectors import workload_live_summary
from workloads.services.workloads import WORKLOAD_FIELDS, workload_create, workload_update

PARAMETERS_HELP = (
    "ROI inputs under their SPEC §8 names (see POST /api/v1/roi/evaluate), all optional: "
    "planned monthly_requests/user_tokens/output_tokens until usage arrives, overheads, "
    "training and effort, SLAs, checklist answers, price overrides. Without a price override "
    "the price table prices `model`/`ft_model`. `policy` is the workload's own field."
)


class WorkloadSerializer(serializers.ModelSerializer):
    """Shapes and types only; the rules (slug, choices, §8 parameters) are the service's."""

    parameters = serializers.DictField(required=False, help_text=PARAMETERS_HELP)

    class Meta:
        model = Workload
        fields = [*WORKLOAD_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness and choices are checked by the service, with the team it knows.
        validators: list = []
        extra_kwargs = {
            "slug": {"validators": []},
            "current_approach": {"help_text": "prompt | fine-tune | hybrid | rag"},
            "policy": {"help_text": "sla_roi | checklists | flowchart"},
        }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        errors = {name: ["Unknown field."] for name in sorted(set(data) - set(WORKLOAD_FIELDS))}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            errors.update(exc.detail)
        if errors:
            raise ValidationError(errors)
        return value


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
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None


class WorkloadListView(TeamAPIView):
    read_scope = "decisions:read"
    write_scope = "decisions:write"
    serializer_class = WorkloadSerializer

    def get_queryset(self):
        return Workload.objects.for_team(self.team).order_by("name", "pk")

    @extend_schema(operation_id="workloads_list", summary="List workloads", tags=["workloads"])
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Create a workload",
        tags=["workloads"],
        examples=[OpenApiExample("JSON classifier", value=EXAMPLE, request_only=True)],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workload = _service_call(
            workload_create, team=self.team, data=serializer.validated_data, actor=self.actor
        )
        return Response(self.get_serializer(workload).data, status=status.HTTP_201_CREATED)


class WorkloadDetailSerializer(WorkloadSerializer):
    """One workload with its live state: the latest assessment and its open switch flags."""

    latest_assessment = serializers.SerializerMethodField()
    open_flags = serializers.SerializerMethodField()

    class Meta(WorkloadSerializer.Meta):
        fields = [*WorkloadSerializer.Meta.fields, "latest_assessment", "open_flags"]
        read_only_fields = [
            *WorkloadSerializer.Meta.read_only_fields,
            "latest_assessment",
            "open_flags",
        ]

    def _summary(self, workload: Workload) -> dict:
        if getattr(self, "_live", None) is None:
            self._live = workload_live_summary(workload)
        return self._live

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_latest_assessment(self, workload: Workload) -> dict | None:
        return self._summary(workload)["latest_assessment"]

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
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
            merged = {**workload.parameters, **data["parameters"]}
            data["parameters"] = {k: v for k, v in merged.items() if v is not None}
        workload = _service_call(workload_update, workload=workload, data=data, actor=self.actor)
        return Response(self.get_serializer(workload).data)
