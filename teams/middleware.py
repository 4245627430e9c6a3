from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


class ApiJsonErrorsMiddleware:
    """Under /api/, Django's own 404/405/500 pages become JSON like DRF's errors."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not self._is_api(request) or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        if response.status_code in (404, 405, 500):
            messages = {
                404: "Not found.",
                405: f'Method "{request.method}" not allowed.',
                500: "Server error.",
            }
            detail = messages[response.status_code]
            json = JsonResponse(
                {"detail": detail, "errors": [{"field": None, "message": detail}]},
                status=response.status_code,
            )
            if response.has_header("Allow"):
                json["Allow"] = response["Allow"]
            return json
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not self._is_api(request) or isinstance(exception, Http404):
            return None
        logger.exception("Unhandled API error", exc_info=exception)
        return JsonResponse(
            {"detail": "Server error.", "errors": [{"field": None, "message": "Server error."}]},
            status=500,
        )

    @staticmethod
    def _is_api(request: HttpRequest) -> bool:
        return request.path.startswith("/api/")
