"""Pages of the fine-tuning jobs: list, prepare (preview, validation and estimate before anything
is sent), the job with its timeline (polled by htmx while it runs), cancel."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from evaluations.api.finetunes import FineTuneCreateSerializer
from evaluations.finetune_forms import FineTuneForm
from evaluations.finetune_models import (
    STATUS_ORDER,
    FineTuneEvent,
    FineTuneJob,
    FineTuneStatus,
)
from evaluations.services.finetunes import (
    finetune_benchmark_start,
    finetune_cancel,
    finetune_create,
    finetune_preview,
)
from teams.api.errors import flatten_errors
from teams.scoping import team_view

POLL_SECONDS = 2


@team_view
def finetune_list(request: HttpRequest) -> HttpResponse:
    jobs = FineTuneJob.objects.for_team(request.team).for_list()
    return render(request, "evaluations/finetunes/list.html", {"jobs": jobs})


def _initial(request: HttpRequest) -> dict:
    # A dataset page links here with ?dataset=<id>.
    return {key: request.GET[key] for key in ("dataset", "prompt_version") if key in request.GET}


def _form_errors(form: FineTuneForm, errors: dict) -> None:
    """The serializer's or the service's errors on the form's fields (`prompt.*` on the version,
    `hyperparameters.n_epochs` on n_epochs, files and leakage on theirs or the form)."""
    for error in flatten_errors(errors):
        field = error["field"] or ""
        name = "prompt_version" if field.startswith("prompt") else field.split(".")[-1]
        form.add_error(name if name in form.fields else None, error["message"])


@team_view
def finetune_prepare(request: HttpRequest) -> HttpResponse:
    form = FineTuneForm(request.POST or None, team=request.team, initial=_initial(request))
    preview = None
    if request.method == "POST" and form.is_valid():
        context = {"team": request.team}
        serializer = FineTuneCreateSerializer(data=form.serializer_data(), context=context)
        if not serializer.is_valid():
            _form_errors(form, serializer.errors)
        else:
            data = serializer.validated_data
            hyper = data["hyperparameters"]
            if request.POST.get("action") == "launch":
                try:
                    job = finetune_create(
                        team=request.team, dataset=data["dataset"],
                        version=data["prompt"]["version"], prompt_ref=data["prompt"]["ref"],
                        provider=data["provider"], base_model=data["base_model"],
                        n_epochs=hyper["n_epochs"], batch_size=hyper["batch_size"],
                        learning_rate_multiplier=hyper["learning_rate_multiplier"],
                        system_prompt_mode=data["system_prompt"], workload=data.get("workload"),
                        leakage_override_reason=data["leakage_override_reason"],
                        created_by=request.user,
                    )  # fmt: skip
                except ValidationError as exc:
                    _form_errors(form, exc.message_dict)
                else:
                    messages.success(request, f"Fine-tune #{job.pk} launched.")
                    return redirect("evaluations:finetune_detail", request.team.slug, job.pk)
            try:
                preview = finetune_preview(
                    team=request.team, dataset=data["dataset"], version=data["prompt"]["version"],
                    base_model=data["base_model"], n_epochs=hyper["n_epochs"],
                    system_prompt_mode=data["system_prompt"],
                )  # fmt: skip
            except ValidationError as exc:
                _form_errors(form, exc.message_dict)
    return render(request, "evaluations/finetunes/prepare.html", {"form": form, "preview": preview})


def _timeline(job: FineTuneJob, events: list[FineTuneEvent]) -> list[dict]:
    reached = {e.data.get("to"): e.created_at for e in events if e.kind == "status" and e.data}
    steps = [{"status": status, "at": reached.get(status)} for status in STATUS_ORDER]
    if job.is_terminal:
        steps.append({"status": job.status, "at": job.finished_at})
    else:
        steps.append({"status": FineTuneStatus.SUCCEEDED, "at": None})
    current = job.status
    for step in steps:
        step["current"] = step["status"] == current
        step["done"] = step["at"] is not None
    return steps


@team_view
def finetune_detail(request: HttpRequest, pk: int) -> HttpResponse:
    events = Prefetch("events", FineTuneEvent.objects.order_by("-created_at", "-pk"))
    job = get_object_or_404(
        FineTuneJob.objects.for_team(request.team)
        .select_related("provider", "workload", "created_by", "benchmark_run")
        .prefetch_related(events),
        pk=pk,
    )
    event_list = list(job.events.all())
    context = {
        "job": job,
        "events": event_list,
        "timeline": _timeline(job, event_list),
        "preview_lines": job.training_jsonl.splitlines()[:5],
        "poll_seconds": POLL_SECONDS,
        "benchmark": _benchmark(job.benchmark_run),
    }
    template = "evaluations/finetunes/detail.html"
    if request.htmx:
        template += "#benchmark" if request.htmx.target == "benchmark" else "#job-status"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _benchmark(run) -> dict | None:
    """The run's figures per candidate, in the order the page shows them."""
    if run is None:
        return None
    scorers = run.scorer_names
    rows = []
    for candidate in (run.summary or {}).get("candidates", []):
        scores = candidate.get("scores") or {}
        rows.append({
            "label": candidate["label"],
            "scores": [scores.get(name) for name in scorers],
            "latency": candidate.get("latency_ms") or {},
            "cost_per_request": candidate.get("cost_per_request"),
            "error_rate": candidate.get("error_rate"),
        })  # fmt: skip
    return {"run": run, "scorers": scorers, "rows": rows}


@team_view
@require_POST
def finetune_benchmark(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(
        FineTuneJob.objects.for_team(request.team).select_related(
            "provider", "dataset", "prompt_version__template"
        ),
        pk=pk,
    )
    try:
        run = finetune_benchmark_start(job=job, user=request.user)
    except ValidationError as exc:
        messages.error(request, "Not started: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Benchmark run #{run.pk} started on the test split.")
    return redirect("evaluations:finetune_detail", request.team.slug, job.pk)


@team_view
@require_POST
def finetune_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(FineTuneJob.objects.for_team(request.team), pk=pk)
    try:
        finetune_cancel(job=job)
    except ValidationError as exc:
        messages.error(request, "Not cancelled: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Fine-tune #{job.pk} cancelled.")
    return redirect("evaluations:finetune_detail", request.team.slug, job.pk)
