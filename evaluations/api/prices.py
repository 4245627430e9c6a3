"""`/api/v1/prices`: the model price table, and `/api/v1/prices/resolve` for the one lookup."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from evaluations.models import ModelPrice
from evaluations.pricing import DEFAULT_FT_MULTIPLIER, price_for
from evaluations.services.prices import (
    MODEL_NAME_MESSAGE,
    MODEL_NAME_RE,
    model_price_create,
    model_price_delete,
    model_price_update,
    model_taken,
)
from teams.api.serializers import ClosedModelSerializer, DecimalField
from teams.api.views import TeamAPIView


def _money(**extra) -> DecimalField:
    # The column's NUMERIC(12, 6); more places are rounded, prices are never negative.
    return DecimalField(
        max_digits=12,
        decimal_places=6,
        min_value=Decimal(0),
        error_messages={"min_value": "Prices cannot be negative."},
        **extra,
    )


class ModelPriceSerializer(ClosedModelSerializer):
    """A price row; written, its model must be free in the team of `context["team"]`."""

    input_per_1m = _money(help_text="USD per 1M input tokens (6 decimal places)")
    output_per_1m = _money(help_text="USD per 1M output tokens (6 decimal places)")
    training_per_1m = _money(required=False, allow_null=True, help_text="USD per 1M training "
                             "tokens; null when unknown")  # fmt: skip

    class Meta:
        model = ModelPrice
        fields = ["id", "model", "input_per_1m", "output_per_1m", "training_per_1m", "notes",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["id", "updated_at"]
        # One row per name in the team: validate_model's, with the team of the context.
        validators: list = []
        # The service's rule for names, published as the field's pattern.
        extra_kwargs = {
            "model": {
                "validators": [RegexValidator(MODEL_NAME_RE, MODEL_NAME_MESSAGE)],
                "trim_whitespace": False,
            }
        }

    def validate_model(self, model: str) -> str:
        exclude = getattr(self.instance, "pk", None)
        if problem := model_taken(self.context["team"], model, exclude_pk=exclude):
            raise ValidationError(problem)
        return model


def _service_errors(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class PriceListView(TeamAPIView):
    read_scope = "evaluations:read"
    write_scope = "evaluations:write"
    serializer_class = ModelPriceSerializer
    pagination_class = None

    @extend_schema(
        operation_id="prices_list",
        summary="List the team's model prices",
        tags=["prices"],
        responses={200: ModelPriceSerializer(many=True)},
    )
    def get(self, request):
        rows = ModelPrice.objects.for_team(self.team)
        return Response(ModelPriceSerializer(rows, many=True).data)

    @extend_schema(
        summary="Add a model price (exact name or * pattern)",
        tags=["prices"],
        responses={201: ModelPriceSerializer},
    )
    def post(self, request):
        serializer = ModelPriceSerializer(data=request.data, context={"team": self.team})
        serializer.is_valid(raise_exception=True)
        try:  # a concurrent insert of the same name may still win the race
            price = model_price_create(
                team=self.team, actor=self.actor, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        return Response(ModelPriceSerializer(price).data, status=status.HTTP_201_CREATED)


class PriceDetailView(TeamAPIView):
    read_scope = "evaluations:read"
    write_scope = "evaluations:write"
    serializer_class = ModelPriceSerializer

    def get_object(self):
        return get_object_or_404(ModelPrice.objects.for_team(self.team), pk=self.kwargs["pk"])

    @extend_schema(summary="One model price", tags=["prices"])
    def get(self, request, pk: int):
        return Response(ModelPriceSerializer(self.get_object()).data)

    @extend_schema(summary="Change a model price", tags=["prices"])
    def patch(self, request, pk: int):
        price = self.get_object()
        serializer = ModelPriceSerializer(
            price, data=request.data, partial=True, context={"team": self.team}
        )
        serializer.is_valid(raise_exception=True)
        try:
            price = model_price_update(price=price, actor=self.actor, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from None
        return Response(ModelPriceSerializer(price).data)

    @extend_schema(summary="Delete a model price", tags=["prices"], responses={204: None})
    def delete(self, request, pk: int):
        model_price_delete(price=self.get_object(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ResolveParams(serializers.Serializer):
    model = serializers.CharField(max_length=200, help_text="e.g. ft:gpt-4o-mini:acme:x")
    ft_multiplier = serializers.DecimalField(
        max_digits=8, decimal_places=4, min_value=0, required=False,
        help_text="Base price multiplier for ft: names [2]",
    )  # fmt: skip


class PriceResolveView(TeamAPIView):
    read_scope = "evaluations:read"

    @extend_schema(
        summary="Which row prices a model (exact, pattern, or fine-tune fallback)",
        tags=["prices"],
        parameters=[_ResolveParams],
        responses=inline_serializer(
            "ResolvedPrice",
            {
                "model": serializers.CharField(),
                "input_per_1m": serializers.FloatField(),
                "output_per_1m": serializers.FloatField(),
                "training_per_1m": serializers.FloatField(allow_null=True),
                "source": serializers.CharField(),
            },
        ),
    )
    def get(self, request):
        params = _ResolveParams(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        model = params.validated_data["model"]
        multiplier = params.validated_data.get("ft_multiplier", DEFAULT_FT_MULTIPLIER)
        price = price_for(self.team, model, ft_multiplier=multiplier)
        if price is None:
            raise ValidationError({"model": [f"No row or pattern prices {model}."]})
        return Response(
            {
                "model": price.model,
                "input_per_1m": price.input_per_1m,
                "output_per_1m": price.output_per_1m,
                "training_per_1m": price.training_per_1m,
                "source": price.source,
            }
        )
