"""Builders shared by the decision-record tests."""

from __future__ import annotations

import copy

from rest_framework import serializers

from decisions.models import DecisionRecord
from decisions.serializers import DecisionWriteSerializer, error_paths
from decisions.services.records import decision_create, decision_update
from tests.factories import ACCEPTABLE_DECISION, WorkloadFactory
from workloads import roi
from workloads.models import Worksheet

# Seed 000's worked example, with effort figures so that fine-tuning can pay back.
WORKSHEET_INPUTS = {
    "monthly_requests": 500_000,
    "user_tokens": 50,
    "prompt_overhead_tokens": 1_500,
    "output_tokens": 200,
    "ft_overhead_tokens": 0,
    "input_price_per_1m": 2.5,
    "output_price_per_1m": 10,
    "ft_price_multiplier": 1.5,
    "training_examples": 1_000,
    "training_tokens_per_example": 500,
    "training_price_per_1m": 25,
    "dev_hours": 20,
    "latency_p99_ms": 720,
    "format_error_rate": 0.02,
    "consistency_critical": True,
    "labeled_examples": 1_200,
    "accuracy_target": 0.95,
}


def make_worksheet(workload, user=None, inputs=None, version=1) -> Worksheet:
    parsed = roi.parse_inputs(inputs or WORKSHEET_INPUTS)
    result = roi.evaluate(parsed)
    return Worksheet.objects.create(
        team=workload.team,
        workload=workload,
        version=version,
        inputs=parsed.as_dict(),
        outputs=result.as_dict(),
        recommendation=result.recommendation,
        justification="",
        author=user,
    )


def complete_data(**overrides) -> dict:
    """The body of a decision that can be accepted (as DecisionRecordFactory makes it)."""
    return copy.deepcopy(ACCEPTABLE_DECISION) | overrides


def validated(team, data: dict, decision: DecisionRecord | None = None) -> dict:
    """`data` (API field names) validated as the API validates a body."""
    serializer = DecisionWriteSerializer(
        decision, data=data, partial=decision is not None, context={"team": team}
    )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def create(team, user, data: dict, **extra) -> DecisionRecord:
    """A decision from API-shaped data, through the write schema and the service."""
    return decision_create(team=team, author=user, **validated(team, data), **extra)


def update(decision: DecisionRecord, user, data: dict, **extra) -> DecisionRecord:
    """Changes in API-shaped data, through the write schema and the service."""
    changes = validated(decision.team, data, decision)
    return decision_update(decision=decision, author=user, **changes, **extra)


def error_fields(exc: serializers.ValidationError) -> dict[str, list[str]]:
    """A schema refusal by field path (`considered_options[0].arguments[0].kind`)."""
    return error_paths(exc.detail)


def build_log(team, user, count: int, prefix: str = "workload") -> None:
    """`count` more decisions, each with a workload, worksheet evidence and superseding the
    previous one."""
    previous = DecisionRecord.objects.for_team(team).order_by("-number").first()
    for i in range(count):
        workload = WorkloadFactory(team=team, slug=f"{prefix}-{i}", name=f"{prefix} {i}")
        data = complete_data(title=f"Decision {prefix} {i}", workload=workload.slug)
        if previous is not None:
            data["supersedes"] = [previous.number]
        worksheet = make_worksheet(workload, user)
        data["evidence"] = [{"kind": "worksheet", "id": worksheet.pk}]
        previous = create(team, user, data)
