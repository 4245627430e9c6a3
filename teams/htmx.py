"""Pages that answer both ways: the whole page, or only a named partial when htmx asks.

One URL per page, as in django-htmx's example app: an htmx request gets `template#partial`
(Django's template partials), a normal request the full page, and the response varies on
`HX-Request` so that no cache serves one in place of the other.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_partial(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    partial: str,
    status: int = 200,
) -> HttpResponse:
    """Render `template`, or only its `partial` when the request comes from htmx."""
    name = f"{template}#{partial}" if getattr(request, "htmx", False) else template
    response = render(request, name, context, status=status)
    vary_on_htmx(response)
    return response


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    """Mark a response whose body depends on whether htmx asked for it."""
    patch_vary_headers(response, ["HX-Request"])
    return response
