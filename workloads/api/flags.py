"""GET /api/v1/flags — switch flags out (SPEC §6.1)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from teams.api.serializers import CharField, ChoiceField
from teams.api.views import TeamAPIView
from workloads.models import Approach, FlagStatus, SwitchFlag
from workloads.services.flags import flag_as_dict


class SwitchFlagSerializer(serializers.Serializer):
    """The API shape of a flag (`flag_as_dict`), for the schema."""

    id = serializers.IntegerField()
    workload = serializers.SlugField(help_text="workload slug")
    from_approach = serializers.ChoiceField(Approach.choices)
    to_approach = serializers.ChoiceField(Approach.choices)
    status = serializers.ChoiceField(FlagStatus.choices)
    reasons = serializers.ListField(child=serializers.CharField())
    figures = serializers.DictField(help_text="The figures behind the flag (null when unknown).")
    assessment = serializers.IntegerField(allow_null=True, help_text="assessment id")
    decision = serializers.IntegerField(allow_null=True, help_text="decision number")
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class _FlagFilters(serializers.Serializer):
    status = ChoiceField(FlagStatus.choices, required=False)
    workload = CharField(required=False, max_length=60, help_text="workload slug")


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
        parameters=[_FlagFilters],
        responses=SwitchFlagSerializer(many=True),
    )
    def get(self, request):
        filters = _FlagFilters(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        flags = SwitchFlag.objects.for_team(self.team).select_related("workload", "decision")
        if status := filters.validated_data.get("status"):
            flags = flags.filter(status=status)
        if workload := filters.validated_data.get("workload"):
            flags = flags.filter(workload__slug=workload)
        page = self.paginate_queryset(flags)
        return self.get_paginated_response([flag_as_dict(flag) for flag in page])
