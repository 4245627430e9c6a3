"""Approach-analysis worksheets: a form that recalculates as you type, saved as versions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from evaluations.models import ModelPrice
from evaluations.persona_selectors import persona_evidence
from evaluations.pricing import DEFAULT_FT_MULTIPLIER, price_for
from prompts.selectors import recent_versions, version_lookup
from teams.htmx import vary_on_htmx
from teams.scoping import team_view
from workloads import roi
from workloads.formatting import plain
from workloads.forms import WorksheetForm, prompt_key, sections
from workloads.models import Workload, Worksheet
from workloads.selectors import price_inputs
from workloads.services.workloads import workload_apply_worksheet
from workloads.services.worksheets import worksheet_create, worksheet_prefill
from workloads.views.paging import PICKER_OPTIONS
from workloads.views.roi_display import (
    input_text,
    live_results,
    persona_checklist_evidence,
    results_context,
)

PAGE_SIZE = 50
FT_PRICES = ("ft_input_price_per_1m", "ft_output_price_per_1m")


@team_view
def worksheet_list(request: HttpRequest) -> HttpResponse:
    worksheets = (
        Worksheet.objects.for_team(request.team)
        .select_related("workload", "author")
        .order_by("-created_at", "-id")
    )
    paginator = Paginator(worksheets, PAGE_SIZE)
    asked = request.GET.get("page", "").strip()
    try:
        page = paginator.page(asked or 1)
    except InvalidPage:
        page = paginator.page(1)
        error = f"There is no page “{asked}”: showing page 1 of {paginator.num_pages}."
        context = {"page": page, "page_error": error}
        return render(request, "workloads/worksheets/list.html", context, status=400)
    return render(request, "workloads/worksheets/list.html", {"page": page})


@team_view
def worksheet_new(request: HttpRequest) -> HttpResponse:
    team = request.team
    workloads = list(Workload.objects.for_team(team)[: PICKER_OPTIONS + 1])
    typed = len(workloads) > PICKER_OPTIONS
    if typed:
        # Too many to list: the workload is typed by slug, and only that one is read.
        wanted = (request.POST if request.method == "POST" else request.GET).get("workload", "")
        workloads = list(Workload.objects.for_team(team).filter(slug=wanted.strip()))
    price_rows = list(ModelPrice.objects.for_team(team))
    versions = list(recent_versions(team=team))
    filled: list[str] = []
    source = None
    if request.method == "POST":
        data = request.POST.copy()
        filled = fill_prices(data, team, price_rows) + fill_prompt(data, versions)
        form = WorksheetForm(
            data, workloads=workloads, prompt_versions=versions, typed_workload=typed
        )
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
        form = WorksheetForm(
            initial=initial, workloads=workloads, prompt_versions=versions, typed_workload=typed
        )
        inputs = _parse_or_none(initial)
    problems = _problems(form) if request.method == "POST" else []
    context = {
        "form": form,
        "sections": sections(form),
        "priced_models": [row.model for row in price_rows if not row.is_pattern],
        "price_notes": price_notes(form, team, price_rows),
        "filled": filled,
        "problems": problems,
        "source": source,
    }
    if inputs is not None:
        context.update(live_results(roi.evaluate(inputs)))
    if not request.htmx:
        return vary_on_htmx(render(request, "workloads/worksheets/edit.html", context))
    # A recalculation: errors, filled prices and notes update next to their fields (out of
    # band). Valid inputs replace the results; invalid ones leave the last valid results in place
    # and say which fields to fix.
    html = render_to_string("workloads/worksheets/_oob.html", context, request)
    if inputs is None:
        response = HttpResponse(html)
        response["HX-Reswap"] = "none"
    else:
        html = render_to_string("workloads/worksheets/edit.html#results", context, request) + html
        response = HttpResponse(html)
    return vary_on_htmx(response)


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
        **_production_prompt(workload),
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


def _production_prompt(workload: Workload) -> dict[str, str]:
    # The overhead itself comes from the workload's data (workload_roi_data).
    if workload.prompt_template_id is None:
        return {}
    version = version_lookup(team=workload.team, slug=workload.prompt_template.slug)
    key = prompt_key(version) if version is not None else ""
    return {"prompt": key, "applied_prompt": key}


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
        for name, value in price_inputs(team, model=model, price_rows=price_rows).items():
            data[name] = plain(value)
            filled.append(name)
        data["applied_model"] = model
    ft_model = data.get("ft_model", "").strip()
    if ft_model != data.get("applied_ft_model", ""):
        prices = price_inputs(
            team,
            model="",
            ft_model=ft_model,
            ft_multiplier=_multiplier(data),
            price_rows=price_rows,
        )
        if not ft_model:  # back to multiplier × base prices
            prices = dict.fromkeys(FT_PRICES, "")
        for name, value in prices.items():
            data[name] = plain(value)
            filled.append(name)
        data["applied_ft_model"] = ft_model
    return filled


def fill_prompt(data: QueryDict, versions) -> list[str]:
    """When another prompt version was picked, its static tokens become the prompt overhead."""
    key = data.get("prompt", "").strip()
    if key == data.get("applied_prompt", ""):
        return []
    data["applied_prompt"] = key
    version = next((v for v in versions if prompt_key(v) == key), None)
    if version is None:
        return []
    data["prompt_overhead_tokens"] = str(version.static_tokens)
    return ["prompt_overhead_tokens"]


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
        "persona_evidence": persona_checklist_evidence(
            inputs, persona_evidence(worksheet.workload_id)
        ),
    }
    return render(request, "workloads/worksheets/detail.html", context)


@require_POST
@team_view
def worksheet_apply(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    """Make the saved version's inputs the workload's parameters."""
    worksheet = get_object_or_404(
        Worksheet.objects.for_team(request.team).select_related("workload__team"),
        workload__slug=slug,
        version=version,
    )
    try:
        workload = workload_apply_worksheet(worksheet=worksheet, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"Not applied: {_sentence(exc)}")
        return redirect("workloads:worksheet_detail", request.team.slug, slug, version)
    messages.success(
        request,
        f"Worksheet v{version} applied: its inputs are now the parameters of {workload.name}, "
        "which is being re-assessed.",
    )
    return redirect("workloads:workload_setup", request.team.slug, slug)


def _sentence(exc: ValidationError) -> str:
    return "; ".join(
        f"{key.removeprefix('parameters.')}: {' '.join(messages)}"
        for key, messages in exc.message_dict.items()
    )


def _input_sections(values: dict) -> list[dict]:
    return [
        {
            "title": title,
            "rows": [
                {"label": spec.label, "value": input_text(spec, values.get(spec.name))}
                for spec in roi.FIELDS
                if spec.section == key
            ],
        }
        for key, title in roi.SECTIONS.items()
    ]
