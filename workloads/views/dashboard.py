"""The team dashboard: its workloads, a page at a time, with approach, recommendation, flags
and volume."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from teams.scoping import team_view
from workloads import selectors
from workloads.models import SwitchFlag, Workload
from workloads.views.paging import page_of

PAGE_SIZE = 50


@team_view
def dashboard(request: HttpRequest) -> HttpResponse:
    workloads = Workload.objects.for_team(request.team).select_related("team")
    page, query = page_of(request, workloads.order_by("name", "pk"), PAGE_SIZE)
    rows = selectors.dashboard_rows(request.team, list(page.object_list))
    # Flags asking for attention: acknowledged and dismissed ones stay live but are handled.
    open_flags = SwitchFlag.objects.for_team(request.team).needing_attention().count()
    context = {"rows": rows, "page": page, "query": query, "open_flags": open_flags}
    return render(request, "workloads/dashboard/index.html", context)
