"""The list, a template's page with its labels (moves, rollback, history), settings, and
import/export."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from prompts import selectors, services
from prompts import serializers as s
from prompts.checking import SLUG_RE
from prompts.forms import (
    ImportForm,
    LabelMoveForm,
    TemplateForm,
    serializer_errors,
)
from prompts.models import PromptTemplate
from prompts.views.common import back_to, flat_errors, template_or_404
from teams.scoping import team_view

LIST_PAGE_SIZE = 50
VERSIONS_PAGE_SIZE = 50
MAX_IMPORT_BYTES = 4 * 1024 * 1024


@team_view
def prompt_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    tag = request.GET.get("tag", "").strip()
    tag = tag if SLUG_RE.match(tag) else ""
    rows = selectors.template_list(team=request.team, q=q, tag=tag)
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "tag": tag, "tags": selectors.template_tags(team=request.team)}
    template = "prompts/list.html"
    response = render(request, f"{template}#results" if request.htmx else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@team_view
def prompt_create(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None, initial={"protected_labels": "production"})
    if request.method == "POST" and form.is_valid():
        serializer = s.PromptTemplateWriteSerializer(data=form.api_data())
        if serializer.is_valid():
            try:
                template = services.prompt_template_create(
                    team=request.team, actor=request.user, **serializer.validated_data
                )
            except ValidationError as exc:
                form.add_serializer_errors(exc.message_dict)
            else:
                messages.success(request, f"{template.name} created: now write its first version.")
                return redirect("prompts:prompt_version_new", request.team.slug, template.slug)
        else:
            form.add_serializer_errors(serializer_errors(serializer))
    status = 400 if request.method == "POST" else 200
    return render(request, "prompts/template_form.html", {"form": form}, status=status)


@team_view
def prompt_detail(request: HttpRequest, slug: str) -> HttpResponse:
    template = template_or_404(request, slug)
    versions = Paginator(selectors.versions_of(template), VERSIONS_PAGE_SIZE)
    page = versions.get_page(request.GET.get("page"))
    for version in page:
        version.label_list = selectors.version_labels(version)
    labels = [
        {**vars(state), "rollback": _rollback_target(state)}
        for state in selectors.labels_with_history(template)
    ]
    numbers = list(range(template.latest_number or 0, 0, -1))
    context = {
        "prompt": template,
        "page": page,
        "labels": labels,
        "numbers": numbers,
        "gate": selectors.gate_data(template),
        "is_admin": request.membership.is_admin,
    }
    return render(request, "prompts/detail.html", context)


def _rollback_target(state: selectors.LabelState) -> int | None:
    if state.implicit or not state.history:
        return None
    last = state.history[0]
    return last.from_version.number if last.from_version is not None else None


@require_POST
@team_view
def prompt_label_move(request: HttpRequest, slug: str) -> HttpResponse:
    template = template_or_404(request, slug)
    form = LabelMoveForm(request.POST)
    label = s.PromptSelectorSerializer(data={"label": request.POST.get("label", "").strip()})
    if not form.is_valid() or not label.is_valid():
        errors = {**form.errors, **serializer_errors(label)} if form.is_valid() else form.errors
        messages.error(request, "Label not moved: " + _one_line(errors))
        return back_to(template, "labels")
    name = label.validated_data["label"]
    try:
        moved = services.prompt_label_move(
            template=template,
            label=name,
            number=form.cleaned_data["version"],
            note=form.cleaned_data["note"],
            user=request.user,
            is_admin=request.membership.is_admin,
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, "Label not moved: " + _one_line(exc.message_dict))
    else:
        if moved.move is None:
            number = form.cleaned_data["version"]
            messages.info(request, f"{name} already points at version {number}.")
        else:
            source = moved.move.from_version
            where = f"from version {source.number} " if source else ""
            messages.success(
                request, f"{name} moved {where}to version {moved.move.to_version.number}."
            )
    return back_to(template, "labels")


def _one_line(errors) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, msgs))}" if name else " ".join(map(str, msgs))
                     for name, msgs in errors.items())  # fmt: skip


@team_view
def prompt_settings(request: HttpRequest, slug: str) -> HttpResponse:
    template = template_or_404(request, slug)
    form = TemplateForm(
        request.POST or None,
        initial=TemplateForm.initial_for(template),
        editing=True,
        can_protect=request.membership.is_admin,
    )
    if request.method == "POST" and form.is_valid():
        serializer = s.PromptTemplateUpdateSerializer(data=form.api_data())
        if serializer.is_valid():
            services.prompt_template_update(
                template=template, changes=serializer.validated_data, actor=request.user
            )
            messages.success(request, f"{template.name} saved.")
            return back_to(template)
        form.add_serializer_errors(serializer_errors(serializer))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "prompts/template_form.html", {"form": form, "prompt": template}, status=status
    )


@team_view
def prompt_export(request: HttpRequest, slug: str) -> HttpResponse:
    template = template_or_404(request, slug)
    data = selectors.template_export(template)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{template.slug}.prompt.json"'
    return response


@team_view
def prompt_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            errors = [f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB."]
        else:
            template, errors = _import(request, upload.read(), form.cleaned_data["slug"].strip())
            if template is not None:
                messages.success(
                    request, f"{template.name} imported with {template.versions.count()} versions."
                )
                return redirect(template)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "errors": errors}
    return render(request, "prompts/import.html", context, status=status)


def _import(request, raw: bytes, slug: str) -> tuple[PromptTemplate | None, list[str]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        return None, [f"Not a JSON export: {str(exc)[:200]}"]
    if not isinstance(data, dict):
        return None, ["Not a prompt export: expected a JSON object."]
    if slug:
        data["slug"] = slug
    serializer = s.PromptImportSerializer(data=data)
    if not serializer.is_valid():
        return None, flat_errors(serializer_errors(serializer))
    valid = serializer.validated_data
    fields = {k: valid[k] for k in ("slug", "name", "description", "tags", "protected_labels",
                                    "gate") if k in valid}  # fmt: skip
    try:
        template = services.prompt_template_import(
            team=request.team,
            template_data=fields,
            versions=valid["versions"],
            labels=valid.get("labels", {}),
            actor=request.user,
        )
    except ValidationError as exc:
        return None, [f"{k}: {' '.join(m)}" for k, m in exc.message_dict.items()]
    return template, []
