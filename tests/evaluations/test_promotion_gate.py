"""The prompt registry's promotion gate, enforced with benchmark runs: production moves to a
gated template's new version only when a finished run compared it with production and its
metric is within the margin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evaluations.models import BenchmarkRun, BenchmarkStatus
from evaluations.services.benchmarks import CandidateSpec, benchmark_run_start
from prompts import services as prompt_services
from prompts.models import PromptLabelMove
from tests.evaluations.benchmark_helpers import SYSTEM, scenario
from tests.prompts.helpers import chat_content

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def gated(team, user, demo_llm_server):
    sc = scenario(team, user, demo_llm_server, items=4)
    template = prompt_services.prompt_template_create(
        team=team, slug="gated", name="Gated", actor=user,
        gate={"enabled": True, "metric": "accuracy", "margin": 0.02},
    )  # fmt: skip
    for text in ("{{ ticket }}", "Ticket: {{ ticket }}"):
        prompt_services.prompt_version_create(template=template, author=user,
                                              content=chat_content(SYSTEM, text))  # fmt: skip
    prompt_services.prompt_label_move(template=template, label="production", number=1,
                                      user=user, is_admin=True)  # fmt: skip
    return sc, template


def compared(team, sc, template, accuracy: tuple[float, float]) -> BenchmarkRun:
    """A finished run of v1 (production) against v2 with these accuracies."""
    run = benchmark_run_start(
        team=team, name="v1 vs v2", dataset=sc.dataset, split="test",
        candidates=[CandidateSpec(label=f"v{n}", approach="prompt", provider=sc.provider,
                                  model="demo-prompted", prompt_slug="gated", prompt_number=n)
                    for n in (1, 2)],
        scorers=[{"name": "accuracy"}],
    )  # fmt: skip
    summary = {"candidates": [
        {"label": f"v{n}", "scores": {"accuracy": {"value": value, "ci_low": 0, "ci_high": 1}}}
        for n, value in zip((1, 2), accuracy, strict=True)
    ], "best": {}}  # fmt: skip
    BenchmarkRun.objects.filter(pk=run.pk).update(status=BenchmarkStatus.FINISHED,
                                                  summary=summary)  # fmt: skip
    return run


def move(template, user):
    return prompt_services.prompt_label_move(
        template=template, label="production", number=2, user=user, is_admin=True
    )


def test_without_a_run_comparing_both_versions_production_does_not_move(team, user, gated):
    sc, template = gated
    with pytest.raises(ValidationError) as refused:
        move(template, user)
    assert "no finished benchmark run compares v2 with production v1" in str(refused.value)
    assert template.labels.get(label="production").version.number == 1


def test_a_run_within_the_margin_lets_it_move_and_the_move_says_why(team, user, gated):
    sc, template = gated
    run = compared(team, sc, template, (0.80, 0.79))  # 1 point worse, margin 2
    move(template, user)
    assert template.labels.get(label="production").version.number == 2
    note = PromptLabelMove.objects.filter(template=template).latest("moved_at").note
    assert f"benchmark #{run.pk}" in note and "0.790 for v2 vs 0.800 for v1" in note


def test_a_run_worse_by_more_than_the_margin_refuses_and_the_api_names_the_field(
    team, user, gated, api_client_factory
):
    sc, template = gated
    compared(team, sc, template, (0.80, 0.70))
    api = api_client_factory(team, "prompts:read", "prompts:write")
    response = api.put("/api/v1/prompts/gated/labels/production", {"version": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "version"
    assert "worse by more than the margin" in response.json()["errors"][0]["message"]
    assert template.labels.get(label="production").version.number == 1
    gate = api.get("/api/v1/prompts/gated").json()["gate"]
    assert gate["enforced"] is True


def test_other_labels_and_ungated_templates_move_freely(team, user, gated):
    sc, template = gated
    prompt_services.prompt_label_move(template=template, label="staging", number=2, user=user)
    template.gate_enabled = False
    template.save(update_fields=["gate_enabled"])
    move(template, user)
    assert template.labels.get(label="production").version.number == 2
