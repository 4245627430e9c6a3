"""Switch flags in the browser: the list with filters, one flag, and what people do with it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from teams.scoping import team_view
from workloads.forms import FlagFilterForm
from workloads.models import FlagStatus, SwitchFlag, Workload
from workloads.services import flags as flag_services
from workloads.views.paging import PICKER_OPTIONS, page_of

PAGE_SIZE = 50


@team_view
def flag_list(request: HttpRequest) -> HttpResponse:
    flags = SwitchFlag.objects.for_team(request.team).select_related("workload", "decision")
    named = Workload.objects.for_team(request.team).values_list("slug", "name")
    workloads = list(named[: PICKER_OPTIONS + 1])
    typed = len(workloads) > PICKER_OPTIONS
    if typed:  # too many to list: the workload is typed by slug, and only that one is read
        wanted = request.GET.get("workload", "").strip()
        workloads = list(named.filter(slug=wanted)) if wanted else []
    filters = FlagFilterForm(request.GET, workloads=workloads)
    status, workload = filters.value("status"), filters.value("workload")
    if status == FlagFilterForm.LIVE:
        flags = flags.live()
    elif status:
        flags = flags.filter(status=status)
    if workload:
        flags = flags.filter(workload__slug=workload)
    page, query = page_of(request, flags.order_by("-created_at", "-id"), PAGE_SIZE)
    context = {
        "flags": page.object_list,
        "page": page,
        "query": query,
        "filters": filters,
        "status": status,
        "workload": workload,
        "statuses": FlagStatus.choices,
        "workloads": workloads,
        "typed_workload": typed,
    }
    return render(
        request, "workloads/flags/list.html", context, status=400 if filters.errors else 200
    )


def _flag(request: HttpRequest, pk: int) -> SwitchFlag:
    flags = SwitchFlag.objects.for_team(request.team).select_related(
        "workload", "decision", "assessment", "status_changed_by"
    )
    return get_object_or_404(flags, pk=pk)


@team_view
def flag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _flag(request, pk))


def _render_detail(request, flag, *, errors=None, reason="", status=200) -> HttpResponse:
    context = {"flag": flag, "errors": errors or {}, "reason": reason}
    return render(request, "workloads/flags/detail.html", context, status=status)


@require_POST
@team_view
def flag_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    flag = _flag(request, pk)
    try:
        flag_services.flag_acknowledge(flag=flag, user=request.user)
    except ValidationError as exc:
        return _render_detail(request, flag, errors=exc.message_dict, status=400)
    messages.success(request, "Flag acknowledged: it stays here until the evidence agrees again.")
    return redirect("workloads:flag_detail", team_slug=request.team.slug, pk=flag.pk)


@require_POST
@team_view
def flag_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    flag = _flag(request, pk)
    reason = request.POST.get("reason", "")
    try:
        flag_services.flag_dismiss(flag=flag, user=request.user, reason=reason)
    except ValidationError as exc:
        return _render_detail(request, flag, errors=exc.message_dict, reason=reason, status=400)
    messages.success(request, "Flag dismissed. The reason is kept with the flag.")
    return redirect("workloads:flag_detail", team_slug=request.team.slug, pk=flag.pk)
