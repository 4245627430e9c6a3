"""A finished persona run linked to a workload puts its consistency and robustness, per
approach, into the workload's next assessment."""

from __future__ import annotations

import pytest

from evaluations import persona_demo
from evaluations.models import BenchmarkStatus
from evaluations.persona_models import PersonaSpec
from evaluations.services.datasets import dataset_create, dataset_items_add
from evaluations.services.persona_runs import persona_run_start
from evaluations.services.providers import provider_create
from prompts import demo as prompts_demo
from tests.evaluations.conftest import demo_llm_server  # noqa: F401
from tests.workloads.test_worksheets import SEED_000
from workloads import formatting, roi
from workloads.services.assessments import assessment_create
from workloads.services.workloads import workload_create
from workloads.services.worksheets import worksheet_create
from workloads.views.roi_display import persona_checklist_evidence

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings):
    from config.celery import app

    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_assessment_carries_the_persona_figures_of_the_linked_run(
    team,
    user,
    demo_llm_server,  # noqa: F811
    eager,
    client,
):
    workload = workload_create(team=team, slug="taskmaster", name="TaskMaster", model="gpt-4o")
    assert assessment_create(workload=workload, reason="manual").observed["persona"] is None
    provider = provider_create(team=team, name="Demo", base_url=demo_llm_server)
    prompts_demo.seed(team, user)
    persona_demo.seed(team, user)
    dataset = dataset_create(team=team, name="Short talks", task_kind="persona")
    turns = [{"role": "user", "content": f"Create a task: item {n}."} for n in range(1, 13)]
    dataset_items_add(dataset=dataset, items=[{"input": {"n": i}, "conversation": turns,
                                               "split": "test"} for i in range(2)])  # fmt: skip
    run = persona_run_start(
        team=team, name="linked", workload_id=workload.pk, split="test", dataset=dataset,
        persona_version=PersonaSpec.objects.get(slug="taskmaster").versions.get(),
        candidates=persona_demo.persona_candidates(provider)[:2],
    )  # fmt: skip
    run.refresh_from_db()
    assert run.status == BenchmarkStatus.FINISHED, run.failure

    evidence = assessment_create(workload=workload, reason="benchmark").observed["persona"]
    assert evidence["run"] == run.pk and set(evidence["approaches"]) == {"prompt", "fine-tune"}
    prompt, tuned = evidence["approaches"]["prompt"], evidence["approaches"]["fine-tune"]
    assert prompt["label"] == "System prompt"
    summary = {c["label"]: c for c in run.summary["candidates"]}
    assert prompt["consistency"] == summary["System prompt"]["consistency"]["long"]["value"]
    assert prompt["robustness"] == summary["System prompt"]["robustness"]["overall"]["value"]
    assert prompt["consistency"] < tuned["consistency"] == 1.0
    assert prompt["robustness"] < tuned["robustness"] == 1.0

    # The saved worksheet of the workload shows them next to its checklist.
    inputs = roi.parse_inputs({**SEED_000, "public_facing": True, "long_conversations": True})
    sheet = worksheet_create(team=team, workload=workload, inputs=inputs, justification="x")
    client.force_login(user)
    page = client.get(f"/t/{team.slug}/workloads/{workload.slug}/worksheets/{sheet.version}/")
    text = page.content.decode()
    robust = formatting.percent(prompt["robustness"])
    assert (
        f"public-facing and robustness {robust} (System prompt) against 100% (Fine-tuned)"
        " → fine-tune side" in text
    )
    assert "long conversations and consistency" in text


def test_checklist_evidence_names_the_side_the_figures_favour():
    inputs = roi.parse_inputs({**SEED_000, "public_facing": False, "consistency_critical": True})
    evidence = {"run": 1, "name": "r", "approaches": {
        "prompt": {"label": "P", "consistency": 0.9, "robustness": 0.5},
        "hybrid": {"label": "H", "consistency": 0.6, "robustness": None},
    }}  # fmt: skip
    lines = persona_checklist_evidence(inputs, evidence)["lines"]
    assert lines == [
        "robustness 50% (P)",
        "consistency is critical and consistency 90% (P) against 60% (H) → prompt side",
    ]
    assert persona_checklist_evidence(inputs, None) is None
