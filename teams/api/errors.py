"""JSON errors for the whole API: `{"detail": …, "errors": [{"field": …, "message": …}]}`.

Every error status the API answers (400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503) has
this body, whether DRF raised it (`exception_handler`), Django did (teams.middleware) or the
database is unreachable (503 with Retry-After).
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Seconds a client should wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The service is temporarily unavailable: try again shortly."


def error_body(detail: str, errors: list[dict] | None = None) -> dict:
    """The one error shape; without field errors, the detail is the one error."""
    if errors is None:
        errors = [{"field": None, "message": detail}]
    return {"detail": detail, "errors": errors}


def json_error(
    code: int, detail: str, errors: list[dict] | None = None, **headers: str
) -> JsonResponse:
    """An error body as a plain Django response (middleware, error handlers); header names
    are given with underscores (Retry_After=...)."""
    response = JsonResponse(error_body(detail, errors), status=code)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Connection refused or lost, server shutting down, too many clients, locked database:
    nothing the request did wrong, and worth retrying."""
    return isinstance(exc, OperationalError | InterfaceError)


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
        response.data = error_body("Invalid input.", flatten_errors(exc.detail))
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = error_body(str(response.data["detail"]))
    return response
