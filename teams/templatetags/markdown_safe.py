from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from teams.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown_safe")
def markdown_safe(text: str | None) -> SafeString:
    """`{{ decision.context_and_problem_statement|markdown_safe }}`: sanitised by nh3."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - nh3 output is safe
