"""Pages of the datasets: list, create, items with filters and the leakage report, import,
split, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from evaluations import selectors
from evaluations.api.datasets import (
    DatasetWriteSerializer,
    SplitRequestSerializer,
    check_records,
    parse_body,
)
from evaluations.dataset_files import Record, decode, parse_csv
from evaluations.forms import (
    DatasetForm,
    DatasetImportForm,
    ItemFilterForm,
    SplitForm,
    serializer_errors_to_form,
)
from evaluations.models import Dataset, DatasetItem, Split, TaskKind
from evaluations.services.datasets import (
    dataset_create,
    dataset_delete,
    dataset_items_add,
    dataset_split,
)
from teams.scoping import team_view

ITEMS_PER_PAGE = 50
ERRORS_SHOWN = 100


def _dataset(request: HttpRequest, pk: int) -> Dataset:
    return get_object_or_404(selectors.datasets_with_counts(request.team), pk=pk)


@team_view
def dataset_list(request: HttpRequest) -> HttpResponse:
    datasets = selectors.datasets_with_counts(request.team)
    return render(request, "evaluations/datasets/list.html", {"datasets": datasets})


@team_view
def dataset_create_view(request: HttpRequest) -> HttpResponse:
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        serializer = DatasetWriteSerializer(data=form.cleaned_data)
        if not serializer.is_valid():
            serializer_errors_to_form(form, serializer.errors)
        else:
            try:
                dataset = dataset_create(
                    team=request.team, created_by=request.user, **serializer.validated_data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Dataset {dataset.name} created: import its items.")
                return redirect("evaluations:dataset_import", request.team.slug, dataset.pk)
    return render(request, "evaluations/datasets/form.html", {"form": form})


@team_view
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = _dataset(request, pk)
    tags = selectors.tag_counts(dataset)
    filters = ItemFilterForm(request.GET or None, tags=tags)
    items = DatasetItem.objects.filter(dataset=dataset).order_by("position")
    if filters.is_valid():
        split = filters.cleaned_data["split"]
        if split:
            items = items.filter(split="" if split == "unassigned" else split)
        items = items.tagged(filters.cleaned_data["tag"])
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "dataset": dataset,
        "tags": tags,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "leakage": selectors.dataset_leakage(dataset),
        "split_form": SplitForm(),
    }
    template = "evaluations/datasets/detail.html"
    if request.htmx and request.htmx.target == "dataset-items":
        template += "#dataset-items"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _records(dataset: Dataset, kind: str, raw: bytes) -> list[Record]:
    if kind == "csv":
        json_expected = dataset.task_kind == TaskKind.EXTRACTION
        return parse_csv(decode(raw), json_expected=json_expected)
    return parse_body("application/x-ndjson" if kind == "jsonl" else "application/json", raw)


@team_view
def dataset_import(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = _dataset(request, pk)
    form = DatasetImportForm(request.POST or None, request.FILES or None)
    errors: list[dict] = []
    if request.method == "POST" and form.is_valid():
        try:
            records = _records(dataset, *form.source())
        except ValueError as error:
            errors = [{"line": None, "field": None, "message": str(error)}]
        else:
            items, errors = check_records(dataset, records)
            if not records:
                errors = [{"line": None, "field": None, "message": "No items found."}]
        if not errors:
            accepted = dataset_items_add(dataset=dataset, items=items)
            messages.success(request, f"{accepted} item{pluralize(accepted)} imported.")
            return redirect("evaluations:dataset_detail", request.team.slug, dataset.pk)
    context = {"dataset": dataset, "form": form, "errors": errors[:ERRORS_SHOWN],
               "error_count": len(errors)}  # fmt: skip
    return render(request, "evaluations/datasets/import.html", context)


@team_view
@require_POST
def dataset_split_view(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = _dataset(request, pk)
    form = SplitForm(request.POST)
    shares = {}
    if form.is_valid():
        # JSON numbers, as the API's serializer takes them.
        shares = {s: float(form.cleaned_data[s] / 100) for s in Split.values}
    serializer = SplitRequestSerializer(data={**shares, "seed": form.cleaned_data.get("seed", 0)})
    if not form.is_valid() or not serializer.is_valid():
        problems = form.errors if not form.is_valid() else serializer.errors
        text = "; ".join(str(m) for ms in problems.values() for m in ms)
        messages.error(request, f"Not split: {text}")
    else:
        data = serializer.validated_data
        counts = dataset_split(
            dataset=dataset, ratios={s: data[s] for s in Split.values}, seed=data["seed"]
        )
        summary = ", ".join(f"{counts[s]} {s}" for s in Split.values)
        messages.success(request, f"Split with seed {data['seed']}: {summary}.")
    return redirect("evaluations:dataset_detail", request.team.slug, dataset.pk)


@team_view
@require_POST
def dataset_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = _dataset(request, pk)
    try:
        dataset_delete(dataset=dataset)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("evaluations:dataset_detail", request.team.slug, dataset.pk)
    messages.success(request, f"Dataset {dataset.name} deleted.")
    return redirect("evaluations:dataset_list", request.team.slug)
