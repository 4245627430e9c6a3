"""Browser pages of the prompt registry: list, template page with labels and history, the
new-version editor with live analysis, version page, playground, diff, settings, import/export."""

from __future__ import annotations

import json
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from prompts import content as prompt_content
from prompts import playground, selectors, services
from prompts import serializers as s
from prompts.diff import version_diff
from prompts.forms import (
    RESPONSE_FORMATS,
    Editor,
    ImportForm,
    LabelMoveForm,
    TemplateForm,
    serializer_errors,
)
from prompts.models import PromptTemplate, PromptVersion
from prompts.rendering import SLUG_RE, TemplateInvalid
from teams.models import Role
from teams.scoping import team_view

LIST_PAGE_SIZE = 50
VERSIONS_PAGE_SIZE = 50
MAX_NUMBER = 2**31 - 1
MAX_IMPORT_BYTES = 4 * 1024 * 1024
MODEL_NAME = re.compile(r"^[A-Za-z0-9._:/@+-]{1,200}$")


def _template(request: HttpRequest, slug: str) -> PromptTemplate:
    template = selectors.template_list(team=request.team).filter(slug=slug).first()
    if template is None:
        raise Http404("No such prompt")
    return template


def _version(template: PromptTemplate, number: int) -> PromptVersion:
    version = selectors.versions_of(template).filter(number=min(number, MAX_NUMBER)).first()
    if version is None:
        raise Http404("No such version")
    return version


def _detail(template: PromptTemplate, anchor: str = "") -> HttpResponse:
    response = redirect(template)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


# The list ---------------------------------------------------------------------------------------


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


# The template page ------------------------------------------------------------------------------


@team_view
def prompt_detail(request: HttpRequest, slug: str) -> HttpResponse:
    template = _template(request, slug)
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
    template = _template(request, slug)
    form = LabelMoveForm(request.POST)
    label = s.PromptSelectorSerializer(data={"label": request.POST.get("label", "").strip()})
    if not form.is_valid() or not label.is_valid():
        errors = {**form.errors, **serializer_errors(label)} if form.is_valid() else form.errors
        messages.error(request, "Label not moved: " + _one_line(errors))
        return _detail(template, "labels")
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
    return _detail(template, "labels")


def _one_line(errors) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, msgs))}" if name else " ".join(map(str, msgs))
                     for name, msgs in errors.items())  # fmt: skip


@team_view
def prompt_settings(request: HttpRequest, slug: str) -> HttpResponse:
    template = _template(request, slug)
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
            return _detail(template)
        form.add_serializer_errors(serializer_errors(serializer))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "prompts/template_form.html", {"form": form, "prompt": template}, status=status
    )


# Versions ---------------------------------------------------------------------------------------


@team_view
def prompt_version_new(request: HttpRequest, slug: str) -> HttpResponse:
    template = _template(request, slug)
    if request.method != "POST":
        start = request.GET.get("from", "")
        base = (
            selectors.versions_of(template).filter(number=min(int(start), MAX_NUMBER)).first()
            if start.isdigit()
            else selectors.versions_of(template).first()
        )
        editor = Editor.from_version(base) if base else Editor.blank()
        return _editor(request, template, editor, base=base)
    editor = Editor.from_post(request.POST)
    action = request.POST.get("action", "save")
    if action != "save":
        return _editor(request, template, editor, focus=editor.apply(action))
    data, errors = editor.api_data()
    serializer = s.PromptVersionWriteSerializer(data=data)
    if not serializer.is_valid() or errors:
        errors = {**serializer_errors(serializer), **errors}
        return _editor(request, template, editor, errors=errors, status=400)
    try:
        saved = services.prompt_version_create(
            template=template, author=request.user, **serializer.validated_data
        )
    except ValidationError as exc:
        return _editor(request, template, editor, errors=exc.message_dict, status=400)
    if saved.created:
        messages.success(request, f"Saved as version {saved.version.number}.")
    else:
        messages.info(request, saved.detail)
    return redirect(saved.version)


