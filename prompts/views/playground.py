"""The playground: render a version with variables and, with a provider, call the model."""

from __future__ import annotations

import json
import re

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from prompts import content as prompt_content
from prompts import playground, selectors
from prompts import serializers as s
from prompts.checking import TemplateInvalid
from prompts.forms import (
    serializer_errors,
)
from prompts.models import PromptVersion
from prompts.views.common import flat_errors, template_or_404, version_or_404
from teams.models import Role
from teams.scoping import team_view

MODEL_NAME = re.compile(r"^[A-Za-z0-9._:/@+-]{1,200}$")


@team_view(write_role=Role.VIEWER)
def prompt_playground(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Render a version with variables; with a provider, also call the model (editors)."""
    template = template_or_404(request, slug)
    version = version_or_404(template, number)
    providers = playground.providers_for(request.team)
    variables_text = request.POST.get("variables") or json.dumps(
        dict.fromkeys(version.variables, ""), indent=2
    )
    placeholder_names = version.content.placeholders()
    placeholders_text = request.POST.get("placeholders") or json.dumps(
        {name: [] for name in placeholder_names}, indent=2
    )
    context = {
        "prompt": template,
        "version": version,
        "providers": providers,
        "provider_models": sorted({m for p in providers for m in p.models}),
        "variables_text": variables_text,
        "placeholders_text": placeholders_text,
        "has_placeholders": bool(placeholder_names),
        "result": None,
    }
    if request.method == "POST":
        context["result"] = _play(request, version, providers)
    template_name = "prompts/playground.html"
    if request.htmx:
        template_name += "#result"
    status = 400 if context["result"] and context["result"]["errors"] else 200
    response = render(request, template_name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _play(request: HttpRequest, version: PromptVersion, providers) -> dict:
    result: dict = {"errors": [], "rendered": None, "reply": None}
    body = {"version": version.number}
    for name in ("variables", "placeholders"):
        raw = request.POST.get(name, "").strip()
        try:
            body[name] = json.loads(raw) if raw else {}
        except ValueError as exc:
            result["errors"].append(f"{name}: not valid JSON ({exc})")
    if result["errors"]:
        return result
    serializer = s.PromptRenderSerializer(data=body)
    if not serializer.is_valid():
        result["errors"] = flat_errors(serializer_errors(serializer))
        return result
    try:
        resolution = selectors.version_resolution(version, request.team)
        rendered = prompt_content.render(
            version.content,
            resolution,
            variables=serializer.validated_data.get("variables", {}),
            placeholders=serializer.validated_data.get("placeholders", {}),
        )
    except prompt_content.RenderErrors as exc:
        result["errors"] = [f"{e.field}: {e.message}" for e in exc.errors]
        return result
    except (prompt_content.ContentInvalid, TemplateInvalid) as exc:
        result["errors"] = [str(exc)]
        return result
    result["rendered"] = rendered
    if request.POST.get("action") == "run":
        result["reply"] = _run(request, version, rendered, providers)
    return result


def _run(request, version, rendered, providers) -> playground.Reply | None:
    if not request.membership.can_write:
        raise PermissionDenied("Calling a model needs the editor role.")
    chosen = next((p for p in providers if p.id == request.POST.get("provider")), None)
    model = request.POST.get("model", "").strip() or version.model
    if chosen is None:
        return playground.Reply("", 0, 0, 0.0, model, "Choose a provider.")
    if not MODEL_NAME.match(model):
        return playground.Reply("", 0, 0, 0.0, "", "Not a model name.")
    turns = rendered.messages or [{"role": "user", "content": rendered.text or ""}]
    return chosen.call(model, turns, playground.call_params(version.config))
