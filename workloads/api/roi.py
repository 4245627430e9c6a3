"""`POST /api/v1/roi/evaluate`: the ROI engine, stateless, for any authenticated caller."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from teams.api.errors import validation_error_response
from teams.api.views import StatelessAPIView
from workloads import roi
from workloads.models import Approach

# Seed 000's persona assistant: prompting costs $101.25/month, fine-tuning $127.50.
WORKED_EXAMPLE = {
    "monthly_requests": 500_000,
    "user_tokens": 50,
    "prompt_overhead_tokens": 500,
    "output_tokens": 200,
    "input_price_per_1m": 0.15,
    "output_price_per_1m": 0.60,
    "ft_price_multiplier": 2,
}


def _schema_field(spec: roi.FieldSpec) -> serializers.Field:
    """Documentation only: validation is roi.parse_inputs, which reports every error at once."""
    common = {"help_text": spec.help, "required": spec.required}
    if not spec.required:
        common["allow_null"] = spec.nullable
    if spec.kind == "bool":
        return serializers.BooleanField(**common)
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=spec.choices, **common)
    if spec.kind == "int":
        return serializers.IntegerField(min_value=0, **common)
    return serializers.FloatField(min_value=0, **common)


RoiInputsSchema = inline_serializer(
    "RoiInputs", {spec.name: _schema_field(spec) for spec in roi.FIELDS}
)
_cost = inline_serializer(
    "ApproachCost",
    {"cost_per_request": serializers.FloatField(), "monthly_cost": serializers.FloatField()},
)
_verdict = inline_serializer(
    "Verdict",
    {
        "verdict": serializers.ChoiceField(choices=Approach.choices),
        "reasons": serializers.ListField(child=serializers.CharField()),
    },
)
RoiResultSchema = inline_serializer(
    "RoiResult",
    {
        "prompt": _cost,
        "fine_tune": _cost,
        "training_cost": serializers.FloatField(),
        "investment": serializers.FloatField(),
        "monthly_savings": serializers.FloatField(),
        "payback_months": serializers.FloatField(allow_null=True),
        "break_even_requests": serializers.FloatField(allow_null=True),
        "crossover_monthly_requests": serializers.FloatField(allow_null=True),
        "monthly_tokens": serializers.FloatField(),
        "verdicts": serializers.DictField(child=_verdict),
        "recommendation": serializers.ChoiceField(choices=Approach.choices),
        "recommendation_reasons": serializers.ListField(child=serializers.CharField()),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)


class RoiEvaluateView(StatelessAPIView):
    """Not team-scoped: it reads and stores nothing, so any valid token or session may call it."""

    @extend_schema(
        operation_id="roi_evaluate",
        summary="Evaluate prompt engineering vs fine-tuning (SPEC §8)",
        description=(
            "Stateless. Send the §8 inputs as a JSON object; unknown keys, missing required "
            "inputs, non-numbers, negatives, bad choices and a horizon ≤ 0 are all reported "
            "at once as 400 with one error per field. Money is USD, figures are JSON numbers "
            "rounded half-even; null means 'never' (e.g. no payback)."
        ),
        tags=["roi"],
        request=RoiInputsSchema,
        responses={200: RoiResultSchema},
        examples=[
            OpenApiExample(
                "Seed 000: persona prompt vs fine-tuned persona",
                value=WORKED_EXAMPLE,
                request_only=True,
            ),
            OpenApiExample(
                "Seed 000: fine-tuning costs more per month ($127.50 vs $101.25)",
                value=roi.evaluate(roi.parse_inputs(WORKED_EXAMPLE)).as_dict(),
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        try:
            inputs = roi.parse_inputs(request.data)
        except roi.RoiInputError as exc:
            # The API's convention for an error about the body as a whole is field null.
            errors = [
                {**e, "field": None if e["field"] == "non_field_errors" else e["field"]}
                for e in exc.errors
            ]
            return validation_error_response(errors)
        return Response(roi.evaluate(inputs).as_dict())
