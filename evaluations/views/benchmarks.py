"""Pages of benchmark runs: the list, the new-run form, the run page (live progress, then the
comparison, the latency chart and the per-item drill-down), exports and cancel."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from evaluations import scoring, selectors
from evaluations.api.benchmarks import (
    ALL_ITEMS,
    MAX_CANDIDATES,
    BenchmarkCreateSerializer,
    candidate_specs,
)
from evaluations.api.common import service_error
from evaluations.benchmark_scoring import judge_spec
from evaluations.models import Approach, BenchmarkRun, Dataset, Provider, Split
from evaluations.services.benchmarks import benchmark_run_cancel, benchmark_run_start
from prompts.selectors import template_list
from teams.api.errors import flatten_errors
from teams.htmx import render_partial
from teams.scoping import team_view

CANDIDATE_ROWS = 4  # rows the form starts with; "Add a candidate" adds one, up to the maximum
DEFAULT_SCORERS = (scoring.ACCURACY, scoring.JSON_VALID)
CANDIDATE_FIELDS = ("label", "approach", "provider", "model", "prompt", "rag")
ITEMS_PER_PAGE = 20
EXPORT_FIELDS = ("item", "item_position", "candidate", "output", "expected_label",
                 "predicted_label", "latency_ms", "input_tokens", "output_tokens", "cost",
                 "error_kind", "error", "judge_output")  # fmt: skip


def _run(request: HttpRequest, pk: int) -> BenchmarkRun:
    return get_object_or_404(selectors.benchmark_run_detail(request.team), pk=pk)


@team_view
def benchmark_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.benchmark_runs(request.team), 50).get_page(request.GET.get("page"))
    return render(request, "evaluations/benchmarks/list.html", {"page": page})


# The new-run form --------------------------------------------------------------------------------


def _row_count(data) -> int:
    """How many candidate rows the form shows: as many as it had, one more when asked."""
    shown = data.get("rows", "")
    count = int(shown) if shown.isdigit() else CANDIDATE_ROWS
    if "more" in data:
        count += 1
    return max(CANDIDATE_ROWS, min(count, MAX_CANDIDATES))


def _form_data(post) -> dict:
    """The form's fields as the API's create body: one validation for both."""
    candidates = []
    for i in range(_row_count(post)):
        label = post.get(f"c{i}-label", "").strip()
        if not label:
            continue
        slug, _, rest = post.get(f"c{i}-prompt", "").partition("@")
        prompt = {"slug": slug}
        if rest.isdigit():
            prompt["version"] = int(rest)
        elif rest:
            prompt["label"] = rest
        provider = post.get(f"c{i}-provider", "")
        candidates.append({
            "label": label, "approach": post.get(f"c{i}-approach", ""),
            "provider": int(provider) if provider.isdigit() else provider,
            "model": post.get(f"c{i}-model", "").strip(), "prompt": prompt,
            "rag": post.get(f"c{i}-rag") == "on",
        })  # fmt: skip
    scorers: list = []
    for name in post.getlist("scorers"):
        if name == scoring.CONTAINS:
            scorers.append({"name": name, "needle": post.get("needle", ""),
                            "ignore_case": post.get("ignore_case") == "on"})  # fmt: skip
        elif name == scoring.REGEX:
            scorers.append({"name": name, "pattern": post.get("pattern", "")})
        elif name == scoring.LLM_JUDGE:
            judge = {"name": name, "judge": post.get("judge", "").strip()}
            if criteria := post.get("criteria", "").strip():
                judge["criteria"] = criteria
            scorers.append(judge)
        else:
            scorers.append(name)
    dataset = post.get("dataset", "")
    data = {
        "name": post.get("name", "").strip(),
        "dataset": int(dataset) if dataset.isdigit() else dataset,
        "split": post.get("split", ""),
        "candidates": candidates,
        "scorers": scorers,
        "workload": post.get("workload") or None,
    }
    concurrency = post.get("concurrency", "")
    data["concurrency"] = int(concurrency) if concurrency.isdigit() else concurrency
    return data


def _form_context(request: HttpRequest, values, errors: list[dict]) -> dict:
    """The form, filled with `values` (the submitted fields, or the query string)."""
    workloads = BenchmarkRun._meta.get_field("workload").related_model.objects
    providers = list(Provider.objects.for_team(request.team))
    rows = [
        {"index": i, **{f: values.get(f"c{i}-{f}", "") for f in CANDIDATE_FIELDS}}
        for i in range(_row_count(values))
    ]
    submitted = "name" in values
    checked = values.getlist("scorers") if submitted else DEFAULT_SCORERS
    return {
        "values": values,
        "errors": errors,
        "rows": rows,
        "max_rows": MAX_CANDIDATES,
        "datasets": Dataset.objects.for_team(request.team).only("pk", "name"),
        "splits": [*Split.values, ALL_ITEMS],
        "providers": providers,
        # Each model a provider's last connection test listed, for the model field's choices.
        "models": sorted({(m, p.display_name) for p in providers for m in p.available_models}),
        "approaches": Approach.choices,
        "prompts": _prompt_choices(request.team),
        "scorer_names": scoring.SCORERS,
        "checked_scorers": set(checked),
        "workloads": workloads.filter(team=request.team).only("slug", "name"),
    }


def _prompt_choices(team) -> list[tuple[str, str]]:
    """For each of the team's templates: its labels (`slug@production`, …, each naming the
    version it points at), `slug@latest`, then `slug@N` for every version."""
    choices = []
    for template in template_list(team=team).prefetch_related("versions"):
        for label in template.labels.all():
            shown = f"{template.slug} · {label.label} (v{label.version.number})"
            choices.append((f"{template.slug}@{label.label}", shown))
        choices.append((f"{template.slug}@latest", f"{template.slug} · latest"))
        for version in sorted(template.versions.all(), key=lambda v: -v.number):
            choices.append(
                (f"{template.slug}@{version.number}", f"{template.slug} · v{version.number}")
            )
    return choices


@team_view
def benchmark_create_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        values = request.GET
        return render(
            request, "evaluations/benchmarks/form.html", _form_context(request, values, [])
        )
    if "more" in request.POST:  # another candidate row, nothing validated yet
        context = _form_context(request, request.POST, [])
        return render(request, "evaluations/benchmarks/form.html", context)
    serializer = BenchmarkCreateSerializer(data=_form_data(request.POST),
                                           context={"team": request.team})  # fmt: skip
    if not serializer.is_valid():
        errors = flatten_errors(serializer.errors)
        context = _form_context(request, request.POST, errors)
        return render(request, "evaluations/benchmarks/form.html", context, status=400)
    data = serializer.validated_data
    try:
        run = benchmark_run_start(
            team=request.team, name=data["name"], dataset=data["dataset"],
            split="" if data["split"] == ALL_ITEMS else data["split"],
            candidates=candidate_specs(data["candidates"]), scorers=data["scorers"],
            concurrency=data["concurrency"], workload_id=data["workload"],
            created_by=request.user,
        )  # fmt: skip
    except ValidationError as exc:
        errors = flatten_errors(service_error(exc).detail)
        context = _form_context(request, request.POST, errors)
        return render(request, "evaluations/benchmarks/form.html", context, status=400)
    messages.success(request, f"Benchmark #{run.pk} started.")
    return redirect("evaluations:benchmark_detail", team_slug=request.team.slug, pk=run.pk)


# The run page -----------------------------------------------------------------------------------

# (label, how to read it from a candidate summary, unit, metric key of `summary["best"]`)
_FIGURES = (
    ("Calls", lambda c: c["calls"], "count", None),
    ("Error rate", lambda c: c["error_rate"], "rate", "error_rate"),
    ("Latency p50", lambda c: c["latency_ms"]["p50"], "ms", "latency_p50"),
    ("Latency p95", lambda c: c["latency_ms"]["p95"], "ms", "latency_p95"),
    ("Latency p99", lambda c: c["latency_ms"]["p99"], "ms", "latency_p99"),
    ("Cost per request", lambda c: c["cost_per_request"], "usd", "cost_per_request"),
    ("Cost per 1M input tokens", lambda c: c["cost_per_1m_input_tokens"], "usd",
     "cost_per_1m_input_tokens"),
)  # fmt: skip


def comparison_rows(summary: dict, scorers: list[str], judge: str | None = None) -> list[dict]:
    """The comparison table: one row per figure, one cell per candidate, best ones marked;
    `judge` is the label of the candidate that graded `llm_judge`, said in that row."""
    candidates, best = summary["candidates"], summary.get("best", {})
    rows = [
        {"label": label, "unit": unit, "cells": [
            {"value": read(c), "best": c["label"] in best.get(key or "", ())} for c in candidates
        ]}
        for label, read, unit, key in _FIGURES
    ]  # fmt: skip
    for name in scorers:
        cells = []
        for c in candidates:
            estimate = c["scores"].get(name) or {}
            cells.append({"value": estimate.get("value"), "ci_low": estimate.get("ci_low"),
                          "ci_high": estimate.get("ci_high"), "n": estimate.get("n"),
                          "best": c["label"] in best.get(f"score:{name}", ())})  # fmt: skip
        label = f"{name} (graded by {judge})" if name == scoring.LLM_JUDGE and judge else name
        rows.append({"label": label, "unit": "score", "cells": cells, "score": True})
    return rows


LATENCY_BINS = 20
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def latency_chart(run: BenchmarkRun, candidates) -> dict:
    """A Chart.js bar chart: how many calls of each candidate fell in each latency bin."""
    latencies = selectors.benchmark_latencies(run)
    values = [v for series in latencies.values() for v in series]
    if not values:
        return {}
    low, high = min(values), max(values)
    width = (high - low) / LATENCY_BINS or 1.0
    labels = [f"{low + i * width:.0f}" for i in range(LATENCY_BINS)]
    datasets = []
    for i, candidate in enumerate(candidates):
        counts = [0] * LATENCY_BINS
        for value in latencies.get(candidate.pk, []):
            counts[min(int((value - low) / width), LATENCY_BINS - 1)] += 1
        datasets.append({"label": candidate.label, "data": counts,
                         "backgroundColor": COLOURS[i % len(COLOURS)]})  # fmt: skip
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "options": {"scales": {
            "x": {"title": {"display": True, "text": "latency (ms, bin start)"}},
            "y": {"title": {"display": True, "text": "calls"}, "ticks": {"cxFormat": "count"}},
        }},
    }  # fmt: skip


# -----------------------------------------------------------------------------------


@team_view
def benchmark_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    context = {"run": run, "candidates": list(run.candidates.all())}
    if run.summary:
        judge = (judge_spec(run.scorers) or {}).get("judge")
        context["comparison"] = comparison_rows(run.summary, run.scorer_names, judge)
        context["chart"] = latency_chart(run, context["candidates"])
    return render_partial(request, "evaluations/benchmarks/detail.html", context,
                          partial="status")  # fmt: skip


@team_view
def benchmark_items(request: HttpRequest, pk: int) -> HttpResponse:
    """The per-item drill-down: each item with every candidate's output and scores."""
    run = _run(request, pk)
    candidates = list(run.candidates.all())
    page = Paginator(run.item_ids, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    rows = selectors.benchmark_item_rows(run, list(page.object_list), candidates)
    context = {"run": run, "candidates": candidates, "page": page, "rows": rows}
    return render_partial(request, "evaluations/benchmarks/items.html", context, partial="items")


@team_view
def benchmark_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Export as .csv or .json.")
    run = _run(request, pk)
    rows = selectors.benchmark_results(run)
    if fmt == "json":
        body = {
            "id": run.pk, "name": run.name, "status": run.status, "dataset": run.dataset.name,
            "split": run.split or ALL_ITEMS, "scorers": run.scorers, "seed": run.seed,
            "candidates": [
                {"label": c.label, "approach": c.approach, "provider": c.provider.name,
                 "model": c.model, "prompt": c.prompt_version.template.slug,
                 "prompt_version": c.prompt_version.number, "rag": c.rag}
                for c in run.candidates.all()
            ],
            "summary": run.summary or None,
            "results": [dict(_export_row(r), scores=r.scores) for r in rows.iterator()],
        }  # fmt: skip
        response = JsonResponse(body, json_dumps_params={"indent": 1})
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        scorer_columns = [f"score_{name}" for name in run.scorer_names]
        writer = csv.writer(response)
        writer.writerow([*EXPORT_FIELDS, *scorer_columns])
        for row in rows.iterator():
            values = _export_row(row)
            writer.writerow([*(values[f] for f in EXPORT_FIELDS),
                             *(row.scores.get(n) for n in run.scorer_names)])  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="benchmark-{run.pk}.{fmt}"'
    return response


def _export_row(row) -> dict:
    return {
        "item": row.item_id, "item_position": row.item.position, "candidate": row.candidate.label,
        "output": row.output, "expected_label": row.expected_label,
        "predicted_label": row.predicted_label, "latency_ms": row.latency_ms,
        "input_tokens": row.input_tokens, "output_tokens": row.output_tokens,
        "cost": None if row.cost is None else float(row.cost), "error_kind": row.error_kind,
        "error": row.error, "judge_output": row.judge_output,
    }  # fmt: skip


@require_POST
@team_view
def benchmark_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    if benchmark_run_cancel(run=run):
        messages.success(request, f"Benchmark #{run.pk} cancelled; the results stored so far stay.")
    else:
        messages.error(request, "The run had already ended.")
    return redirect("evaluations:benchmark_detail", team_slug=request.team.slug, pk=run.pk)
