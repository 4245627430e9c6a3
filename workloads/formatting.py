"""Figures for people, written one way everywhere: money, counts, tokens, latency, rates, months.

The pages (through the `figures` template library), the ROI engine's reasons, drafted decision
records and their exports all format through this module, so a figure reads the same on the
dashboard, the workload page, a flag and an ADR. Pure Python (no Django import).

Rules: thousands separators; trailing zeros dropped; dollars with cents from $1 up and up to four
significant digits below it ($0.000321); a negative amount with a real minus sign (−$27.30);
`None` (not known) as an em dash, unless the caller says what it means ("never", "not measured").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

DASH = "—"
MINUS = "−"


def decimal_or_none(value: object) -> Decimal | None:
    """A number from an int, float, Decimal or numeric string; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    elif isinstance(value, str):
        value = value.strip().replace(",", "")
    elif not isinstance(value, int | Decimal):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _quantize(number: Decimal, places: int) -> Decimal:
    # Half up, as people round (the ROI engine's JSON rounding is half-even). Enough precision
    # for the integer digits too, or quantize refuses big figures.
    context = Context(prec=max(34, number.adjusted() + places + 2), rounding=ROUND_HALF_UP)
    return number.quantize(Decimal(1).scaleb(-places), context=context)


def number(value: object, places: int = 2) -> str:
    """1,234.5 — thousands separators and at most `places` decimals (trailing zeros dropped)."""
    figure = decimal_or_none(value)
    if figure is None:
        return DASH
    text = format(_quantize(abs(figure), places), ",f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    negative = figure < 0 and text.strip("0.,") != ""
    return f"{MINUS}{text}" if negative else text


def count(value: object) -> str:
    """Requests, tokens a month, examples: whole numbers, 2,289,868."""
    return number(value, 0)


def tokens(value: object) -> str:
    """Tokens per request, which are means: 1,983.3."""
    return number(value, 1)


def usd(value: object) -> str:
    """$1,234.50 · $0.000321 · −$27.30. Below a dollar, four significant digits (at least two
    decimals): per-request costs are fractions of a cent."""
    figure = decimal_or_none(value)
    if figure is None:
        return DASH
    size = abs(figure)
    places = 2 if size >= 1 or size == 0 else max(2, -size.adjusted() + 3)
    text = format(_quantize(size, places), ",f")
    if places > 2:
        whole, _, fraction = text.partition(".")
        text = f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"
    sign = MINUS if figure < 0 and text.strip("0.,") != "" else ""
    return f"{sign}${text}"


def ms(value: object) -> str:
    """Latency: 824.7 ms."""
    figure = decimal_or_none(value)
    return DASH if figure is None else f"{number(figure, 1)} ms"


def percent(value: object) -> str:
    """A rate (a fraction of 1) as a percentage: 0.068218 → 6.82%."""
    figure = decimal_or_none(value)
    return DASH if figure is None else f"{number(figure * 100, 2)}%"


def months(value: object) -> str:
    """A duration in months: 7.78 months, 1 month; short paybacks keep two significant digits
    (0.042 months) rather than reading as 0."""
    figure = decimal_or_none(value)
    if figure is None:
        return DASH
    places = 2 if abs(figure) >= 1 or figure == 0 else max(2, -figure.adjusted() + 1)
    text = number(figure, places)
    return f"{text} month{'' if text == '1' else 's'}"


def requests_per_month(value: object) -> str:
    """A monthly volume for a sentence: 2,746,506 requests/month."""
    figure = decimal_or_none(value)
    return DASH if figure is None else f"{count(figure)} requests/month"


def yes_no(value: object) -> str:
    return "yes" if value is True else "no" if value is False else DASH


def plain(value: object) -> object:
    """A stored figure as a person would type it into a form (0.15, not 0.150000; no
    separators); anything that is not a number is returned unchanged."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    figure = Decimal(str(value))
    return format(figure.normalize(), "f") if figure else "0"


UNITS = {
    "count": count,
    "tokens": tokens,
    "usd": usd,
    "ms": ms,
    "rate": percent,
    "months": months,
    "requests_per_month": requests_per_month,
}


def quantity(unit: str, value: object) -> str:
    """`value` in `unit` (a key of UNITS); numbers of an unknown unit read as plain numbers."""
    return UNITS.get(unit, number)(value)


# --- the figures of an assessment -------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A figure the product shows: its name in assessments, flags and revisit triggers, its
    words in a sentence ("p99 latency") and its unit."""

    name: str
    words: str
    unit: str


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in (
        Figure("monthly_requests", "monthly requests", "count"),
        Figure("crossover_monthly_requests", "crossover volume", "requests_per_month"),
        Figure("monthly_tokens", "monthly tokens", "count"),
        Figure("token_cutoff_per_month", "token cutoff per month", "count"),
        Figure("latency_p99_ms", "p99 latency", "ms"),
        Figure("latency_sla_ms", "latency SLA", "ms"),
        Figure("format_error_rate", "format error rate", "rate"),
        Figure("format_error_threshold", "format error threshold", "rate"),
        Figure("cost_per_request", "cost per request", "usd"),
        Figure("monthly_cost", "monthly cost", "usd"),
        Figure("prompt_monthly_cost", "prompted monthly cost", "usd"),
        Figure("fine_tune_monthly_cost", "fine-tuned monthly cost", "usd"),
        Figure("monthly_savings", "monthly savings from fine-tuning", "usd"),
        Figure("payback_months", "payback period", "months"),
        Figure("horizon_months", "payback horizon", "months"),
    )
}


