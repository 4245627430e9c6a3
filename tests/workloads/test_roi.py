"""The ROI engine (SPEC §8): arithmetic, verdicts, validation, JSON shape and chart helpers.

Pure Python: no database, no Django. Expected figures are worked out by hand from the seeds.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workloads import roi

SEED_000 = {
    "monthly_requests": 500_000,
    "user_tokens": 50,
    "prompt_overhead_tokens": 500,
    "output_tokens": 200,
    "input_price_per_1m": 0.15,
    "output_price_per_1m": 0.60,
}
# Seed 002: 500 input tokens and 200 output tokens at $30/$60 per 1M; fine-tuned prices chosen so
# that a fine-tuned call costs (100·4 + 200·4) / 10⁶ = $0.0012.
SEED_002 = {
    "monthly_requests": 100_000,
    "user_tokens": 100,
    "prompt_overhead_tokens": 400,
    "output_tokens": 200,
    "input_price_per_1m": 30,
    "output_price_per_1m": 60,
    "ft_input_price_per_1m": 4,
    "ft_output_price_per_1m": 4,
    "training_cost": 20,
}
# c_p = 200·50/10⁶ = $0.01, c_f = 100·20/10⁶ = $0.002: the $240 investment over 3 months
# ($80/month) is recovered at 80 / 0.008 = 10,000 requests/month.
ROUND_CROSSOVER = {
    "monthly_requests": 1_000,
    "user_tokens": 100,
    "prompt_overhead_tokens": 100,
    "output_tokens": 0,
    "input_price_per_1m": 50,
    "output_price_per_1m": 0,
    "ft_input_price_per_1m": 20,
    "training_cost": 240,
}
CANNOT_PAY_BACK = (
    "fine-tuned calls cost at least as much as prompted calls at these prices: "
    "fine-tuning cannot pay back on token cost"
)
SPEC_INPUT_NAMES = [
    "monthly_requests", "user_tokens", "prompt_overhead_tokens", "output_tokens",
    "ft_overhead_tokens", "ft_output_tokens", "input_price_per_1m", "output_price_per_1m",
    "ft_price_multiplier", "ft_input_price_per_1m", "ft_output_price_per_1m", "training_cost",
    "training_examples", "training_tokens_per_example", "epochs", "training_price_per_1m",
    "dev_hours", "hourly_rate", "maintenance_hours_per_month", "horizon_months",
    "latency_sla_ms", "format_error_threshold", "token_cutoff_per_month", "latency_p99_ms",
    "format_error_rate", "policy", "rapid_prototyping", "persona_change_frequency",
    "multi_persona", "limited_ml_expertise", "time_to_market_critical", "consistency_critical",
    "public_facing", "latency_sensitive", "long_conversations", "dynamic_knowledge",
    "labeled_examples", "accuracy_target",
]  # fmt: skip
REQUIRED = {
    "monthly_requests", "user_tokens", "prompt_overhead_tokens", "output_tokens",
    "input_price_per_1m", "output_price_per_1m",
}  # fmt: skip


def make(base: dict | None = None, **overrides) -> roi.RoiInputs:
    return roi.parse_inputs({**(SEED_000 if base is None else base), **overrides})


def run(base: dict | None = None, **overrides) -> roi.RoiResult:
    return roi.evaluate(make(base, **overrides))


def errors_of(data: dict) -> dict[str, str]:
    with pytest.raises(roi.RoiInputError) as caught:
        roi.parse_inputs(data)
    return {e["field"]: e["message"] for e in caught.value.errors}


# --- the field catalogue ----------------------------------------------------------------------


def test_fields_list_every_spec_input_exactly_once():
    names = [spec.name for spec in roi.FIELDS]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(SPEC_INPUT_NAMES)
    assert set(roi.FIELDS_BY_NAME) == set(SPEC_INPUT_NAMES)


def test_roi_inputs_has_one_attribute_per_field():
    assert {f.name for f in dataclasses.fields(roi.RoiInputs)} == set(SPEC_INPUT_NAMES)


def test_only_the_six_spec_inputs_without_default_are_required():
    assert {spec.name for spec in roi.FIELDS if spec.required} == REQUIRED


def test_field_defaults_are_the_spec_defaults():
    expected = {
        "ft_overhead_tokens": 0, "ft_output_tokens": None, "ft_price_multiplier": 2,
        "ft_input_price_per_1m": None, "ft_output_price_per_1m": None, "training_cost": None,
        "training_examples": 0, "training_tokens_per_example": 0, "epochs": 3,
        "training_price_per_1m": 0, "dev_hours": 0, "hourly_rate": 150,
        "maintenance_hours_per_month": 0, "horizon_months": 3, "latency_sla_ms": 600,
        "format_error_threshold": Decimal("0.05"), "token_cutoff_per_month": 5_000_000,
        "latency_p99_ms": None, "format_error_rate": None, "policy": "sla_roi",
        "persona_change_frequency": "monthly", "labeled_examples": 0, "accuracy_target": 0,
        "rapid_prototyping": False, "multi_persona": False, "dynamic_knowledge": False,
    }  # fmt: skip
    parsed = make()
    for name, value in expected.items():
        assert roi.FIELDS_BY_NAME[name].default == value, name
        assert getattr(parsed, name) == value, name


def test_every_field_belongs_to_a_known_section_and_has_help():
    assert list(roi.SECTIONS) == [
        "volume", "tokens_prices", "training_effort", "sla", "checklist", "flowchart",
    ]  # fmt: skip
    for spec in roi.FIELDS:
        assert spec.section in roi.SECTIONS, spec.name
        assert spec.kind in {"decimal", "int", "bool", "choice"}, spec.name
        assert spec.label and len(spec.help) > 20, spec.name


def test_choice_fields_offer_the_spec_values():
    assert roi.FIELDS_BY_NAME["policy"].choices == ("sla_roi", "checklists", "flowchart")
    assert roi.FIELDS_BY_NAME["persona_change_frequency"].choices == (
        "weekly", "monthly", "rarely",
    )  # fmt: skip


def test_derived_and_measured_fields_are_nullable_and_others_are_not():
    nullable = {spec.name for spec in roi.FIELDS if spec.nullable}
    assert nullable == {
        "ft_output_tokens", "ft_input_price_per_1m", "ft_output_price_per_1m", "training_cost",
        "latency_p99_ms", "format_error_rate",
    }  # fmt: skip


def test_module_imports_nothing_from_django():
    tree = ast.parse(Path(roi.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]  # fmt: skip
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported
    assert not [name for name in imported if name.split(".")[0] == "django"]


# --- arithmetic ---------------------------------------------------------------------------------


def test_seed_000_worked_example():
    result = run()
    assert result.prompt.cost_per_request == Decimal("0.0002025")
    assert result.prompt.monthly_cost == Decimal("101.25")
    assert result.fine_tune.cost_per_request == Decimal("0.000255")
    assert result.fine_tune.monthly_cost == Decimal("127.50")
    assert result.monthly_savings == Decimal("-26.25")
    assert result.payback_months is None
    assert result.break_even_requests is None
    assert result.crossover_monthly_requests is None
    assert result.monthly_tokens == 375_000_000


def test_seed_000_warns_that_fine_tuned_calls_cannot_pay_back():
    assert CANNOT_PAY_BACK in run().warnings


def test_seed_000_as_dict_matches_the_spec_figures():
    out = run().as_dict()
    assert out["prompt"]["monthly_cost"] == 101.25
    assert out["fine_tune"]["monthly_cost"] == 127.5
    assert out["monthly_savings"] == -26.25
    assert out["payback_months"] is None


@pytest.mark.parametrize(("user", "overhead"), [(0, 500), (100, 400)])
def test_seed_002_prompt_monthly_cost(user, overhead):
    result = run(SEED_002, user_tokens=user, prompt_overhead_tokens=overhead)
    assert result.prompt.cost_per_request == Decimal("0.027")
    assert result.prompt.monthly_cost == Decimal(2700)


def test_seed_002_break_even_requests():
    result = run(SEED_002)
    assert result.fine_tune.cost_per_request == Decimal("0.0012")
    assert result.investment == 20
    assert round(result.break_even_requests, 6) == Decimal("775.193798")
    assert result.as_dict()["break_even_requests"] == 775.1937984496


def test_payback_break_even_and_crossover_with_dev_hours_and_maintenance():
    # investment 20 + 10 h × $150 = $1,520; maintenance 2 h × $150 = $300/month;
    # fine-tune monthly 100,000 × 0.0012 + 300 = $420; savings 2,700 − 420 = $2,280.
    result = run(SEED_002, dev_hours=10, maintenance_hours_per_month=2)
    assert result.investment == Decimal(1520)
    assert result.fine_tune.monthly_cost == Decimal(420)
    assert result.monthly_savings == Decimal(2280)
    assert round(result.payback_months, 6) == Decimal("0.666667")
    # 1,520 / 0.0258 and (1,520 / 3 + 300) / 0.0258
    assert round(result.break_even_requests, 6) == Decimal("58914.728682")
    assert round(result.crossover_monthly_requests, 6) == Decimal("31266.149871")
    assert result.monthly_tokens == 70_000_000


def test_training_cost_is_derived_from_examples_tokens_epochs_and_price():
    # Seed 002: 5,000 examples × 500 tokens at $8 per 1M tokens = $20 (one epoch).
    result = run(
        training_examples=5_000, training_tokens_per_example=500, epochs=1,
        training_price_per_1m=8, dev_hours=2,
    )  # fmt: skip
    assert result.training_cost == Decimal(20)
    assert result.investment == Decimal(320)


def test_three_epochs_triple_the_derived_training_cost():
    result = run(training_examples=5_000, training_tokens_per_example=500, training_price_per_1m=8)
    assert result.training_cost == Decimal(60)


def test_given_training_cost_wins_over_the_derivation():
    result = run(training_cost=7, training_examples=5_000, training_tokens_per_example=500,
                 training_price_per_1m=8)  # fmt: skip
    assert result.training_cost == Decimal(7)


def test_fine_tuned_prices_default_to_multiplier_times_base_prices():
    # (50·0.45 + 200·1.8) / 10⁶ with m = 3
    assert run(ft_price_multiplier=3).fine_tune.cost_per_request == Decimal("0.0003825")


def test_given_fine_tuned_prices_and_output_tokens_override_the_defaults():
    result = run(ft_input_price_per_1m=1, ft_output_price_per_1m=2, ft_output_tokens=100,
                 ft_overhead_tokens=30)  # fmt: skip
    # ((50 + 30)·1 + 100·2) / 10⁶
    assert result.fine_tune.cost_per_request == Decimal("0.00028")


def test_fine_tune_monthly_cost_includes_maintenance():
    assert run(maintenance_hours_per_month=1, hourly_rate=100).fine_tune.monthly_cost == Decimal(
        "227.50"
    )


# --- sla_roi verdict ----------------------------------------------------------------------------


def test_sla_roi_picks_prompt_below_the_token_cutoff_without_breach():
    # 1,000 requests × 750 tokens = 750,000 tokens < 5,000,000
    verdict = run(monthly_requests=1_000).verdicts["sla_roi"]
    assert verdict.verdict == "prompt"
    assert any("750,000 tokens/month < 5,000,000" in r for r in verdict.reasons)


def test_sla_roi_picks_hybrid_exactly_at_the_token_cutoff():
    # 10,000 × (100 + 200 + 200) = 5,000,000 tokens: not below the cutoff.
    result = run(monthly_requests=10_000, user_tokens=100, prompt_overhead_tokens=200)
    assert result.monthly_tokens == 5_000_000
    assert result.verdicts["sla_roi"].verdict == "hybrid"
    assert (
        run(monthly_requests=9_999, user_tokens=100, prompt_overhead_tokens=200)
        .verdicts["sla_roi"]
        .verdict
        == "prompt"
    )


def test_sla_roi_picks_hybrid_above_the_token_cutoff_without_breach():
    assert run().verdicts["sla_roi"].verdict == "hybrid"


def test_sla_roi_latency_breach_with_payback_inside_horizon_picks_fine_tune():
    verdict = run(SEED_002, latency_p99_ms=1200).verdicts["sla_roi"]
    assert verdict.verdict == "fine-tune"
    assert "p99 latency 1,200 ms exceeds the 600 ms SLA" in verdict.reasons
    assert any(r.startswith("payback 0.0078 months ≤ horizon 3 months") for r in verdict.reasons)


def test_latency_equal_to_the_sla_is_not_a_breach():
    assert run(monthly_requests=1_000, latency_p99_ms=600).verdicts["sla_roi"].verdict == "prompt"
    assert run(monthly_requests=1_000, latency_p99_ms=601).verdicts["sla_roi"].verdict == "hybrid"


def test_format_error_rate_equal_to_the_threshold_is_not_a_breach():
    low = {"monthly_requests": 1_000}
    assert run(**low, format_error_rate=0.05).verdicts["sla_roi"].verdict == "prompt"
    verdict = run(**low, format_error_rate=0.0501).verdicts["sla_roi"]
    assert verdict.verdict == "hybrid"
    assert "format error rate 5.01% exceeds the 5% threshold" in verdict.reasons


def test_unmeasured_latency_and_format_never_breach():
    verdict = run(monthly_requests=1_000, latency_p99_ms=None, format_error_rate=None).verdicts[
        "sla_roi"
    ]
    assert verdict.verdict == "prompt"
    assert "not measured" in verdict.reasons[0]


def test_sla_roi_breach_without_savings_picks_hybrid():
    verdict = run(latency_p99_ms=900).verdicts["sla_roi"]
    assert verdict.verdict == "hybrid"
    assert any("never pays back" in r for r in verdict.reasons)


def test_sla_roi_payback_exactly_at_the_horizon_picks_fine_tune():
    # Savings are 2,700 − 120 = $2,580/month, so $7,740 pays back in exactly 3 months.
    at_horizon = run(SEED_002, training_cost=7740, latency_p99_ms=700)
    assert at_horizon.payback_months == 3
    assert at_horizon.verdicts["sla_roi"].verdict == "fine-tune"
    beyond = run(SEED_002, training_cost="7740.01", latency_p99_ms=700)
    assert beyond.verdicts["sla_roi"].verdict == "hybrid"
    assert any("exceeds the 3-month horizon" in r for r in beyond.verdicts["sla_roi"].reasons)


def test_a_longer_horizon_lets_a_slow_payback_fine_tune():
    slow = {"training_cost": 12_900, "format_error_rate": 0.2}  # payback 5 months
    assert run(SEED_002, **slow).verdicts["sla_roi"].verdict == "hybrid"
    assert run(SEED_002, **slow, horizon_months=6).verdicts["sla_roi"].verdict == "fine-tune"


# --- checklists verdict -------------------------------------------------------------------------

# 50,000 requests/month is neither low nor high volume; the default persona frequency (monthly)
# is one fine-tune-side check, so this baseline is 1 vs 0.
MID_VOLUME = {"monthly_requests": 50_000}


def test_checklists_baseline_with_only_a_stable_persona_is_fine_tune():
    verdict = run(**MID_VOLUME).verdicts["checklists"]
    assert verdict.verdict == "fine-tune"
    assert "fine-tune: stable persona (changes monthly)" in verdict.reasons


@pytest.mark.parametrize(
    "prompt_check",
    [
        {"rapid_prototyping": True},
        {"multi_persona": True},
        {"limited_ml_expertise": True},
        {"time_to_market_critical": True},
        {"monthly_requests": 9_999},
    ],
)
def test_each_prompt_side_check_counts_and_a_tie_goes_to_prompt(prompt_check):
    assert run(**{**MID_VOLUME, **prompt_check}).verdicts["checklists"].verdict == "prompt"


def test_weekly_persona_changes_count_for_prompt_and_remove_the_stable_check():
    verdict = run(**MID_VOLUME, persona_change_frequency="weekly").verdicts["checklists"]
    assert verdict.verdict == "prompt"
    assert "prompt: the persona changes weekly" in verdict.reasons


# 1 prompt check (rapid prototyping) vs 1 fine-tune check (stable persona): a tie.
TIED = {**MID_VOLUME, "rapid_prototyping": True}


@pytest.mark.parametrize(
    "ft_check",
    [
        {"consistency_critical": True},
        {"public_facing": True},
        {"latency_sensitive": True},
        {"long_conversations": True},
        {"monthly_requests": 100_001},
    ],
)
def test_each_fine_tune_side_check_breaks_a_tie_toward_fine_tune(ft_check):
    assert run(**TIED).verdicts["checklists"].verdict == "prompt"
    assert run(**{**TIED, **ft_check}).verdicts["checklists"].verdict == "fine-tune"


def test_rarely_changing_persona_is_a_fine_tune_side_check():
    rarely = run(**TIED, persona_change_frequency="rarely", consistency_critical=True)
    assert rarely.verdicts["checklists"].verdict == "fine-tune"
    weekly = run(**TIED, persona_change_frequency="weekly", consistency_critical=True)
    assert weekly.verdicts["checklists"].verdict == "prompt"


def test_volume_boundaries_of_the_checklists_are_strict():
    # Exactly 10,000 is not low volume and exactly 100,000 is not high volume.
    # 2 fine-tune checks (rarely, consistency) vs rapid prototyping, plus low volume below 10,000.
    stable = {**TIED, "persona_change_frequency": "rarely", "consistency_critical": True}
    assert checklists_verdict({**stable, "monthly_requests": 9_999}) == "prompt"
    assert checklists_verdict({**stable, "monthly_requests": 10_000}) == "fine-tune"
    assert checklists_verdict({**TIED, "monthly_requests": 100_000}) == "prompt"
    assert checklists_verdict({**TIED, "monthly_requests": 100_001}) == "fine-tune"


def checklists_verdict(overrides: dict) -> str:
    return run(**overrides).verdicts["checklists"].verdict


def test_checklists_pick_hybrid_when_fine_tune_wins_with_several_personas():
    verdict = run(multi_persona=True, consistency_critical=True).verdicts["checklists"]
    # 500,000 requests, consistency, stable persona (3) vs several personas (1)
    assert verdict.verdict == "hybrid"
    assert verdict.reasons[0].startswith("3 fine-tune checks vs 1 prompt check")


def test_checklist_reasons_list_only_the_checks_that_counted():
    reasons = run(**MID_VOLUME, public_facing=True).verdicts["checklists"].reasons
    assert any("public-facing" in r for r in reasons)
    assert not any("consistency" in r or "rapid prototyping" in r for r in reasons)
    assert not any("requests/month" in r for r in reasons)


# --- flowchart verdict --------------------------------------------------------------------------

ALL_YES = {
    "labeled_examples": 500,
    "consistency_critical": True,
    "monthly_requests": 10_000,
    "accuracy_target": "0.9000001",
}


def test_flowchart_fine_tunes_when_every_answer_is_yes():
    verdict = run(**ALL_YES).verdicts["flowchart"]
    assert verdict.verdict == "fine-tune"
    assert len(verdict.reasons) == 4


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"labeled_examples": 499}, "499 labeled examples < 500"),
        ({"consistency_critical": False}, "consistency is not critical"),
        ({"monthly_requests": 9_999}, "9,999 requests/month < 10,000"),
        ({"accuracy_target": "0.90"}, "accuracy target 90% ≤ 90%"),
    ],
)
def test_flowchart_stops_at_prompt_on_the_first_no(change, reason):
    verdict = run(**{**ALL_YES, **change}).verdicts["flowchart"]
    assert verdict.verdict == "prompt"
    assert verdict.reasons[-1].startswith(reason)


def test_flowchart_with_defaults_stops_at_the_data_question():
    assert run().verdicts["flowchart"].reasons == (
        "0 labeled examples < 500: not enough data to fine-tune",
    )


# --- recommendation -----------------------------------------------------------------------------


def test_recommendation_follows_the_chosen_policy():
    # Defaults: sla_roi → hybrid (high volume), checklists → fine-tune, flowchart → prompt.
    assert run().recommendation == "hybrid"
    assert run(policy="checklists").recommendation == "fine-tune"
    assert run(policy="flowchart").recommendation == "prompt"
    assert (
        run(policy="flowchart")
        .recommendation_reasons[0]
        .startswith("the decision flowchart picks prompt engineering")
    )


@pytest.mark.parametrize(
    ("policy", "verdict", "recommended"),
    [("flowchart", "prompt", "rag"), ("checklists", "fine-tune", "hybrid"),
     ("sla_roi", "hybrid", "hybrid")],
)  # fmt: skip
def test_dynamic_knowledge_maps_prompt_to_rag_and_fine_tune_to_hybrid(policy, verdict, recommended):
    result = run(policy=policy, dynamic_knowledge=True)
    assert result.verdicts[policy].verdict == verdict
    assert result.recommendation == recommended


def test_knowledge_rule_is_explained_only_when_it_changes_the_recommendation():
    changed = run(policy="flowchart", dynamic_knowledge=True).recommendation_reasons
    assert "fine-tuning does not inject knowledge" in changed[-1]
    unchanged = run(policy="flowchart").recommendation_reasons
    assert not any("knowledge" in r for r in unchanged)


# --- warnings -----------------------------------------------------------------------------------


def test_prompt_bloat_warning_starts_above_2000_overhead_tokens():
    assert any(
        "prompt bloat: evaluate fine-tuning" in w for w in run(prompt_overhead_tokens=2001).warnings
    )
    assert not any("prompt bloat" in w for w in run(prompt_overhead_tokens=2000).warnings)


def test_equal_per_request_costs_still_warn_that_fine_tuning_cannot_pay_back():
    # m = 1 and the same overhead: the fine-tuned call is exactly as expensive.
    result = run(ft_price_multiplier=1, ft_overhead_tokens=500)
    assert result.fine_tune.cost_per_request == result.prompt.cost_per_request
    assert CANNOT_PAY_BACK in result.warnings
    assert result.break_even_requests is None
    assert CANNOT_PAY_BACK not in run(SEED_002).warnings


def test_zero_volume_warns():
    assert any(w.startswith("zero volume") for w in run(monthly_requests=0).warnings)
    no_tokens = run(user_tokens=0, prompt_overhead_tokens=0, output_tokens=0)
    assert any(w.startswith("zero volume") for w in no_tokens.warnings)
    assert not any(w.startswith("zero volume") for w in run().warnings)


def test_payback_beyond_the_horizon_warns():
    assert any(
        "longer than the 3-month horizon" in w for w in run(SEED_002, training_cost=12_900).warnings
    )
    assert not any("horizon" in w for w in run(SEED_002).warnings)


def test_maintenance_that_outweighs_token_savings_warns():
    # Saves $0.0258 a call but maintenance is $150/month: break-even volume 5,814 requests.
    result = run(SEED_002, monthly_requests=1_000, maintenance_hours_per_month=1)
    assert result.payback_months is None
    assert any("maintenance ($150.00/month) outweighs" in w for w in result.warnings)


# --- parse_inputs -------------------------------------------------------------------------------


def test_unknown_key_is_refused():
    assert errors_of({**SEED_000, "montly_requests": 5}) == {"montly_requests": "unknown field"}


def test_missing_required_fields_are_all_reported():
    assert errors_of({}) == dict.fromkeys(REQUIRED, "this field is required")


def test_blank_strings_mean_absent_so_defaults_apply():
    parsed = make(hourly_rate="", latency_p99_ms=" ", training_cost="")
    assert parsed.hourly_rate == 150
    assert parsed.latency_p99_ms is None and parsed.training_cost is None
    assert errors_of({**SEED_000, "monthly_requests": ""}) == {
        "monthly_requests": "this field is required"
    }


def test_negative_numbers_are_refused():
    assert errors_of({**SEED_000, "output_tokens": -1}) == {"output_tokens": "must be ≥ 0"}
    assert errors_of({**SEED_000, "dev_hours": "-0.5"}) == {"dev_hours": "must be ≥ 0"}


def test_booleans_are_not_numbers():
    assert errors_of({**SEED_000, "monthly_requests": True}) == {
        "monthly_requests": "must be a number"
    }
    assert errors_of({**SEED_000, "input_price_per_1m": False}) == {
        "input_price_per_1m": "must be a number"
    }


@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), "NaN", "-Infinity", Decimal("sNaN"), Decimal("Infinity")]
)
def test_nan_and_infinity_are_refused(bad):
    assert errors_of({**SEED_000, "user_tokens": bad}) == {"user_tokens": "must be a finite number"}


@pytest.mark.parametrize("bad", ["abc", [1], {"a": 1}, "1,000"])
def test_non_numeric_values_are_refused(bad):
    assert errors_of({**SEED_000, "user_tokens": bad}) == {"user_tokens": "must be a number"}


def test_bad_choices_list_the_allowed_values():
    errors = errors_of({**SEED_000, "policy": "vibes", "persona_change_frequency": "daily"})
    assert errors == {
        "policy": "must be one of: sla_roi, checklists, flowchart",
        "persona_change_frequency": "must be one of: weekly, monthly, rarely",
    }


@pytest.mark.parametrize("horizon", [0, "0", -1, "0.0"])
def test_horizon_must_be_positive(horizon):
    assert errors_of({**SEED_000, "horizon_months": horizon}) == {
        "horizon_months": "must be greater than 0"
    }


def test_fractional_horizon_is_accepted():
    assert make(horizon_months="0.5").horizon_months == Decimal("0.5")


@pytest.mark.parametrize(
    "field", ["accuracy_target", "format_error_threshold", "format_error_rate"]
)
def test_fractions_must_lie_between_0_and_1(field):
    assert errors_of({**SEED_000, field: "1.01"}) == {field: "must be between 0 and 1"}
    assert errors_of({**SEED_000, field: -0.1}) == {field: "must be between 0 and 1"}
    assert getattr(make(**{field: 1}), field) == 1


def test_numeric_strings_are_accepted_and_floats_kept_exact():
    parsed = make(monthly_requests="500000", input_price_per_1m=" 0.15 ", output_tokens="2e2")
    assert parsed.monthly_requests == 500_000
    assert isinstance(parsed.monthly_requests, int)
    assert parsed.input_price_per_1m == Decimal("0.15")
    assert make().output_price_per_1m == Decimal("0.6")  # the float 0.60, not its binary value
    assert parsed.output_tokens == 200


def test_whole_number_fields_refuse_fractions_but_accept_integral_values():
    assert errors_of({**SEED_000, "epochs": 2.5}) == {"epochs": "must be a whole number"}
    assert errors_of({**SEED_000, "monthly_requests": "10.5"}) == {
        "monthly_requests": "must be a whole number"
    }
    assert make(epochs="3.0").epochs == 3
    assert make(labeled_examples=Decimal("500")).labeled_examples == 500


def test_absurdly_large_numbers_are_refused():
    assert errors_of({**SEED_000, "monthly_requests": "1e40"}) == {
        "monthly_requests": "must be ≤ 1,000,000,000,000"
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("true", True), ("on", True), ("1", True), ("TRUE", True),
     ("false", False), ("0", False), ("off", False)],
)  # fmt: skip
def test_booleans_accept_real_booleans_and_form_strings(raw, expected):
    assert make(public_facing=raw).public_facing is expected


@pytest.mark.parametrize("bad", [1, 0, "yes", "maybe", 1.0])
def test_booleans_refuse_other_values(bad):
    assert errors_of({**SEED_000, "public_facing": bad}) == {
        "public_facing": "must be true or false"
    }


def test_null_is_allowed_only_where_nullable():
    assert make(latency_p99_ms=None, training_cost=None).latency_p99_ms is None
    assert errors_of({**SEED_000, "hourly_rate": None, "public_facing": None}) == {
        "hourly_rate": "this field may not be null",
        "public_facing": "this field may not be null",
    }


def test_all_errors_are_reported_together():
    data = {
        "monthly_requests": -5, "user_tokens": "nan", "output_tokens": 200,
        "input_price_per_1m": True, "output_price_per_1m": 1, "horizon_months": 0,
        "policy": "x", "extra": 1,
    }  # fmt: skip
    with pytest.raises(roi.RoiInputError) as caught:
        roi.parse_inputs(data)
    fields = [e["field"] for e in caught.value.errors]
    assert sorted(fields) == sorted([
        "monthly_requests", "user_tokens", "prompt_overhead_tokens", "input_price_per_1m",
        "horizon_months", "policy", "extra",
    ])  # fmt: skip
    assert isinstance(caught.value, ValueError)
    assert "horizon_months: must be greater than 0" in str(caught.value)


def test_a_non_object_body_is_refused():
    with pytest.raises(roi.RoiInputError) as caught:
        roi.parse_inputs([1, 2])  # type: ignore[arg-type]
    assert caught.value.errors == [{"field": "non_field_errors", "message": "expected an object"}]


def test_inputs_as_dict_is_json_and_parses_back_to_the_same_inputs():
    inputs = make(SEED_002, horizon_months="1.5", latency_p99_ms=812.5, public_facing="on")
    snapshot = inputs.as_dict()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["input_price_per_1m"] == 30 and snapshot["horizon_months"] == 1.5
    assert snapshot["ft_output_tokens"] is None and snapshot["public_facing"] is True
    assert roi.parse_inputs(snapshot) == inputs


# --- as_dict -----------------------------------------------------------------------------------


def test_result_as_dict_has_exactly_the_spec_shape():
    out = run(SEED_002).as_dict()
    assert set(out) == {
        "prompt", "fine_tune", "training_cost", "investment", "monthly_savings",
        "payback_months", "break_even_requests", "crossover_monthly_requests", "monthly_tokens",
        "verdicts", "recommendation", "recommendation_reasons", "warnings",
    }  # fmt: skip
    assert set(out["prompt"]) == set(out["fine_tune"]) == {"cost_per_request", "monthly_cost"}
    assert set(out["verdicts"]) == {"sla_roi", "checklists", "flowchart"}
    for verdict in out["verdicts"].values():
        assert set(verdict) == {"verdict", "reasons"}
        assert isinstance(verdict["reasons"], list) and verdict["reasons"]
    assert isinstance(out["warnings"], list)
    assert isinstance(out["recommendation_reasons"], list)
    assert json.loads(json.dumps(out)) == out


def test_as_dict_numbers_are_floats_except_whole_monthly_tokens():
    out = run(SEED_002).as_dict()
    assert out["monthly_tokens"] == 70_000_000 and isinstance(out["monthly_tokens"], int)
    assert out["prompt"]["monthly_cost"] == 2700.0 and isinstance(
        out["prompt"]["monthly_cost"], float
    )
    assert out["payback_months"] == 0.007751938  # 20 / 2,580 = 0.0077519379845…
    assert out["crossover_monthly_requests"] == 258.3979328165  # (20 / 3) / 0.0258


def test_as_dict_keeps_sub_cent_costs_and_rounds_half_even_at_ten_decimals():
    # Per-request costs are fractions of a cent: JSON keeps them (more than the 6 places the
    # contract requires) and rounds half-even only at the 10th decimal place.
    tiny = {"output_tokens": 0, "input_price_per_1m": "0.1", "prompt_overhead_tokens": 0}
    assert run(**tiny, user_tokens=25).as_dict()["prompt"]["cost_per_request"] == 0.0000025
    # 1 token × $0.00005 / 10⁶ = 5e-11 → 0 (half-even); 3 tokens → 1.5e-10 → 2e-10.
    micro = {**tiny, "input_price_per_1m": "0.00005"}
    assert run(**micro, user_tokens=1).as_dict()["prompt"]["cost_per_request"] == 0.0
    assert run(**micro, user_tokens=3).as_dict()["prompt"]["cost_per_request"] == 2e-10
    # Seed 000's $0.0002025 a request.
    assert run().as_dict()["prompt"]["cost_per_request"] == 0.0002025


def test_as_dict_fractional_monthly_tokens_stay_floats():
    out = run(monthly_requests=3, user_tokens="0.5", prompt_overhead_tokens=0, output_tokens=0)
    assert out.as_dict()["monthly_tokens"] == 1.5


# --- cost curve and chart volumes --------------------------------------------------------------


def test_cost_curve_agrees_with_evaluate_at_the_current_volume():
    inputs = make(SEED_002, dev_hours=10, maintenance_hours_per_month=2)
    result = roi.evaluate(inputs)
    [point] = roi.cost_curve(inputs, [100_000])
    assert point["requests"] == 100_000
    assert point["prompt"] == float(result.prompt.monthly_cost) == 2700.0
    # $420 a month plus the $1,520 investment over 3 months.
    assert point["fine_tune"] == 926.6666666667


def test_cost_curve_lines_cross_at_the_crossover_volume():
    inputs = make(ROUND_CROSSOVER)
    assert roi.evaluate(inputs).crossover_monthly_requests == 10_000
    below, at, above = roi.cost_curve(inputs, [9_000, 10_000, 11_000])
    assert at["prompt"] == at["fine_tune"] == 100.0
    assert below["prompt"] < below["fine_tune"]
    assert above["prompt"] > above["fine_tune"]


def test_cost_curve_at_zero_volume_is_the_amortised_investment():
    [point] = roi.cost_curve(make(ROUND_CROSSOVER), [0])
    assert point == {"requests": 0, "prompt": 0.0, "fine_tune": 80.0}


def test_chart_volumes_span_twice_the_current_volume_in_round_steps():
    assert roi.chart_volumes(make()) == list(range(0, 1_000_001, 50_000))


def test_chart_volumes_reach_past_the_crossover_when_it_dominates():
    # max(2 × 1,000, 1.5 × 10,000) = 15,000 in steps of 1,000
    assert roi.chart_volumes(make(ROUND_CROSSOVER)) == list(range(0, 15_001, 1_000))


def test_chart_volumes_always_include_the_current_volume():
    volumes = roi.chart_volumes(make(monthly_requests=123_457))
    assert 123_457 in volumes
    assert volumes == sorted(set(volumes))
    assert volumes[0] == 0 and volumes[-1] >= 246_914
    assert [v for v in volumes if v != 123_457] == list(range(0, 260_001, 20_000))


def test_chart_volumes_at_zero_volume_show_the_low_volume_range():
    assert roi.chart_volumes(make(monthly_requests=0)) == list(range(0, 10_001, 500))


def test_chart_volumes_need_at_least_two_points():
    with pytest.raises(ValueError):
        roi.chart_volumes(make(), points=1)


# --- threshold margins -------------------------------------------------------------------------


def by_metric(margins, metric, threshold, comparator=None):
    [margin] = [
        m for m in margins
        if m["metric"] == metric and m["threshold"] == threshold
        and comparator in (None, m["comparator"])
    ]  # fmt: skip
    return margin


def test_margins_are_sorted_nearest_first_with_unknown_values_last():
    margins = roi.threshold_margins(run(**MID_VOLUME))
    known = [m["distance"] for m in margins if m["distance"] is not None]
    assert known == sorted(known)
    assert [m["distance"] for m in margins][len(known) :] == [None] * (len(margins) - len(known))
    allowed = {"monthly_requests", "monthly_tokens", "latency_p99_ms", "format_error_rate",
               "payback_months"}  # fmt: skip
    assert {m["metric"] for m in margins} <= allowed


def test_margins_give_relative_distance_and_the_crossing_that_would_fire():
    margins = roi.threshold_margins(run(**MID_VOLUME))
    high = by_metric(margins, "monthly_requests", 100_000)
    assert (high["comparator"], high["value"], high["distance"]) == (">", 50_000, 0.5)
    low = by_metric(margins, "monthly_requests", 10_000)
    assert (low["comparator"], low["distance"]) == ("<", 4.0)
    assert low["policies"] == ["checklists", "flowchart"]
    tokens = by_metric(margins, "monthly_tokens", 5_000_000)
    # 50,000 × 750 = 37,500,000 tokens: above the cutoff, so the trigger is falling below it.
    assert (tokens["comparator"], tokens["value"], tokens["distance"]) == ("<", 37_500_000, 6.5)


def test_a_metric_at_its_threshold_has_distance_zero():
    margins = roi.threshold_margins(run(monthly_requests=10_000, latency_p99_ms=600))
    assert by_metric(margins, "monthly_requests", 10_000)["distance"] == 0
    latency = by_metric(margins, "latency_p99_ms", 600)
    assert (latency["comparator"], latency["distance"]) == (">", 0)


def test_a_breached_sla_is_watched_for_recovery():
    latency = by_metric(roi.threshold_margins(run(latency_p99_ms=1200)), "latency_p99_ms", 600)
    assert (latency["comparator"], latency["value"], latency["distance"]) == ("<=", 1200, 1.0)
    assert "1,200" in latency["description"]


def test_unmeasured_metrics_have_no_distance():
    latency = by_metric(roi.threshold_margins(run()), "latency_p99_ms", 600)
    assert latency["value"] is None and latency["distance"] is None


def test_margins_include_the_crossover_volume_when_fine_tuning_can_pay_back():
    # $480 over 3 months = $160/month, recovered at 0.008/request from 20,000 requests/month.
    margins = roi.threshold_margins(run(ROUND_CROSSOVER, training_cost=480))
    crossover = by_metric(margins, "monthly_requests", 20_000)
    assert (crossover["comparator"], crossover["value"], crossover["distance"]) == (
        ">=", 1_000, 0.95,
    )  # fmt: skip
    assert crossover["policies"] == ["sla_roi"]
    assert "crossover" in crossover["description"]
    assert not [m for m in roi.threshold_margins(run()) if m["policies"] == ["sla_roi"]
                and m["metric"] == "monthly_requests"]  # fmt: skip


def test_the_same_trigger_from_several_rules_is_listed_once():
    # Low volume ends and the crossover is reached at the same 10,000 requests/month.
    margins = roi.threshold_margins(run(ROUND_CROSSOVER))
    merged = by_metric(margins, "monthly_requests", 10_000)
    assert merged["comparator"] == ">="
    assert merged["policies"] == ["checklists", "flowchart", "sla_roi"]
    assert "low volume" in merged["description"] and "crossover" in merged["description"]


def test_crossing_a_reported_trigger_changes_the_verdict():
    # A 1-vs-1 tie at exactly 100,000 requests; the trigger says "> 100000".
    result = run(**{**TIED, "monthly_requests": 100_000})
    high = by_metric(roi.threshold_margins(result), "monthly_requests", 100_000)
    assert high["comparator"] == ">"
    assert result.verdicts["checklists"].verdict == "prompt"
    assert run(**{**TIED, "monthly_requests": 100_001}).verdicts["checklists"].verdict == (
        "fine-tune"
    )


# --- properties --------------------------------------------------------------------------------


def decimals(max_whole: int, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.integers(0, max_whole * 10**places).map(lambda n: Decimal(n).scaleb(-places))


def fractions() -> st.SearchStrategy[Decimal]:
    return st.integers(0, 1000).map(lambda n: Decimal(n) / 1000)


input_dicts = st.fixed_dictionaries(
    {
        "monthly_requests": st.integers(0, 10**8),
        "user_tokens": decimals(5_000),
        "prompt_overhead_tokens": decimals(5_000),
        "output_tokens": decimals(2_000),
        "input_price_per_1m": decimals(100),
        "output_price_per_1m": decimals(100),
    },
    optional={
        "ft_overhead_tokens": decimals(1_000),
        "ft_output_tokens": decimals(2_000),
        "ft_price_multiplier": decimals(10),
        "ft_input_price_per_1m": decimals(100),
        "ft_output_price_per_1m": decimals(100),
        "training_cost": decimals(100_000),
        "training_examples": st.integers(0, 100_000),
        "training_tokens_per_example": decimals(2_000),
        "epochs": st.integers(0, 10),
        "training_price_per_1m": decimals(50),
        "dev_hours": decimals(500),
        "hourly_rate": decimals(500),
        "maintenance_hours_per_month": decimals(50),
        "horizon_months": decimals(36).filter(lambda d: d > 0),
        "latency_sla_ms": decimals(5_000),
        "latency_p99_ms": st.none() | decimals(5_000),
        "format_error_threshold": fractions(),
        "format_error_rate": st.none() | fractions(),
        "token_cutoff_per_month": st.integers(0, 10**9),
        "policy": st.sampled_from(tuple(roi.POLICIES)),
        "persona_change_frequency": st.sampled_from(roi.PERSONA_CHANGE_FREQUENCIES),
        "multi_persona": st.booleans(),
        "consistency_critical": st.booleans(),
        "dynamic_knowledge": st.booleans(),
        "rapid_prototyping": st.booleans(),
        "labeled_examples": st.integers(0, 2_000),
        "accuracy_target": fractions(),
    },
)
inputs_strategy = input_dicts.map(roi.parse_inputs)


@given(inputs_strategy)
def test_payback_is_none_exactly_when_there_are_no_monthly_savings(inputs):
    result = roi.evaluate(inputs)
    assert (result.payback_months is None) == (result.monthly_savings <= 0)
    if result.payback_months is not None:
        assert result.payback_months * result.monthly_savings == pytest.approx(result.investment)


@given(inputs_strategy, st.integers(0, 10**8), st.integers(0, 10**8))
def test_more_requests_never_lengthen_payback(inputs, a, b):
    fewer, more = sorted((a, b))
    slow = roi.evaluate(dataclasses.replace(inputs, monthly_requests=fewer)).payback_months
    fast = roi.evaluate(dataclasses.replace(inputs, monthly_requests=more)).payback_months
    if slow is not None:
        assert fast is not None and fast <= slow


@given(inputs_strategy)
def test_cost_per_request_is_never_negative(inputs):
    result = roi.evaluate(inputs)
    assert result.prompt.cost_per_request >= 0
    assert result.fine_tune.cost_per_request >= 0


@given(inputs_strategy)
def test_break_even_is_none_exactly_when_fine_tuned_calls_are_not_cheaper(inputs):
    result = roi.evaluate(inputs)
    not_cheaper = result.prompt.cost_per_request <= result.fine_tune.cost_per_request
    assert (result.break_even_requests is None) == not_cheaper
    assert (result.crossover_monthly_requests is None) == not_cheaper
    assert (CANNOT_PAY_BACK in result.warnings) == not_cheaper


@given(inputs_strategy, st.integers(0, 10**6), st.integers(0, 10**6))
def test_prompt_monthly_cost_is_linear_in_requests(inputs, a, b):
    def monthly(requests: int) -> Decimal:
        return roi.evaluate(
            dataclasses.replace(inputs, monthly_requests=requests)
        ).prompt.monthly_cost

    assert monthly(0) == 0
    assert monthly(a + b) == monthly(a) + monthly(b)
    assert monthly(7 * a) == 7 * monthly(a)


@given(inputs_strategy)
def test_verdicts_and_recommendation_are_known_approaches(inputs):
    result = roi.evaluate(inputs)
    assert set(result.verdicts) == set(roi.POLICIES)
    assert {v.verdict for v in result.verdicts.values()} <= {"prompt", "fine-tune", "hybrid"}
    assert result.recommendation in roi.APPROACHES
    if not inputs.dynamic_knowledge:
        assert result.recommendation == result.verdicts[inputs.policy].verdict


@given(inputs_strategy)
def test_inputs_snapshot_round_trips_through_json(inputs):
    snapshot = json.loads(json.dumps(inputs.as_dict()))
    assert roi.parse_inputs(snapshot) == inputs


@given(inputs_strategy)
@settings(max_examples=50)
def test_result_as_dict_is_always_valid_json(inputs):
    out = roi.evaluate(inputs).as_dict()
    assert json.loads(json.dumps(out, allow_nan=False)) == out


@given(inputs_strategy)
def test_no_reported_trigger_has_already_fired(inputs):
    for margin in roi.threshold_margins(roi.evaluate(inputs)):
        value, threshold = margin["value"], margin["threshold"]
        if value is None:
            continue
        fired = {
            ">": value > threshold, ">=": value >= threshold,
            "<": value < threshold, "<=": value <= threshold,
        }[margin["comparator"]]  # fmt: skip
        # Rounding to 6 decimals may make a value just short of a ">=" threshold equal to it.
        assert not fired or value == threshold, margin


@given(inputs_strategy, st.integers(2, 60))
def test_chart_volumes_are_sorted_bounded_and_include_the_current_volume(inputs, points):
    volumes = roi.chart_volumes(inputs, points)
    assert volumes == sorted(set(volumes))
    assert volumes[0] == 0 and inputs.monthly_requests in volumes
    assert len(volumes) <= points + 1
    assert volumes[-1] >= 2 * inputs.monthly_requests
    crossover = roi.evaluate(inputs).crossover_monthly_requests
    if crossover is not None:
        assert volumes[-1] >= math.ceil(crossover * Decimal("1.5"))


@given(inputs_strategy)
def test_cost_curve_crosses_where_evaluate_says(inputs):
    crossover = roi.evaluate(inputs).crossover_monthly_requests
    if crossover is None or crossover > 10**12:
        return
    below, above = roi.cost_curve(inputs, [math.floor(crossover), math.ceil(crossover) + 1])
    assert below["prompt"] <= below["fine_tune"]
    assert above["prompt"] >= above["fine_tune"]


def _any_documented_value(spec: roi.FieldSpec):
    """Any value the engine documents as valid for `spec`, edges and tiny fractions included
    (inputs keep 10 decimal places)."""
    low = Decimal("1e-10") if spec.exclusive_minimum else spec.minimum
    if spec.kind == "int":
        low = int(spec.minimum) + int(spec.exclusive_minimum)
        return st.one_of(
            st.sampled_from([low, int(spec.maximum)]), st.integers(low, int(spec.maximum))
        )
    return st.one_of(
        st.sampled_from([low, Decimal("1e-10") + low, spec.maximum]),
        st.decimals(low, spec.maximum, allow_nan=False, places=10),
    )


_NUMERIC = [s for s in roi.FIELDS if s.kind in ("int", "decimal")]


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({s.name: _any_documented_value(s) for s in _NUMERIC}))
def test_every_documented_input_evaluates_and_serialises(data):
    # The limits the engine publishes are the limits it computes within: no Decimal overflow,
    # no quantize error, JSON out, margins computed, at the edges too (1e12 everywhere).
    result = roi.evaluate(roi.parse_inputs(data))
    json.dumps(result.as_dict(), allow_nan=False)  # strict JSON, as the API renders it
    roi.threshold_margins(result)


def test_inputs_keep_ten_decimal_places_so_figures_stay_finite():
    # A horizon of 5e-324 months once made the crossover volume too large for a JSON number.
    data = {s.name: s.maximum for s in _NUMERIC} | {"horizon_months": Decimal("1e-10")}
    body = roi.evaluate(roi.parse_inputs(data)).as_dict()
    json.dumps(body, allow_nan=False)
    with pytest.raises(roi.RoiInputError, match="horizon_months: must be greater than 0"):
        roi.parse_inputs({**data, "horizon_months": 5e-324})
    inputs = roi.parse_inputs({**data, "input_price_per_1m": "0.123456789049"})
    assert inputs.input_price_per_1m == Decimal("0.1234567890")


def test_the_maximum_of_every_input_at_once_evaluates():
    data = {s.name: s.maximum for s in _NUMERIC}
    body = roi.evaluate(roi.parse_inputs(data)).as_dict()
    assert body["prompt"]["monthly_cost"] == pytest.approx(3e30)
