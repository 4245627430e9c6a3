from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from teams.scoping import team_view


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return _first_team_or_none(request)


@login_required
def _first_team_or_none(request: HttpRequest) -> HttpResponse:
    membership = request.user.memberships.select_related("team").order_by("team__name").first()
    if membership is None:
        return render(request, "teams/no_team.html")
    return redirect("decisions:dashboard", team_slug=membership.team.slug)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


@team_view(role="admin")
def settings_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "placeholder.html",
        {"heading": "Team settings", "text": "Members, API tokens and webhooks."},
    )


def coming_later(heading: str, text: str):
    """An honest empty page for a section that a later release fills in."""

    @team_view
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, "placeholder.html", {"heading": heading, "text": text})

    return view
