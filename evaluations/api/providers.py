"""`/api/v1/providers`: OpenAI-compatible endpoints, their keys (write-only), a connection test."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from evaluations.api.common import error_responses, service_error
from evaluations.models import Provider
from evaluations.services.providers import (
    provider_create,
    provider_delete,
    provider_test_connection,
    provider_update,
    validate_base_url,
    validate_key_env,
)
from teams.api.serializers import BooleanField, CharField, ClosedModelSerializer, URLField
from teams.api.views import TeamAPIView


def _django_rule(rule):
    def check(value: str) -> str:
        try:
            return rule(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    return check


class ProviderSerializer(ClosedModelSerializer):
    base_url = URLField(
        max_length=500,
        validators=[_django_rule(validate_base_url)],
        help_text="OpenAI-compatible base URL, e.g. https://api.openai.com/v1",
    )
    api_key = CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        style={"input_type": "password"},
        help_text="Stored encrypted and never shown back. On PATCH, leave it out to keep the "
        "stored key.",
    )
    api_key_env = CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        validators=[_django_rule(validate_key_env)],
        help_text="Or: the server environment variable holding the key (one the operator "
        "allows in PROVIDER_KEY_ENV_VARS).",
    )
    clear_api_key = BooleanField(
        write_only=True, required=False, default=False, help_text="Forget the stored key."
    )
    api_key_source = serializers.ChoiceField(
        choices=["stored", "environment", "none"], read_only=True
    )
    models = serializers.ListField(
        child=serializers.CharField(),
        source="available_models",
        read_only=True,
        help_text="Models found by the last connection test.",
    )

    class Meta:
        model = Provider
        fields = ["id", "name", "base_url", "api_key", "api_key_env", "clear_api_key",
                  "api_key_source", "is_simulated", "models", "checked_at", "check_error",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["id", "is_simulated", "checked_at", "check_error", "created_at",
                            "updated_at"]  # fmt: skip
        validators: list = []  # the name is unique per team: checked by the service

    def validate(self, attrs: dict) -> dict:
        if attrs.get("api_key") and attrs.get("api_key_env"):
            raise serializers.ValidationError(
                {"api_key": ["Give the key or the name of a variable holding it, not both."]}
            )
        return attrs


ConnectionCheckSerializer = inline_serializer(
    "ConnectionCheck",
    {
        "ok": serializers.BooleanField(),
        "models": serializers.ListField(child=serializers.CharField()),
        "simulated": serializers.BooleanField(),
        "latency_ms": serializers.FloatField(allow_null=True),
        "error": serializers.CharField(help_text="Empty when ok."),
    },
)


class ProviderAPIView(TeamAPIView):
    read_scope = "evaluations:read"
    write_scope = "evaluations:write"
    serializer_class = ProviderSerializer
    pagination_class = None

    def get_object(self) -> Provider:
        return get_object_or_404(Provider.objects.for_team(self.team), pk=self.kwargs["pk"])


class ProviderListView(ProviderAPIView):
    @extend_schema(
        operation_id="providers_list",
        summary="List the team's providers",
        tags=["providers"],
        responses={200: ProviderSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(ProviderSerializer(Provider.objects.for_team(self.team), many=True).data)

    @extend_schema(
        summary="Add a provider (OpenAI-compatible base URL and an API key)",
        tags=["providers"],
        responses={201: ProviderSerializer, **error_responses(400, 401, 403)},
    )
    @method_decorator(sensitive_variables("data", "serializer"))
    def post(self, request):
        serializer = ProviderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            provider = provider_create(
                team=self.team,
                name=data["name"],
                base_url=data["base_url"],
                api_key=data.get("api_key", ""),
                api_key_env=data.get("api_key_env", ""),
            )
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)


class ProviderDetailView(ProviderAPIView):
    @extend_schema(
        summary="One provider",
        tags=["providers"],
        responses={200: ProviderSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return Response(ProviderSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change a provider (a left-out api_key keeps the stored one)",
        tags=["providers"],
        responses={200: ProviderSerializer, **error_responses()},
    )
    @method_decorator(sensitive_variables("data", "serializer"))
    def patch(self, request, pk: int):
        provider = self.get_object()
        serializer = ProviderSerializer(provider, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            provider = provider_update(
                provider=provider,
                name=data.get("name", provider.name),
                base_url=data.get("base_url", provider.base_url),
                api_key=data.get("api_key", ""),
                api_key_env=data.get("api_key_env", provider.api_key_env),
                clear_api_key=data.get("clear_api_key", False),
            )
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        return Response(ProviderSerializer(provider).data)

    @extend_schema(
        summary="Delete a provider (refused while benchmark runs use it)",
        tags=["providers"],
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, pk: int):
        try:
            provider_delete(provider=self.get_object())
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProviderTestView(ProviderAPIView):
    @extend_schema(
        summary="Test the connection: list the provider's models",
        tags=["providers"],
        request=None,
        responses={200: ConnectionCheckSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request, pk: int):
        check = provider_test_connection(provider=self.get_object())
        return Response(
            {
                "ok": check.ok,
                "models": check.models,
                "simulated": check.simulated,
                "latency_ms": check.latency_ms,
                "error": check.error,
            }
        )
