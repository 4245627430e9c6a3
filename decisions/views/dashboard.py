"""The team dashboard: every workload with its approach, recommendation, flags and volume."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions import live
from teams.scoping import team_view


@team_view
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = live.dashboard_rows(request.team)
    return render(
        request,
        "decisions/dashboard/index.html",
        {"rows": rows, "open_flags": sum(1 for row in rows if row["flag"])},
    )
