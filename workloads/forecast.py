"""When will a workload's volume reach its crossover? Pure Python, no Django.

The trend is a least-squares fit of log(monthly requests) against the month: constant
percentage growth, the usual shape of adoption curves, and it cannot predict negative volumes.
Only complete months count (the caller leaves out the current, partial month). Fewer than
``MIN_MONTHS`` months with traffic are not a trend, and say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from workloads import formatting as fmt

MIN_MONTHS = 3
FLAT_GROWTH = 0.005  # below ±0.5 % a month we call the volume flat
HORIZON_MONTHS = 60  # beyond five years a forecast is not worth a date


@dataclass(frozen=True)
class Forecast:
    status: str  # insufficient | no_crossover | reached | on_track | beyond | flat | declining
    message: str
    month: date | None = None  # first month whose trend volume reaches the crossover
    monthly_growth: float | None = None  # 0.12 = +12 % a month
    months_used: int = 0
    trend: tuple[tuple[date, float], ...] = ()  # fitted volume per month, for the chart


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def forecast_crossover(monthly: Sequence[tuple[date, float]], crossover: float | None) -> Forecast:
    """Forecast from complete months ``[(first day of month, requests), …]`` (any order)."""
    points = sorted((month, float(volume)) for month, volume in monthly if volume > 0)
    if crossover is None:
        return Forecast(
            "no_crossover",
            "Fine-tuned calls cost at least as much as prompted calls at these prices, so no "
            "volume makes fine-tuning pay back.",
        )
    if len(points) < MIN_MONTHS:
        return Forecast(
            "insufficient",
            f"Not enough history for a trend: {len(points)} complete month(s) with traffic, "
            f"{MIN_MONTHS} needed.",
            months_used=len(points),
        )
    first = points[0][0]
    xs = [_months_between(first, month) for month, _ in points]
    ys = [math.log(volume) for _, volume in points]
    slope, intercept = _least_squares(xs, ys)
    growth = math.exp(slope) - 1
    last_month, last_volume = points[-1]
    trend = tuple(
        (month, math.exp(intercept + slope * x)) for (month, _), x in zip(points, xs, strict=True)
    )
    common = {"monthly_growth": growth, "months_used": len(points), "trend": trend}
    rate = f"{growth:+.1%}/month"
    target = fmt.requests_per_month(crossover)
    if last_volume >= crossover:
        return Forecast(
            "reached",
            f"Volume ({fmt.count(last_volume)} requests in {last_month:%B %Y}) is already past the "
            f"crossover volume of {target}: fine-tuning pays back within the horizon now.",
            month=last_month,
            **common,
        )
    if growth < FLAT_GROWTH:
        shape = "declining" if growth <= -FLAT_GROWTH else "flat"
        return Forecast(
            shape,
            f"Volume is {shape} ({rate} over {len(points)} months): at this trend it does not "
            f"reach the crossover volume of {target}.",
            **common,
        )
    level = math.exp(intercept + slope * xs[-1])
    months_needed = max(1, math.ceil(math.log(crossover / level) / slope))
    if months_needed > HORIZON_MONTHS:
        return Forecast(
            "beyond",
            f"At current growth ({rate}) the crossover volume of {target} is more than "
            f"{HORIZON_MONTHS // 12} years away.",
            **common,
        )
    month = add_months(last_month, months_needed)
    return Forecast(
        "on_track",
        f"At current growth ({rate}), fine-tuning pays back within the horizon by ≈ "
        f"{month:%B %Y}, when volume reaches the crossover of {target}.",
        month=month,
        **common,
    )


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx if sxx else 0.0
    return slope, mean_y - slope * mean_x
