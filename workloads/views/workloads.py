"""Workloads: list, create, edit, and the workload page with its sections (overview, figures,
usage, setup)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from evaluations.models import ModelPrice
from teams.scoping import team_view
from workloads import roi, selectors
from workloads.forms import WorkloadForm, sections
from workloads.models import Workload
from workloads.services.workloads import (
    PARAMETER_SPECS,
    workload_clean,
    workload_create,
    workload_update,
)
from workloads.views.paging import page_of
from workloads.views.roi_display import input_text, live_results, results_context

PAGE_SIZE = 50

# The sections of a workload page: (url name, tab, title).
TABS = (
    ("workload_detail", "overview", "Overview"),
    ("workload_figures", "figures", "Figures"),
    ("workload_usage", "usage", "Usage"),
    ("workload_setup", "setup", "Parameters and worksheets"),
)


def _priced_models(rows) -> list[str]:
    return [row.model for row in rows if not row.is_pattern]


@team_view
def workload_list(request: HttpRequest) -> HttpResponse:
    workloads = (
        Workload.objects.for_team(request.team)
        .select_related("team")  # the price lookup reads workload.team
        .annotate(worksheet_count=Count("worksheets"), latest_version=Max("worksheets__version"))
        .order_by("name", "pk")
    )
    page, query = page_of(request, workloads, PAGE_SIZE)
    evidence = selectors.workloads_evidence(request.team, list(page.object_list))
    rows = [{"workload": w, "evidence": evidence[w.pk]} for w in page.object_list]
    context = {"rows": rows, "page": page, "query": query}
    return render(request, "workloads/workloads/list.html", context)


@team_view
def workload_create_view(request: HttpRequest) -> HttpResponse:
    form = WorkloadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            values = workload_clean(team=request.team, data=form.service_data())
            workload = workload_create(team=request.team, actor=request.user, **values)
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
            values = workload_clean(team=request.team, data=form.service_data(), workload=workload)
            workload_update(workload=workload, actor=request.user, **values)
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
def workload_detail(request: HttpRequest, slug: str, tab: str = "overview") -> HttpResponse:
    workload = get_object_or_404(
        Workload.objects.for_team(request.team).select_related("parameters_from"), slug=slug
    )
    evidence = selectors.workload_evidence(workload)
    context = {
        "workload": workload,
        "evidence": evidence,
        "tab": tab,
        "tabs": [{"url_name": f"workloads:{u}", "key": k, "title": t} for u, k, t in TABS],
        "tab_title": next(title for _, key, title in TABS if key == tab),
        **TAB_CONTEXT[tab](workload, evidence),
    }
    return render(request, f"workloads/workloads/{tab}.html", context)


def _overview(workload: Workload, evidence) -> dict:
    _, forecast = selectors.workload_forecast(workload, evidence, now=timezone.now())
    planned = None
    if evidence.basis == "observed":
        # Planned vs observed: what the parameters alone would have recommended.
        planned, _ = selectors.workload_planned_result(workload)
    return {
        "comparison": selectors.planned_and_observed(workload, evidence),
        "planned_result": planned,
        "forecast": forecast,
        "flags": selectors.workload_flags(workload),
    }


def _figures(workload: Workload, evidence) -> dict:
    if evidence.planned is not None:
        return live_results(evidence.planned)
    if evidence.assessment is None or evidence.assessment.errors:
        return {}
    inputs = roi.parse_inputs(evidence.assessment.inputs)
    # The stored outputs are what every other page shows; the margins need the full result.
    margins = roi.threshold_margins(roi.evaluate(inputs))
    return results_context(inputs, evidence.assessment.outputs, margins=margins)


def _usage(workload: Workload, evidence) -> dict:
    return selectors.workload_usage_context(workload, evidence)


def _setup(workload: Workload, evidence) -> dict:
    return {
        "parameters": parameter_rows(workload.parameters),
        "worksheets": workload.worksheets.select_related("author").order_by("-version"),
    }


TAB_CONTEXT = {"overview": _overview, "figures": _figures, "usage": _usage, "setup": _setup}


def parameter_rows(parameters: dict) -> list[dict]:
    """The workload's parameters as people read them, in the worksheet's order."""
    return [
        {"label": spec.label, "value": input_text(spec, parameters[spec.name])}
        for spec in roi.FIELDS
        if spec.name in parameters
    ]
