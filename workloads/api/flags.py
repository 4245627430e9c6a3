"""GET /api/v1/flags — switch flags out (SPEC §6.1)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from teams.api.views import TeamAPIView
from workloads.models import FlagStatus, SwitchFlag
from workloads.services.flags import flag_as_dict

FLAG_FIELDS = {
    "id": serializers.IntegerField(),
    "workload": serializers.SlugField(),
    "from_approach": serializers.CharField(),
    "to_approach": serializers.CharField(),
    "status": serializers.ChoiceField(FlagStatus.values),
    "reasons": serializers.ListField(child=serializers.CharField()),
    "figures": serializers.DictField(),
    "assessment": serializers.IntegerField(allow_null=True),
    "decision": serializers.IntegerField(allow_null=True),
    "created_at": serializers.DateTimeField(),
    "resolved_at": serializers.DateTimeField(allow_null=True),
}


class FlagListView(TeamAPIView):
    read_scope = "decisions:read"

    @extend_schema(
        operation_id="flags_list",
        summary="List switch flags",
        description=(
            "Newest first. `status=open` lists the flags that ask for attention; "
            "`acknowledged` and `dismissed` flags are still live until the recommendation agrees "
            "with the current approach again, when they get `resolved_at`."
        ),
        parameters=[
            OpenApiParameter("status", enum=FlagStatus.values, required=False),
            OpenApiParameter("workload", str, description="workload slug", required=False),
        ],
        responses=inline_serializer("SwitchFlag", FLAG_FIELDS, many=True),
    )
    def get(self, request):
        flags = SwitchFlag.objects.for_team(self.team).select_related("workload", "decision")
        status = request.query_params.get("status")
        if status:
            if status not in FlagStatus.values:
                raise ValidationError(
                    {"status": [f"Must be one of {', '.join(FlagStatus.values)}."]}
                )
            flags = flags.filter(status=status)
        workload = request.query_params.get("workload")
        if workload:
            flags = flags.filter(workload__slug=workload)
        page = self.paginate_queryset(flags)
        return self.get_paginated_response([flag_as_dict(flag) for flag in page])
