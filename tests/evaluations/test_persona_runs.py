"""Persona runs over real HTTP to the demo endpoint: conversations played turn by turn inside a
benchmark run (history threaded, tokens and cost per turn), the drift curve and the three
consistency columns per candidate, the adversarial suite with per-family robustness."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations import persona_demo, stats
from evaluations.attacks import FAMILIES
from evaluations.models import BenchmarkResult, BenchmarkStatus, BenchmarkTurn, PersonaRun
from evaluations.persona_models import PersonaSpec
from evaluations.services.benchmarks import benchmark_summary_compute
from evaluations.services.persona_runs import attack_suite_dataset, persona_run_start
from evaluations.services.personas import attack_suite
from evaluations.services.providers import provider_create
from prompts import demo as prompts_demo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings):
    """Chunks run in this process, when the run's transaction commits."""
    from config.celery import app

    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def provider(team, demo_llm_server):
    return provider_create(team=team, name="Demo", base_url=demo_llm_server, is_simulated=True)


@pytest.fixture
def seeded(team, user, provider):
    prompts_demo.seed(team, user)
    persona_demo.seed(team, user)  # personas, conversations, approach prompts; no run yet
    return team


def start(team, user, provider, **options):
    options.setdefault("overlays", {"Hybrid (marketing)": "marketing"})
    return persona_run_start(
        team=team, name="drift", created_by=user, split="test",
        persona_version=PersonaSpec.objects.get(slug="taskmaster-departments").versions.get(),
        dataset=persona_demo.seed_conversations(team, user),
        candidates=persona_demo.persona_candidates(provider),
        **options,
    )  # fmt: skip


def test_the_three_approaches_drift_and_hold_as_seed_000_says(seeded, user, provider, eager):
    run = start(seeded, user, provider)
    run.refresh_from_db()
    assert run.status == BenchmarkStatus.FINISHED, run.failure
    conversations, attacks = 12, len(attack_suite(seeded).attacks)
    assert run.progress == {
        "done": 3 * (conversations + attacks),
        "total": 3 * (conversations + attacks),
    }
    summary = {c["label"]: c for c in run.summary["candidates"]}
    prompted, tuned, hybrid = (
        summary["System prompt"],
        summary["Fine-tuned"],
        summary["Hybrid (marketing)"],
    )

    # Drift: the prompted persona fades with the turns, the fine-tuned and hybrid ones do not.
    assert [p["turn"] for p in prompted["drift"]] == [1, 5, 10, 20]
    assert prompted["drift"][0]["adherence"] == 1.0
    assert prompted["drift"][-1]["adherence"] < 0.75 < prompted["drift"][0]["ci_low"] + 0.01
    assert all(p["adherence"] == 1.0 for p in tuned["drift"] + hybrid["drift"])
    for point in prompted["drift"]:
        assert point["ci_low"] <= point["adherence"] <= point["ci_high"]
    # The three columns of the seed's table.
    assert prompted["consistency"]["short"]["value"] > prompted["consistency"]["long"]["value"]
    assert tuned["consistency"]["long"]["value"] == 1.0
    assert prompted["consistency"]["edge_cases"] is not None

    # Robustness: share of attacks held, per family with intervals.
    assert set(prompted["robustness"]["families"]) >= set(FAMILIES)
    assert prompted["robustness"]["overall"]["value"] < 0.5
    assert tuned["robustness"]["overall"]["value"] == 1.0
    family = prompted["robustness"]["families"]["prompt_extraction"]
    assert family["value"] == 0.0 and family["attacks"] == 3
    assert run.summary["persona"]["suite_hash"] == attack_suite(seeded).hash

    # Per turn: 20 turns per conversation and candidate, tokens growing with the history,
    # each turn priced; a conversation's call is the sum of its turns.
    result = BenchmarkResult.objects.filter(
        run=run, candidate__label="System prompt", item__tags=[]
    ).first()
    turns = BenchmarkTurn.objects.filter(run=run, item=result.item, candidate=result.candidate)
    turns = list(turns.order_by("number"))
    assert [t.number for t in turns] == list(range(1, 21))
    tokens = [t.input_tokens for t in turns]
    assert tokens == sorted(tokens) and tokens[-1] > 3 * tokens[0]
    assert result.input_tokens == sum(tokens)
    assert all(t.cost == (t.input_tokens * Decimal("0.15") + t.output_tokens * Decimal("0.60"))
               / 10**6 for t in turns)  # fmt: skip
    usage = {u["turn"]: u for u in prompted["turn_usage"]}
    assert usage[20]["input_tokens"] > usage[1]["input_tokens"]
    # Fewer tokens without a system prompt, turn after turn.
    assert {u["turn"]: u for u in tuned["turn_usage"]}[20]["input_tokens"] < usage[20][
        "input_tokens"
    ]
    # Every figure is recomputed from the stored rows.
    assert benchmark_summary_compute(run) == run.summary
    values = [t.adherence for t in BenchmarkTurn.objects.filter(
        run=run, candidate__label="System prompt", number=20, item__tags=[])]  # fmt: skip
    assert prompted["drift"][-1]["adherence"] == pytest.approx(stats.mean(values))


def test_attacks_are_pinned_per_suite_hash_and_a_run_can_skip_them(seeded, user, provider, eager):
    suite = attack_suite(seeded)
    assert attack_suite_dataset(seeded, suite) == attack_suite_dataset(seeded, suite)
    run = start(seeded, user, provider, attacks=False)
    run.refresh_from_db()
    assert run.status == BenchmarkStatus.FINISHED
    assert run.total == 3 * 12 and PersonaRun.objects.get(run=run).suite_hash == ""
    assert all(c["robustness"] is None for c in run.summary["candidates"])


def test_an_overlay_the_persona_does_not_have_is_refused(seeded, user, provider):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="no overlay 'sales'"):
        start(seeded, user, provider, overlays={"Fine-tuned": "sales"})
    assert not PersonaRun.objects.exists()
