"""Percentiles and bootstrap intervals, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from evaluations.scoring import macro_f1, macro_f1_of_counts
from evaluations.stats import bootstrap, latency_percentiles, mean, percentile

# numpy's "linear" method: position (n - 1)·q/100 between the sorted values, interpolated.
SAMPLE = [50, 15, 40, 20, 35]  # sorted: 15 20 35 40 50


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0, 15), (40, 29), (50, 35), (95, 48), (99, 49.6), (100, 50)],
)
def test_percentile_interpolates_between_closest_ranks(q, expected):
    # q=40: position 1.6 → 20 + 0.6·(35 − 20) = 29; q=99: position 3.96 → 40 + 0.96·10 = 49.6
    assert percentile(SAMPLE, q) == pytest.approx(expected)


def test_percentile_of_one_value_is_that_value():
    assert percentile([7.5], 99) == 7.5


def test_percentile_refuses_nonsense():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_latency_percentiles_name_p50_p95_p99():
    values = list(range(1, 101))  # 1..100: position 0.99·99 = 98.01 → 99.01
    assert latency_percentiles(values) == pytest.approx({"p50": 50.5, "p95": 95.05, "p99": 99.01})
    assert latency_percentiles([]) == {"p50": None, "p95": None, "p99": None}


def test_bootstrap_of_two_values_spans_both():
    # Resampling [0, 1] gives means 0, ½ and 1 with chances ¼, ½, ¼: the 2.5th and 97.5th
    # percentiles of that distribution are 0 and 1.
    estimate = bootstrap([0.0, 1.0], resamples=4000, seed=3)
    assert (estimate.value, estimate.ci_low, estimate.ci_high) == (0.5, 0.0, 1.0)


def test_bootstrap_of_constant_values_has_no_width():
    estimate = bootstrap([1.0] * 30)
    assert (estimate.value, estimate.ci_low, estimate.ci_high) == (1.0, 1.0, 1.0)


def test_bootstrap_matches_the_normal_approximation_on_a_large_sample():
    values = [1.0] * 300 + [0.0] * 100  # p = 0.75, n = 400
    p, n = 0.75, 400
    half_width = 1.959964 * math.sqrt(p * (1 - p) / n)  # ≈ 0.04244
    estimate = bootstrap(values, resamples=5000, seed=11)
    assert estimate.value == pytest.approx(0.75)
    assert estimate.ci_low == pytest.approx(p - half_width, abs=0.01)
    assert estimate.ci_high == pytest.approx(p + half_width, abs=0.01)
    assert estimate.ci_low < estimate.value < estimate.ci_high


def test_bootstrap_is_reproducible_with_its_seed():
    values = [0.1, 0.9, 0.4, 0.7, 0.2, 0.8, 0.3]
    first, again = bootstrap(values, seed=42), bootstrap(values, seed=42)
    assert first == again
    other = bootstrap(values, seed=43)
    assert (other.ci_low, other.ci_high) != (first.ci_low, first.ci_high)


def test_bootstrap_resamples_pairs_for_macro_f1():
    pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("b", "b"), ("c", None), ("c", "c")] * 10
    estimate = bootstrap(pairs, macro_f1_of_counts, resamples=500, seed=1)
    assert estimate.value == pytest.approx(macro_f1(pairs))
    assert 0 <= estimate.ci_low <= estimate.value <= estimate.ci_high <= 1
    assert estimate.n == 60


def test_mean_and_bootstrap_refuse_no_values():
    with pytest.raises(ValueError):
        mean([])
    with pytest.raises(ValueError):
        bootstrap([])
    with pytest.raises(ValueError):
        bootstrap([1.0], confidence=1.0)


def test_bootstrap_of_many_distinct_values_matches_the_normal_approximation():
    # 400 distinct values (each resample drawn item by item, not as counts): mean 0.5,
    # standard deviation √((n² − 1) / 12) / n of the uniform grid.
    values = [(i + 0.5) / 400 for i in range(400)]
    sd = math.sqrt((400**2 - 1) / 12) / 400
    half_width = 1.959964 * sd / math.sqrt(400)  # ≈ 0.0283
    estimate = bootstrap(values, resamples=4000, seed=5)
    assert estimate.value == pytest.approx(0.5)
    assert estimate.ci_low == pytest.approx(0.5 - half_width, abs=0.006)
    assert estimate.ci_high == pytest.approx(0.5 + half_width, abs=0.006)


def test_macro_f1_of_counts_is_macro_f1_of_the_repeated_pairs():
    counts = {("a", "a"): 3, ("a", "b"): 2, ("b", "b"): 4, ("c", None): 1, (None, "a"): 5}
    pairs = [pair for pair, times in counts.items() for _ in range(times)]
    assert macro_f1_of_counts(counts) == pytest.approx(macro_f1(pairs))
