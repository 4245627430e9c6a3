"""The per-candidate summary, against figures computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations import stats
from evaluations.benchmark_scoring import Scorer
from evaluations.summary import Call, best_per_metric, summarize


def call(label, ok=True, latency=100.0, tokens=1000, cost="0.001", **scores):
    return Call(label, ok, latency, tokens, Decimal(cost) if cost else None, scores,
                scores.pop("want", None), scores.pop("got", None))  # fmt: skip


def test_errors_count_in_the_error_rate_not_in_scores_or_latency():
    calls = [call("a", latency=float(i), accuracy=float(i % 2)) for i in range(1, 10)]
    calls.append(call("a", ok=False, latency=30_000.0, tokens=0, cost=None))
    summary = summarize(["a"], calls, ["accuracy"])["candidates"][0]
    assert summary["calls"] == 10 and summary["errors"] == 1
    assert summary["error_rate"] == 0.1
    # 1..9: p50 = 5, p99 = 8 + 0.92 * (9 - 8) (linear interpolation)
    assert summary["latency_ms"]["p50"] == 5.0
    assert summary["latency_ms"]["p99"] == pytest.approx(8.92)
    assert summary["scores"]["accuracy"]["value"] == pytest.approx(5 / 9)
    assert summary["scores"]["accuracy"]["n"] == 9


def test_costs_per_request_and_per_million_input_tokens():
    calls = [call("a", tokens=1000, cost="0.002"), call("a", tokens=3000, cost="0.004"),
             call("a", tokens=500, cost=None)]  # an unpriced call  # fmt: skip
    summary = summarize(["a"], calls, [])["candidates"][0]
    assert summary["cost_per_request"] == pytest.approx(0.003)
    assert summary["cost_per_1m_input_tokens"] == pytest.approx(0.006 / 4000 * 1e6)
    assert summary["priced_calls"] == 2


def test_macro_f1_comes_from_the_label_pairs_with_a_seeded_interval():
    pairs = [("x", "x"), ("x", "y"), ("y", "y"), ("y", "y"), ("z", None), ("z", "z")]
    calls = [call("a", want=w, got=g, macro_f1=float(w == g)) for w, g in pairs]
    # x: tp1 fp0 fn1 → 2/3; y: tp2 fp1 fn0 → 4/5; z: tp1 fp0 fn1 → 2/3
    first = summarize(["a"], calls, ["macro_f1"], seed=7)["candidates"][0]["scores"]["macro_f1"]
    assert first["value"] == pytest.approx((2 / 3 + 4 / 5 + 2 / 3) / 3)
    again = summarize(["a"], calls, ["macro_f1"], seed=7)["candidates"][0]["scores"]["macro_f1"]
    assert again == first
    assert first["ci_low"] <= first["value"] <= first["ci_high"]
    from evaluations.scoring import macro_f1_of_counts

    assert first["ci_low"] == stats.bootstrap(pairs, macro_f1_of_counts, seed=7).ci_low


def test_best_per_metric_prefers_higher_scores_and_lower_costs_and_names_ties():
    candidates = [
        {"label": "a", "error_rate": 0.0, "latency_ms": {"p50": 10, "p95": 20, "p99": 30},
         "cost_per_request": 0.002, "cost_per_1m_input_tokens": 1.0,
         "scores": {"accuracy": {"value": 0.8}}},
        {"label": "b", "error_rate": 0.0, "latency_ms": {"p50": 5, "p95": 25, "p99": 40},
         "cost_per_request": 0.001, "cost_per_1m_input_tokens": None,
         "scores": {"accuracy": {"value": 0.9}}},
    ]  # fmt: skip
    best = best_per_metric(candidates, ["accuracy"])
    assert best["score:accuracy"] == ["b"] and best["latency_p99"] == ["a"]
    assert best["latency_p50"] == ["b"] and best["cost_per_request"] == ["b"]
    assert best["error_rate"] == ["a", "b"]
    assert best["cost_per_1m_input_tokens"] == []  # only one candidate has it


def test_a_scorer_set_scores_one_output():
    scorer = Scorer.build(
        [{"name": "accuracy"}, {"name": "json_valid"}, {"name": "contains", "needle": "BILL",
          "ignore_case": True}, {"name": "regex", "pattern": r'"category":\s*"b'},
         {"name": "json_schema_valid"}],
        label_field="category",
        output_schema={"type": "object", "required": ["category"]},
    )  # fmt: skip
    scored = scorer.score('{"category": "billing"}', "billing")
    assert scored.scores == {"accuracy": 1.0, "json_valid": 1.0, "contains": 1.0, "regex": 1.0,
                             "json_schema_valid": 1.0}  # fmt: skip
    assert (scored.expected_label, scored.predicted_label) == ("billing", "billing")
    broken = scorer.score("billing, I think", "billing")
    assert broken.scores["accuracy"] == 0.0 and broken.scores["json_valid"] == 0.0
    assert broken.predicted_label == "billing, I think"
