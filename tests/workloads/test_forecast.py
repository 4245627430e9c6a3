"""decisions/forecast.py: log-linear trend → month the crossover volume is reached."""

from __future__ import annotations

from datetime import date

import pytest

from workloads.forecast import add_months, forecast_crossover


def months(volumes, start=date(2025, 9, 1)):
    return [(add_months(start, i), v) for i, v in enumerate(volumes)]


def test_steady_growth_reaches_the_crossover_in_the_predicted_month():
    # 10 % a month from 100,000: 100k·1.1^k ≥ 200k first at k = 8 months after the first.
    history = months([100_000 * 1.1**k for k in range(6)])
    result = forecast_crossover(history, 200_000)
    assert result.status == "on_track"
    assert result.month == date(2026, 5, 1)
    assert result.monthly_growth == pytest.approx(0.10)
    assert "≈ May 2026" in result.message
    assert "+10.0%/month" in result.message


def test_order_of_months_does_not_matter():
    history = months([100_000 * 1.1**k for k in range(6)])
    assert forecast_crossover(history[::-1], 200_000) == forecast_crossover(history, 200_000)


def test_noisy_growth_is_fitted_not_extrapolated_from_the_last_month():
    result = forecast_crossover(months([100, 130, 118, 150, 160, 190]), 400)
    assert result.status == "on_track"
    assert 0.10 < result.monthly_growth < 0.16


def test_volume_already_past_the_crossover_says_so():
    result = forecast_crossover(months([50_000, 80_000, 120_000]), 100_000)
    assert result.status == "reached"
    assert result.month == date(2025, 11, 1)


def test_flat_volume_never_reaches_it():
    result = forecast_crossover(months([1000, 1001, 999, 1000]), 5000)
    assert result.status == "flat"
    assert result.month is None
    assert "does not reach" in result.message


def test_declining_volume_never_reaches_it():
    result = forecast_crossover(months([1000, 900, 800, 700]), 5000)
    assert result.status == "declining"
    assert result.monthly_growth < 0


def test_slow_growth_far_beyond_five_years_gives_no_date():
    result = forecast_crossover(months([1000, 1010, 1020, 1030]), 10_000_000)
    assert result.status == "beyond"
    assert result.month is None


@pytest.mark.parametrize("history", [[], [1000], [1000, 2000], [0, 0, 1000, 2000]])
def test_fewer_than_three_months_with_traffic_is_not_a_trend(history):
    result = forecast_crossover(months(history), 5000)
    assert result.status == "insufficient"
    assert result.month is None


def test_no_crossover_when_fine_tuning_cannot_pay_back():
    result = forecast_crossover(months([1, 2, 4, 8]), None)
    assert result.status == "no_crossover"


def test_trend_has_one_fitted_point_per_month():
    history = months([100 * 2**k for k in range(4)])
    trend = forecast_crossover(history, 10**6).trend
    assert [m for m, _ in trend] == [m for m, _ in history]
    assert trend[-1][1] == pytest.approx(800)
