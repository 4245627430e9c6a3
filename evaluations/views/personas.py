"""Pages of persona specs: list, create, a spec with its versions and a reply scorer, a new
version, and the adversarial suite."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers

from evaluations import persona_selectors as selectors
from evaluations.api.personas import (
    PersonaContentSerializer,
    PersonaCreateSerializer,
    _content,
)
from evaluations.attacks import SUITE_VERSION
from evaluations.forms import serializer_errors_to_form
from evaluations.persona_forms import PersonaForm, PersonaVersionForm, ScoreForm
from evaluations.persona_models import PersonaSpec, PersonaVersion
from evaluations.services import personas as services
from prompts.models import PromptTemplate
from teams.models import Role
from teams.scoping import team_view


def _spec(request: HttpRequest, slug: str) -> PersonaSpec:
    return get_object_or_404(selectors.personas_with_latest(request.team), slug=slug)


@team_view
def persona_list(request: HttpRequest) -> HttpResponse:
    personas = selectors.personas_with_latest(request.team)
    return render(request, "evaluations/personas/list.html", {"personas": personas})


@team_view
def persona_create_view(request: HttpRequest) -> HttpResponse:
    prompts = PromptTemplate.objects.for_team(request.team)
    form = PersonaForm(request.POST or None, prompts=prompts)
    if request.method == "POST" and form.is_valid():
        data = {**form.content(), **{k: form.cleaned_data[k] for k in
                ("slug", "name", "description", "commit_message")},
                "prompt": form.cleaned_data["prompt"] or None}  # fmt: skip
        serializer = PersonaCreateSerializer(data=data, context={"team": request.team})
        if not serializer.is_valid():
            serializer_errors_to_form(form, serializer.errors)
        else:
            fields = dict(serializer.validated_data)
            spec_fields = {k: fields.pop(k) for k in ("slug", "name", "description", "prompt")}
            commit_message = fields.pop("commit_message")
            try:
                version = services.persona_create(
                    team=request.team, content=_content(fields), commit_message=commit_message,
                    actor=request.user, **spec_fields,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Persona {version.spec.name} created.")
                return redirect(version.spec.get_absolute_url())
    return render(request, "evaluations/personas/form.html", {"form": form, "spec": None})


def _version(spec: PersonaSpec, number: str | None) -> PersonaVersion | None:
    versions = selectors.versions_of(spec)
    if number and number.isdigit():
        return versions.filter(number=int(number)).first()
    return versions.first()


@team_view
def persona_detail(request: HttpRequest, slug: str) -> HttpResponse:
    spec = _spec(request, slug)
    version = _version(spec, request.GET.get("version"))
    if version is None:
        return redirect(spec.get_absolute_url())
    overlays = [o["name"] for o in version.overlays]
    context = {
        "spec": spec,
        "version": version,
        "versions": selectors.versions_of(spec),
        "score_form": ScoreForm(overlays=overlays),
        "pattern": [check.describe() for check in version.rules().pattern],
        "runs": _runs(spec),
    }
    return render(request, "evaluations/personas/detail.html", context)


def _runs(spec: PersonaSpec):
    from evaluations.api.persona_runs import runs_of

    return runs_of(spec)[:20]


@team_view(write_role=Role.VIEWER)  # scoring stores nothing
def persona_score_view(request: HttpRequest, slug: str) -> HttpResponse:
    spec = _spec(request, slug)
    version = _version(spec, request.POST.get("version") or request.GET.get("version"))
    if version is None:
        return redirect(spec.get_absolute_url())
    overlays = [o["name"] for o in version.overlays]
    form = ScoreForm(request.POST or None, overlays=overlays)
    scored = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scored = services.persona_score(version=version, response=data["response"],
                                        system_prompt=data["system_prompt"],
                                        overlay=data["overlay"] or None)  # fmt: skip
    context = {"spec": spec, "version": version, "score_form": form, "scored": scored}
    template = "evaluations/personas/detail.html#score"
    if not request.htmx:
        context["versions"] = selectors.versions_of(spec)
        template = "evaluations/personas/detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@team_view
def persona_version_new(request: HttpRequest, slug: str) -> HttpResponse:
    spec = _spec(request, slug)
    latest = selectors.versions_of(spec).first()
    initial = PersonaVersionForm.initial_from(latest) if latest else {}
    form = PersonaVersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        serializer = PersonaContentSerializer(data=form.content())
        if not serializer.is_valid():
            serializer_errors_to_form(form, serializer.errors)
        else:
            saved = services.persona_version_create(
                spec=spec, content=_content(serializer.validated_data),
                commit_message=form.cleaned_data["commit_message"], author=request.user,
            )  # fmt: skip
            if saved.created:
                messages.success(request, f"Saved as version {saved.version.number}.")
            else:
                messages.info(request, "Identical to the latest version: no new version.")
            return redirect(spec.get_absolute_url())
    return render(request, "evaluations/personas/form.html", {"form": form, "spec": spec})


@team_view
def attack_list(request: HttpRequest) -> HttpResponse:
    suite = services.attack_suite(request.team)
    context = {"suite": suite, "suite_version": SUITE_VERSION}
    return render(request, "evaluations/personas/attacks.html", context)


def _drift_chart(candidates: list[dict]) -> dict:
    turns = sorted({p["turn"] for c in candidates for p in c.get("drift") or []})
    datasets = []
    for c in candidates:
        points = {p["turn"]: round(p["adherence"], 3) for p in c.get("drift") or []}
        datasets.append({"label": c["label"], "data": [points.get(t) for t in turns],
                         "spanGaps": True})  # fmt: skip
    return {
        "type": "line",
        "data": {"labels": [f"Turn {t}" for t in turns], "datasets": datasets},
        "options": {"scales": {"y": {"min": 0, "max": 1,
                                     "title": {"display": True, "text": "Persona adherence"}}}},
    }  # fmt: skip


@team_view
def persona_run_detail(request: HttpRequest, slug: str, run: int) -> HttpResponse:
    from evaluations.api.persona_runs import runs_of

    spec = _spec(request, slug)
    run = get_object_or_404(runs_of(spec).select_related("dataset"), pk=run)
    candidates = (run.summary or {}).get("candidates", [])
    families = sorted({f for c in candidates for f in ((c.get("robustness") or {})
                       .get("families") or {})})  # fmt: skip
    context = {
        "spec": spec,
        "run": run,
        "candidates": candidates,
        "families": families,
        "drift_turns": sorted({p["turn"] for c in candidates for p in c.get("drift") or []}),
        "drift_chart": _drift_chart(candidates),
        "consistency_rows": [
            {
                "label": c["label"],
                "columns": [
                    (c.get("consistency") or {}).get(name)
                    for name in ("short", "long", "edge_cases")
                ],
            }
            for c in candidates
        ],  # fmt: skip
        "robustness_rows": [
            {
                "label": c["label"],
                "overall": (c.get("robustness") or {}).get("overall"),
                "families": [
                    ((c.get("robustness") or {}).get("families") or {}).get(f) for f in families
                ],
            }
            for c in candidates
        ],  # fmt: skip
    }
    response = render(request, "evaluations/personas/run.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
