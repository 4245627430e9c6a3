"""Pieces every evaluations API view shares: the documented error body and service errors."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

# The body of every error answer (teams.api.errors.exception_handler).
ErrorSerializer = inline_serializer(
    "Error",
    {
        "detail": serializers.CharField(),
        "errors": inline_serializer(
            "ErrorItem",
            {
                "field": serializers.CharField(allow_null=True),
                "message": serializers.CharField(),
            },
            many=True,
        ),
    },
)
_MEANINGS = {
    400: "Invalid input: each error names its field.",
    401: "No valid token or session.",
    403: "The token lacks the scope, or the member the role.",
    404: "No such object in the caller's team.",
    413: "The body is too large.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    codes = codes or (400, 401, 403, 404)
    return {code: OpenApiResponse(ErrorSerializer, description=_MEANINGS[code]) for code in codes}


def service_error(exc: DjangoValidationError) -> ValidationError:
    """A service's ValidationError as the API's 400."""
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
