"""Small formatting filters for live figures."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value, places: int = 1) -> str:
    """0.0725 → "7.3%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(places)}f}%"


@register.filter
def usd(value) -> str:
    """-27.284 → "−$27.28"; None → "—"."""
    if value is None or value == "":
        return "—"
    number = float(value)
    return f"{'−' if number < 0 else ''}${abs(number):,.2f}"
