"""JSON errors for the whole API: `{"detail": …, "errors": [{"field": …, "message": …}]}`."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def flatten_errors(detail: Any, prefix: str = "") -> list[dict]:
    """Turn DRF's nested error structure into a flat list with dotted field paths."""
    if isinstance(detail, dict):
        out: list[dict] = []
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else f"{prefix}.{key}" if prefix else key
            out.extend(flatten_errors(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"field": prefix or None, "message": str(item)} for item in detail]
        out = []
        for i, item in enumerate(detail):
            out.extend(flatten_errors(item, f"{prefix}[{i}]" if prefix else str(i)))
        return out
    return [{"field": prefix or None, "message": str(detail)}]


def exception_handler(exc: Exception, context: dict) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        response.data = {"detail": "Invalid input.", "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = str(response.data["detail"])
        response.data = {"detail": detail, "errors": [{"field": None, "message": detail}]}
    return response


def validation_error_response(errors: list[dict], code: int = status.HTTP_400_BAD_REQUEST):
    return Response({"detail": "Invalid input.", "errors": errors}, status=code)
