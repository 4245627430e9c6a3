"""Workloads: list, create, edit, and the detail page with the planned figures."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from evaluations.models import ModelPrice
from teams.scoping import team_view
from workloads import roi, selectors
from workloads.forms import WorkloadForm, sections
from workloads.models import Workload
from workloads.services.workloads import (
    PARAMETER_SPECS,
    workload_create,
    workload_planned_result,
    workload_update,
)
from workloads.views.roi_display import live_results


def _priced_models(rows) -> list[str]:
    return [row.model for row in rows if not row.is_pattern]


@team_view
def workload_list(request: HttpRequest) -> HttpResponse:
    workloads = list(
        Workload.objects.for_team(request.team)
        .select_related("team")  # the price lookup reads workload.team
        .annotate(worksheet_count=Count("worksheets"), latest_version=Max("worksheets__version"))
    )
    price_rows = list(ModelPrice.objects.for_team(request.team))
    rows = []
    for workload in workloads:
        result, missing = workload_planned_result(workload, price_rows=price_rows)
        rows.append({"workload": workload, "result": result, "missing": missing})
    return render(request, "workloads/workloads/list.html", {"rows": rows})


@team_view
def workload_create_view(request: HttpRequest) -> HttpResponse:
    form = WorkloadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workload = workload_create(
                team=request.team, data=form.service_data(), actor=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Workload {workload.name} created.")
            return redirect("workloads:workload_detail", request.team.slug, workload.slug)
    return _form_page(request, form, None)


@team_view
def workload_edit(request: HttpRequest, slug: str) -> HttpResponse:
    workload = get_object_or_404(Workload.objects.for_team(request.team), slug=slug)
    form = WorkloadForm(
        request.POST or None, initial=WorkloadForm.initial_for(workload), editing=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            workload_update(workload=workload, data=form.service_data(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Workload {workload.name} saved.")
            return redirect("workloads:workload_detail", request.team.slug, workload.slug)
    return _form_page(request, form, workload)


def _form_page(request: HttpRequest, form: WorkloadForm, workload: Workload | None):
    rows = ModelPrice.objects.for_team(request.team)
    context = {
        "form": form,
        "workload": workload,
        "sections": sections(form, PARAMETER_SPECS),
        "priced_models": _priced_models(rows),
    }
    return render(request, "workloads/workloads/form.html", context)


@team_view
def workload_detail(request: HttpRequest, slug: str) -> HttpResponse:
    workload = get_object_or_404(Workload.objects.for_team(request.team), slug=slug)
    result, missing = workload_planned_result(workload)
    worksheets = workload.worksheets.select_related("author").order_by("-version")
    context = {
        "workload": workload,
        "missing": [{**error, "label": _label(error["field"])} for error in missing or []],
        "parameters": [
            {"label": _label(name), "name": name, "value": value}
            for name, value in workload.parameters.items()
        ],
        "worksheets": worksheets,
        **selectors.workload_live_context(workload),
    }
    if result is not None:
        context.update(live_results(result))
    return render(request, "workloads/workloads/detail.html", context)


def _label(name: str) -> str:
    spec = roi.FIELDS_BY_NAME.get(name)
    return spec.label if spec else name
