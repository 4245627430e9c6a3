"""The team dashboard: every workload with its approach, recommendation, flags and volume."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from teams.scoping import team_view
from workloads import selectors


@team_view
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = selectors.dashboard_rows(request.team)
    # Flags asking for attention: acknowledged and dismissed ones stay live but are handled.
    open_flags = sum(1 for row in rows if row["evidence"].open_flag)
    return render(
        request, "workloads/dashboard/index.html", {"rows": rows, "open_flags": open_flags}
    )
