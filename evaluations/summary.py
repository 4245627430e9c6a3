"""The per-candidate summary of a benchmark run, computed from its per-call rows (pure Python).

This is the one place the comparison figures are computed: the final aggregation stores its
result on the run, and exports and pages read it from there. Scores are computed over the calls
that answered (a failed call counts in `errors` and `error_rate`, not in the scores); latency
percentiles and costs too. Every score has a seeded 95% percentile-bootstrap interval
(`evaluations.stats.bootstrap`), so the same rows and seed always give the same summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from evaluations import scoring, stats

# Per-call scorers whose summary is the mean of the per-call values; macro-F1 is computed from
# the (expected, predicted) label pairs instead.
PAIR_SCORERS = (scoring.MACRO_F1,)


@dataclass(frozen=True)
class Call:
    """What the summary needs of one stored call."""

    candidate: str  # the candidate's label
    ok: bool
    latency_ms: float | None
    input_tokens: int
    cost: Decimal | None
    scores: dict[str, float | None]
    expected_label: str | None = None
    predicted_label: str | None = None


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _estimate(items: Sequence, statistic, *, seed: int, resamples: int) -> dict | None:
    if not items:
        return None
    estimate = stats.bootstrap(items, statistic, seed=seed, resamples=resamples)
    return {**estimate.as_dict(), "n": estimate.n}


def _scores(answered: list[Call], scorers: Sequence[str], *, seed: int, resamples: int) -> dict:
    scores: dict[str, dict | None] = {}
    for name in scorers:
        if name in PAIR_SCORERS:
            pairs = [(c.expected_label, c.predicted_label) for c in answered
                     if c.expected_label is not None]  # fmt: skip
            scores[name] = _estimate(
                pairs, scoring.macro_f1_of_counts, seed=seed, resamples=resamples
            )
        else:
            values = [v for c in answered if (v := c.scores.get(name)) is not None]
            scores[name] = _estimate(values, stats.mean_of_counts, seed=seed, resamples=resamples)
    return scores


def candidate_summary(
    label: str,
    calls: Sequence[Call],
    scorers: Sequence[str],
    *,
    seed: int = stats.DEFAULT_SEED,
    resamples: int = stats.DEFAULT_RESAMPLES,
) -> dict:
    """The figures of one candidate (the API's `summary.candidates[]` shape, plus a few)."""
    answered = [call for call in calls if call.ok]
    errors = len(calls) - len(answered)
    latencies = [call.latency_ms for call in answered if call.latency_ms is not None]
    costs = [call.cost for call in answered if call.cost is not None]
    input_tokens = sum(call.input_tokens for call in answered if call.cost is not None)
    total_cost = sum(costs, Decimal(0))
    return {
        "label": label,
        "calls": len(calls),
        "errors": errors,
        "error_rate": errors / len(calls) if calls else None,
        "latency_ms": stats.latency_percentiles(latencies),
        "latency_mean_ms": stats.mean(latencies) if latencies else None,
        "cost_per_request": _float(total_cost / len(costs)) if costs else None,
        "cost_per_1m_input_tokens": (
            _float(total_cost * 1_000_000 / input_tokens) if input_tokens else None
        ),
        "priced_calls": len(costs),
        "mean_input_tokens": (stats.mean([c.input_tokens for c in answered]) if answered else None),
        "scores": _scores(answered, scorers, seed=seed, resamples=resamples),
    }


def summarize(
    labels: Sequence[str],
    calls: Iterable[Call],
    scorers: Sequence[str],
    *,
    seed: int = stats.DEFAULT_SEED,
    resamples: int = stats.DEFAULT_RESAMPLES,
) -> dict:
    """`{"candidates": [...], "best": {metric: [labels]}}` for the candidates in `labels` order."""
    by_label: dict[str, list[Call]] = {label: [] for label in labels}
    for call in calls:
        by_label[call.candidate].append(call)
    candidates = [
        candidate_summary(label, by_label[label], scorers, seed=seed, resamples=resamples)
        for label in labels
    ]
    return {"candidates": candidates, "best": best_per_metric(candidates, scorers)}


# metric -> (how to read it from a candidate summary, whether higher is better)
def _metrics(scorers: Sequence[str]) -> dict[str, tuple]:
    metrics = {
        "error_rate": (lambda c: c["error_rate"], False),
        "latency_p50": (lambda c: c["latency_ms"]["p50"], False),
        "latency_p95": (lambda c: c["latency_ms"]["p95"], False),
        "latency_p99": (lambda c: c["latency_ms"]["p99"], False),
        "cost_per_request": (lambda c: c["cost_per_request"], False),
        "cost_per_1m_input_tokens": (lambda c: c["cost_per_1m_input_tokens"], False),
    }
    for name in scorers:
        metrics[f"score:{name}"] = (
            lambda c, name=name: (c["scores"].get(name) or {}).get("value"),
            True,
        )
    return metrics


def best_per_metric(candidates: Sequence[dict], scorers: Sequence[str]) -> dict[str, list[str]]:
    """For each metric, the labels of the candidates with the best value (ties all win); a
    metric no candidate has, or that only one candidate has, names nobody."""
    best: dict[str, list[str]] = {}
    for metric, (read, higher) in _metrics(scorers).items():
        known = [(c["label"], value) for c in candidates if (value := read(c)) is not None]
        if len(known) < 2:
            best[metric] = []
            continue
        target = (max if higher else min)(value for _, value in known)
        best[metric] = [label for label, value in known if value == target]
    return best