def figure(name: str, value: object) -> str:
    """A named figure (a key of FIGURES) in its unit."""
    known = FIGURES.get(name)
    return quantity(known.unit if known else "number", value)


def figure_rows(figures: Mapping[str, object]) -> list[tuple[str, str]]:
    """A flag's (or an assessment's) figures as (label, value) rows, for the flag page and the
    decision record drafted from it. Unknown figures say so instead of disappearing."""

    def get(name: str) -> object:
        return figures.get(name)

    def measured(name: str, limit: str, limit_words: str) -> str:
        value = figure(name, get(name)) if get(name) is not None else "not measured"
        return f"{value} ({limit_words} {figure(limit, get(limit))})"

    rows = []
    if get("monthly_requests") is not None:
        rows.append(("Requests per month", count(get("monthly_requests"))))
    crossover = get("crossover_monthly_requests")
    rows.append(
        (
            "Crossover volume",
            requests_per_month(crossover)
            if crossover is not None
            else "none: fine-tuning cannot pay back at these prices",
        )
    )
    if get("monthly_tokens") is not None:
        rows.append(
            (
                "Tokens per month",
                f"{count(get('monthly_tokens'))} (cutoff {count(get('token_cutoff_per_month'))})",
            )
        )
    rows.append(("p99 latency", measured("latency_p99_ms", "latency_sla_ms", "SLA")))
    rows.append(
        ("Format error rate", measured("format_error_rate", "format_error_threshold", "threshold"))
    )
    rows.append(
        (
            "Monthly cost, prompted / fine-tuned",
            f"{usd(get('prompt_monthly_cost'))} / {usd(get('fine_tune_monthly_cost'))}",
        )
    )
    rows.append(("Monthly savings from fine-tuning", usd(get("monthly_savings"))))
    payback = get("payback_months")
    rows.append(
        (
            "Payback",
            f"{months(payback) if payback is not None else 'never'} "
            f"(horizon {months(get('horizon_months'))})",
        )
    )
    return rows


# --- sentences --------------------------------------------------------------------------------


def savings_phrase(monthly_savings: object) -> str:
    """What fine-tuning does to the monthly bill, with the sign in words:
    "would save $453.00 a month", "would cost $5.40 a month more"."""
    figure_ = decimal_or_none(monthly_savings)
    if figure_ is None:
        return "has no known effect on the monthly cost"
    if not _quantize(figure_, 2):  # less than half a cent a month
        return "would cost the same each month"
    if figure_ > 0:
        return f"would save {usd(figure_)} a month"
    return f"would cost {usd(-figure_)} a month more"


def bullets(items: Iterable[str]) -> str:
    """A markdown list, one item a line. Join it to the text before with a blank line: lists
    that follow a paragraph line directly run on in most renderers."""
    return "\n".join(f"- {' '.join(str(item).split())}" for item in items)


def paragraphs(*blocks: str) -> str:
    """Markdown blocks (paragraphs, lists) separated by blank lines; empty blocks are dropped."""
    return "\n\n".join(block.strip() for block in blocks if block and block.strip())
