"""How the benchmark pages write their figures."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def figure(value, unit: str) -> str:
    """A figure in its unit: `ms`, `usd`, `rate`, `score` or `count`; an em dash when unknown."""
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "usd":
        return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.6f}".rstrip("0")
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "score":
        return f"{value:.3f}"
    return f"{value:,}"
