"""Approach-analysis worksheets: a form that recalculates as you type, saved as versions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from evaluations.models import ModelPrice
from evaluations.pricing import DEFAULT_FT_MULTIPLIER, price_for
from teams.scoping import team_view
from workloads import roi
from workloads.forms import WorksheetForm, sections
from workloads.models import Workload, Worksheet
from workloads.services.worksheets import plain, worksheet_create, worksheet_prefill
from workloads.views.roi_display import live_results, results_context

PAGE_SIZE = 50


@team_view
def worksheet_list(request: HttpRequest) -> HttpResponse:
    worksheets = (
        Worksheet.objects.for_team(request.team)
        .select_related("workload", "author")
        .order_by("-created_at", "-id")
    )
    page = Paginator(worksheets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workloads/worksheets/list.html", {"page": page})


@team_view
def worksheet_new(request: HttpRequest) -> HttpResponse:
    team = request.team
    workloads = list(Workload.objects.for_team(team))
    price_rows = list(ModelPrice.objects.for_team(team))
    filled: list[str] = []
    if request.method == "POST":
        data = request.POST.copy()
        filled = fill_prices(data, team, price_rows)
        form = WorksheetForm(data, workloads=workloads)
        form.is_valid()
        if not request.htmx and data.get("action") == "save" and form.check_saveable():
            workload = next(w for w in workloads if w.slug == data["workload"])
            try:
                worksheet = worksheet_create(
                    team=team,
                    workload=workload,
                    inputs=form.inputs,
                    justification=data["justification"],
                    title=data.get("title", ""),
                    author=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, f"Saved as {workload.name} worksheet v{worksheet.version}."
                )
                return redirect(
                    "workloads:worksheet_detail", team.slug, workload.slug, worksheet.version
                )
        inputs = form.inputs
    else:
        initial, source = _prefill(request, team, workloads, price_rows)
        form = WorksheetForm(initial=initial, workloads=workloads)
        inputs = _parse_or_none(initial)
    context = {
        "form": form,
        "sections": sections(form),
        "priced_models": [row.model for row in price_rows if not row.is_pattern],
        "price_notes": price_notes(form, team, price_rows),
        "filled": filled,
        "problems": _problems(form) if request.method == "POST" else [],
        **({"source": source} if request.method == "GET" else {}),
    }
    if inputs is not None:
        context.update(live_results(roi.evaluate(inputs)))
    if request.htmx:
        # The results replace the panel; errors and filled prices update next to their fields.
        html = render_to_string("workloads/worksheets/edit.html#results", context, request)
        html += render_to_string("workloads/worksheets/_oob.html", context, request)
        response = HttpResponse(html)
    else:
        response = render(request, "workloads/worksheets/edit.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _prefill(request: HttpRequest, team, workloads: list[Workload], price_rows) -> tuple:
    """Initial values from `?workload=slug` (its data), or `?workload=slug&version=N` (that
    saved version's inputs and justification)."""
    slug = request.GET.get("workload")
    if not slug:
        return {}, None
    workload = next((w for w in workloads if w.slug == slug), None)
    if workload is None:
        raise Http404("No such workload")
    models = {
        "model": workload.model,
        "applied_model": workload.model,
        "ft_model": workload.ft_model,
        "applied_ft_model": workload.ft_model,
        "workload": workload.slug,
    }
    version = request.GET.get("version")
    if version is None:
        return {**worksheet_prefill(workload, price_rows=price_rows), **models}, {
            "workload": workload
        }
    worksheet = get_object_or_404(
        Worksheet.objects.for_team(team), workload=workload, version=_int_or_404(version)
    )
    values = {k: plain(v) for k, v in worksheet.inputs.items() if v is not None}
    initial = {**values, **models, "justification": worksheet.justification}
    return initial, {"workload": workload, "worksheet": worksheet}


def _int_or_404(value: str) -> int:
    if not value.isdigit():
        raise Http404("No such version")
    return int(value)


def _parse_or_none(values: dict) -> roi.RoiInputs | None:
    try:
        return roi.parse_inputs({k: v for k, v in values.items() if k in roi.FIELDS_BY_NAME})
    except roi.RoiInputError:
        return None


def _problems(form: WorksheetForm) -> list[dict]:
    """The form's errors in reading order, for the results panel."""
    return [
        {"id": form[name].id_for_label, "label": form.fields[name].label, "messages": errors}
        for name, errors in form.errors.items()
        if name in form.fields
    ]


def _multiplier(data: QueryDict) -> Decimal:
    try:
        value = Decimal(data.get("ft_price_multiplier", "").strip())
    except InvalidOperation:
        return DEFAULT_FT_MULTIPLIER
    return value if value.is_finite() and value >= 0 else DEFAULT_FT_MULTIPLIER


def fill_prices(data: QueryDict, team, price_rows) -> list[str]:
    """When a model changed since its prices were filled, take them from the price table.

    Returns the names of the inputs it changed. Prices the user typed stay until the model
    changes again; a model without a price leaves them as they are.
    """
    filled = []
    model = data.get("model", "").strip()
    if model != data.get("applied_model", ""):
        price = price_for(team, model, rows=price_rows) if model else None
        if price is not None:
            data["input_price_per_1m"] = plain(price.input_per_1m)
            data["output_price_per_1m"] = plain(price.output_per_1m)
            filled += ["input_price_per_1m", "output_price_per_1m"]
            if price.training_per_1m is not None:
                data["training_price_per_1m"] = plain(price.training_per_1m)
                filled.append("training_price_per_1m")
        data["applied_model"] = model
    ft_model = data.get("ft_model", "").strip()
    if ft_model != data.get("applied_ft_model", ""):
        multiplier = _multiplier(data)
        price = price_for(team, ft_model, ft_multiplier=multiplier, rows=price_rows)
        if ft_model and price is not None:
            data["ft_input_price_per_1m"] = plain(price.input_per_1m)
            data["ft_output_price_per_1m"] = plain(price.output_per_1m)
        elif not ft_model:  # back to multiplier × base prices
            data["ft_input_price_per_1m"] = data["ft_output_price_per_1m"] = ""
        if not ft_model or price is not None:
            filled += ["ft_input_price_per_1m", "ft_output_price_per_1m"]
        data["applied_ft_model"] = ft_model
    return filled


def price_notes(form: WorksheetForm, team, price_rows) -> list[str]:
    """Where the models' prices come from, in a sentence each."""
    data = form.data if form.is_bound else form.initial
    notes = []
    for key, what in (("model", "Prompt-engineering prices"), ("ft_model", "Fine-tuned prices")):
        name = str(data.get(key) or "").strip()
        if not name:
            continue
        multiplier = _multiplier(data) if form.is_bound else DEFAULT_FT_MULTIPLIER
        price = price_for(team, name, ft_multiplier=multiplier, rows=price_rows)
        if price is None:
            notes.append(f"{name} has no row in the price table: type its prices.")
        else:
            notes.append(f"{what} of {name} come from the price table ({price.source}).")
    return notes


@team_view
def worksheet_detail(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    worksheet = get_object_or_404(
        Worksheet.objects.for_team(request.team).select_related("workload", "author"),
        workload__slug=slug,
        version=version,
    )
    inputs = roi.parse_inputs(worksheet.inputs)
    context = {
        "worksheet": worksheet,
        "workload": worksheet.workload,
        "input_sections": _input_sections(worksheet.inputs),
        **results_context(inputs, worksheet.outputs),
    }
    return render(request, "workloads/worksheets/detail.html", context)


def _input_sections(values: dict) -> list[dict]:
    return [
        {
            "title": title,
            "rows": [
                {"label": spec.label, "value": values.get(spec.name), "kind": spec.kind}
                for spec in roi.FIELDS
                if spec.section == key
            ],
        }
        for key, title in roi.SECTIONS.items()
    ]
