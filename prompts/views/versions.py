"""The new-version editor with its live panel, a version's page, and the diff of two
versions."""

from __future__ import annotations

import json
import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from prompts import content as prompt_content
from prompts import selectors, services
from prompts import serializers as s
from prompts.diff import version_diff
from prompts.forms import (
    RESPONSE_FORMATS,
    Editor,
    serializer_errors,
)
from prompts.models import PromptTemplate
from prompts.views.common import MAX_NUMBER, flat_errors, template_or_404, version_or_404
from teams.scoping import team_view


@team_view
def prompt_version_new(request: HttpRequest, slug: str) -> HttpResponse:
    template = template_or_404(request, slug)
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
    template = template_or_404(request, slug)
    preview = _preview(request.team, template, Editor.from_post(request.POST))
    return render(request, "prompts/version_form.html#analysis", {"preview": preview})


def _preview(team, template: PromptTemplate, editor: Editor) -> dict:
    data, errors = editor.api_data()
    serializer = s.PromptVersionWriteSerializer(data=data)
    if not serializer.is_valid() or errors:
        return {"errors": flat_errors({**serializer_errors(serializer), **errors})}
    try:
        content = serializer.validated_data["content"]
        figures = selectors.content_figures(team=team, slug=template.slug, content=content)
    except prompt_content.ContentInvalid as exc:
        return {"errors": [f"{field}: {message}" for field, message in exc.errors]}
    return {"errors": [], "figures": figures, "content": content}


@team_view
def prompt_version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    template = template_or_404(request, slug)
    version = version_or_404(template, number)
    context = {
        "prompt": template,
        "version": version,
        "labels": selectors.version_labels(version),
        "config_json": json.dumps(version.config, indent=2, ensure_ascii=False),
    }
    return render(request, "prompts/version.html", context)


@team_view
def prompt_diff(request: HttpRequest, slug: str) -> HttpResponse:
    template = template_or_404(request, slug)
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
