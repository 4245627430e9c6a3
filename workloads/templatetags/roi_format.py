"""Figures for people: dollars with cents (more places for per-request amounts), counts with
thousands separators. The numbers themselves come from workloads/roi.py unchanged."""

from __future__ import annotations

from decimal import Decimal

from django import template

from workloads.models import Approach

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


@register.filter
def usd(value) -> str:
    """$1,234.50; amounts under a dollar keep up to 7 significant places ($0.0002025)."""
    number = _decimal(value)
    if number is None:
        return "—"
    sign = "−" if number < 0 else ""
    number = abs(number)
    if number >= 1 or number == 0:
        return f"{sign}${number:,.2f}"
    text = f"{number:.10f}".rstrip("0")
    return f"{sign}${text if len(text.split('.')[1]) >= 2 else f'{number:.2f}'}"


@register.filter
def count(value, places: int = 0) -> str:
    """1,234,567 (or 1,234.5 with places=1)."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = f"{number:,.{int(places)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def months(value) -> str:
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{number:,.2f}" if number >= 1 else f"{number:,.4f}".rstrip("0")


@register.filter
def approach_label(value: str) -> str:
    return dict(Approach.choices).get(value, value)
