"""Request guards and error shapes that hold for every URL, whichever app serves it."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

from teams.api.errors import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE,
    is_database_unavailable,
    json_error,
)
from teams.api.parsers import NUL_MESSAGE

logger = logging.getLogger(__name__)

DJANGO_ERRORS = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "Not found.",
    413: "The request body is too large.",
    500: "Server error.",
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the error body under /api/, a plain page (no database, no context
    processors) for browsers."""
    retry = str(RETRY_AFTER_SECONDS)
    if is_api(request):
        return json_error(503, UNAVAILABLE, Retry_After=retry)
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = retry
    return response


class RefuseNulMiddleware:
    """NUL characters in the path, a query parameter or a header (cookies included) are a 400
    naming where, before any view can hand them to PostgreSQL, which refuses them in text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = self._nul_in(request)
        if where is None:
            return self.get_response(request)
        if is_api(request):
            return json_error(400, "Invalid input.", [{"field": where, "message": NUL_MESSAGE}])
        return HttpResponseBadRequest(f"Bad request: {where}: {NUL_MESSAGE}\n", "text/plain")

    @staticmethod
    def _nul_in(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return key.replace("\x00", "\\u0000")
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
                return key.removeprefix("HTTP_").replace("_", "-").title()
        return None


class ApiJsonErrorsMiddleware:
    """Under /api/, Django's own error pages become the API's error body; everywhere, a database
    that cannot be reached answers 503 with Retry-After instead of a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_api(request) or response.get("Content-Type", "").startswith("application/json"):
            return response
        code = response.status_code
        if code in DJANGO_ERRORS or code == 405:
            detail = DJANGO_ERRORS.get(code) or f'Method "{request.method}" not allowed.'
            json = json_error(code, detail)
            for header in ("Allow", "Retry-After"):
                if response.has_header(header):
                    json[header] = response[header]
            return json
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_database_unavailable(exception):
            logger.error("Database unavailable, answered 503: %r", exception)
            return service_unavailable(request)
        if not is_api(request) or isinstance(exception, Http404):
            return None
        logger.exception("Unhandled API error", exc_info=exception)
        return json_error(500, DJANGO_ERRORS[500])
