"""`POST /api/v1/roi/evaluate`: the ROI engine, stateless, for any authenticated caller."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from teams.api.serializers import ClosedSerializer
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


class RoiInputField(serializers.Field):
    """One §8 input: a JSON value of the spec's type, judged by the engine's own rules (the
    worksheet uses the same ones), published with the spec's type, bounds and help."""

    def __init__(self, spec: roi.FieldSpec, *, as_json: bool = False, **kwargs):
        self.spec = spec
        self.as_json = as_json  # JSON numbers out (stored parameters), not Decimals
        kwargs.setdefault("help_text", spec.help)
        kwargs["error_messages"] = {
            "required": "this field is required",
            "null": "this field may not be null",
        }
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        kind = self.spec.kind
        # JSON types only: "12" is a form's way of writing a number, not the API's.
        if kind in ("int", "decimal") and (
            isinstance(data, bool) or not isinstance(data, int | float)
        ):
            raise serializers.ValidationError("must be a number")
        if kind == "bool" and not isinstance(data, bool):
            raise serializers.ValidationError("must be true or false")
        if kind == "choice" and not isinstance(data, str):
            raise serializers.ValidationError(f"must be one of: {', '.join(self.spec.choices)}")
        try:
            value = roi.parse_value(self.spec, data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return roi.json_plain(value) if self.as_json else value

    def to_representation(self, value):
        return roi.json_plain(value)


class RoiInputFieldSchema(OpenApiSerializerFieldExtension):
    target_class = RoiInputField

    def map_serializer_field(self, auto_schema, direction):
        spec: roi.FieldSpec = self.target.spec
        if spec.kind == "bool":
            return {"type": "boolean"}
        if spec.kind == "choice":
            return {"type": "string", "enum": list(spec.choices)}
        schema: dict = {"type": "integer" if spec.kind == "int" else "number"}
        if spec.minimum is not None:
            # Fractions are rounded to 10 places, so "more than 0" starts at 1e-10.
            low = spec.minimum + (Decimal("1e-10") if spec.exclusive_minimum else 0)
            schema["minimum"] = roi.json_plain(low)
        if spec.maximum is not None:
            schema["maximum"] = roi.json_plain(spec.maximum)
        return schema


class RoiInputsSerializer(ClosedSerializer):
    """The §8 inputs of POST /api/v1/roi/evaluate; `inputs()` gives the engine's RoiInputs."""

    unknown_field_message = "unknown field"
    default_error_messages = {"invalid": "expected an object"}

    def get_fields(self) -> dict:
        return {
            spec.name: RoiInputField(spec, required=spec.required, allow_null=spec.nullable)
            for spec in roi.FIELDS
        }

    def inputs(self) -> roi.RoiInputs:
        defaults = {spec.name: spec.default for spec in roi.FIELDS if not spec.required}
        return roi.RoiInputs(**{**defaults, **self.validated_data})


class ApproachCostSerializer(serializers.Serializer):
    cost_per_request = serializers.FloatField()
    monthly_cost = serializers.FloatField()


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
        # One instance each: a field instance bound to two names keeps only the last.
        "prompt": ApproachCostSerializer(),
        "fine_tune": ApproachCostSerializer(),
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
        request=RoiInputsSerializer,
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
        serializer = RoiInputsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(roi.evaluate(serializer.inputs()).as_dict())
