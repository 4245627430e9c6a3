"""The team dashboard and a workload's live page (usage, evaluations, flags, forecast)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from decisions import live
from decisions.models import Workload
from teams.scoping import team_view


@team_view
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = live.dashboard_rows(request.team)
    return render(
        request,
        "decisions/dashboard/index.html",
        {"rows": rows, "open_flags": sum(1 for row in rows if row["flag"])},
    )


@team_view
def workload_live(request: HttpRequest, slug: str) -> HttpResponse:
    workload = get_object_or_404(Workload.objects.for_team(request.team), slug=slug)
    return render(request, "decisions/live/page.html", live.workload_live_context(workload))