def _editor(request, template, editor, *, base=None, errors=None, focus="", status=200):
    errors = errors or {}
    context = {
        "prompt": template,
        "editor": editor,
        "base": base,
        "errors": errors,
        "message_rows": [
            {
                **m,
                "index": i,
                "number": i + 1,
                "errors": _row_errors(errors, "messages", i),
                "focus": _focus(focus, f"message-{i}-"),
            }
            for i, m in enumerate(editor.messages)
        ],  # fmt: skip
        "example_rows": [
            {
                **ex,
                "index": i,
                "number": i + 1,
                "errors": _row_errors(errors, "few_shot", i),
                "focus": focus == f"example-{i}-input",
            }
            for i, ex in enumerate(editor.examples)
        ],  # fmt: skip
        "other_errors": _other_errors(errors),
        "focus": focus,
        "roles": prompt_content.ROLES,
        "response_formats": RESPONSE_FORMATS,
        "preview": _preview(request.team, template, editor) if not errors else None,
    }
    return render(request, "prompts/version_form.html", context, status=status)


def _focus(focus: str, prefix: str) -> str:
    return focus.removeprefix(prefix) if focus.startswith(prefix) else ""


def _flat(errors: dict[str, list[str]]) -> list[str]:
    return [f"{key}: {m}" if key else m for key, msgs in errors.items() for m in msgs]


def _row_errors(errors: dict, prefix: str, index: int) -> list[str]:
    start = f"{prefix}.{index}."
    return [m for key, msgs in errors.items() if f"{key}.".startswith(start) for m in msgs]


def _other_errors(errors: dict) -> list[str]:
    rows = re.compile(r"^(messages|few_shot)\.\d+(\.|$)")
    return [f"{key}: {m}" if key else m for key, msgs in errors.items()
            if not rows.match(key) for m in msgs]  # fmt: skip


@team_view
@require_POST
def prompt_version_analyze(request: HttpRequest, slug: str) -> HttpResponse:
    """The editor's live panel (htmx): variables, static tokens and warnings as typed."""
    template = _template(request, slug)
    preview = _preview(request.team, template, Editor.from_post(request.POST))
    return render(request, "prompts/version_form.html#analysis", {"preview": preview})


def _preview(team, template: PromptTemplate, editor: Editor) -> dict:
    data, errors = editor.api_data()
    serializer = s.PromptVersionWriteSerializer(data=data)
    if not serializer.is_valid() or errors:
        return {"errors": _flat({**serializer_errors(serializer), **errors})}
    try:
        content = serializer.validated_data["content"]
        figures = selectors.content_figures(team=team, slug=template.slug, content=content)
    except prompt_content.ContentInvalid as exc:
        return {"errors": [f"{field}: {message}" for field, message in exc.errors]}
    return {"errors": [], "figures": figures, "content": content}


@team_view
def prompt_version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    template = _template(request, slug)
    version = _version(template, number)
    context = {
        "prompt": template,
        "version": version,
        "labels": selectors.version_labels(version),
        "config_json": json.dumps(version.config, indent=2, ensure_ascii=False),
    }
    return render(request, "prompts/version.html", context)


@team_view(write_role=Role.VIEWER)
def prompt_playground(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Render a version with variables; with a provider, also call the model (editors)."""
    template = _template(request, slug)
    version = _version(template, number)
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
        result["errors"] = _flat(serializer_errors(serializer))
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


@team_view
def prompt_diff(request: HttpRequest, slug: str) -> HttpResponse:
    template = _template(request, slug)
    latest = template.latest_number
    if not latest:
        raise Http404("No versions to compare")
    old_n = _number(request.GET.get("from"), max(latest - 1, 1))
    new_n = _number(request.GET.get("to"), latest)
    pair = selectors.versions_of(template).filter(number__in=[old_n, new_n])
    versions = {v.number: v for v in pair}
    if old_n not in versions or new_n not in versions:
        raise Http404("No such version")
    old, new = versions[old_n], versions[new_n]
    changes = version_diff(old.content, new.content)
    heading = "Text" if old.kind == new.kind == "text" else "Messages"
    context = {
        "prompt": template,
        "old": old,
        "new": new,
        "diff": changes,
        "sections": [(heading, changes.blocks), ("Few-shot examples", changes.examples)],
        "numbers": list(range(latest, 0, -1)),
    }
    return render(request, "prompts/diff.html", context)


def _number(raw: str | None, default: int) -> int:
    return min(int(raw), MAX_NUMBER) if raw and raw.isdigit() else default


# Import and export ------------------------------------------------------------------------------


@team_view
def prompt_export(request: HttpRequest, slug: str) -> HttpResponse:
    template = _template(request, slug)
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
        return None, _flat(serializer_errors(serializer))
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
