"""The persona figures of a run's summary, per candidate (SPEC §7.5, issue item 7 shapes):
published by the persona run API and by the benchmark summary."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


def _estimate() -> dict:
    return {
        "value": serializers.FloatField(),
        "ci_low": serializers.FloatField(),
        "ci_high": serializers.FloatField(),
    }


def _robustness(name: str, **kwargs):
    family = inline_serializer(
        "RobustnessFamily", {**_estimate(), "attacks": serializers.IntegerField()}
    )
    return inline_serializer(
        name,
        {"overall": inline_serializer("RobustnessOverall", _estimate()),
         "families": serializers.DictField(child=family)},
        **kwargs,
    )  # fmt: skip


# One set of field objects, shared by the persona run API and the benchmark summary (DRF copies
# declared fields per serializer), so that each component is published once. Optional: a
# benchmark run that is not a persona run has none of them.
PERSONA_FIGURES = {
    "drift": inline_serializer(
        "DriftPoint",
        {"turn": serializers.IntegerField(), "adherence": serializers.FloatField(),
         "ci_low": serializers.FloatField(), "ci_high": serializers.FloatField()},
        many=True, required=False,
    ),
    "consistency": inline_serializer(
        "Consistency",
        {name: inline_serializer(f"Consistency{label}", _estimate(), allow_null=True)
         for name, label in (("short", "Short"), ("long", "Long"), ("edge_cases", "EdgeCases"))},
        required=False,
    ),
    "turn_usage": inline_serializer(
        "TurnUsage",
        {"turn": serializers.IntegerField(), "input_tokens": serializers.FloatField(),
         "output_tokens": serializers.FloatField(),
         "cost": serializers.FloatField(allow_null=True)},
        many=True, required=False,
    ),
    "robustness": _robustness("Robustness", allow_null=True, required=False),
}  # fmt: skip
PERSONA_RUN_INFO = inline_serializer(
    "PersonaRunInfo",
    {"slug": serializers.CharField(), "version": serializers.IntegerField(),
     "suite_hash": serializers.CharField(allow_null=True),
     "overlays": serializers.DictField(child=serializers.CharField())},
    required=False, help_text="Present in persona runs: the persona version scored against.",
)  # fmt: skip

PersonaFiguresSerializer = type("PersonaFiguresSerializer", (serializers.Serializer,),
                                dict(PERSONA_FIGURES))  # fmt: skip


class CandidateFiguresSerializer(PersonaFiguresSerializer):
    label = serializers.CharField()
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()
