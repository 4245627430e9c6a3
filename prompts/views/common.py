"""Lookups and helpers the registry's pages share."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from prompts import selectors
from prompts.models import PromptTemplate, PromptVersion

MAX_NUMBER = 2**31 - 1


def template_or_404(request: HttpRequest, slug: str) -> PromptTemplate:
    template = selectors.template_list(team=request.team).filter(slug=slug).first()
    if template is None:
        raise Http404("No such prompt")
    return template


def version_or_404(template: PromptTemplate, number: int) -> PromptVersion:
    version = selectors.versions_of(template).filter(number=min(number, MAX_NUMBER)).first()
    if version is None:
        raise Http404("No such version")
    return version


def back_to(template: PromptTemplate, anchor: str = "") -> HttpResponse:
    response = redirect(template)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def flat_errors(errors: dict[str, list[str]]) -> list[str]:
    return [f"{key}: {m}" if key else m for key, msgs in errors.items() for m in msgs]
