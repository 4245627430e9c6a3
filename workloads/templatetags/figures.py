"""The shared figure formats (workloads/formatting.py) as template filters, and the names of
approaches and policies from the ROI engine's registry."""

from __future__ import annotations

from django import template

from workloads import formatting, roi

register = template.Library()

for _name in ("usd", "count", "tokens", "ms", "percent", "months", "requests_per_month", "yes_no"):
    register.filter(_name, getattr(formatting, _name))


@register.filter
def approach_label(value: str) -> str:
    """ "fine-tune" → "Fine-tuned model"; unknown values are shown as they are."""
    name = roi.APPROACHES.get(value)
    return name.label if name else value


@register.filter
def policy_title(value: str) -> str:
    """ "sla_roi" → "SLA + ROI"."""
    name = roi.POLICIES.get(value)
    return name.title if name else value


@register.filter
def figure_rows(figures: dict) -> list[tuple[str, str]]:
    """A flag's figures as (label, value) rows, as the decision drafted from it lists them."""
    return formatting.figure_rows(figures or {})
