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
from workloads.services.assessments import assessment_create
from workloads.services.workloads import workload_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings):
    from config.celery import app

    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_assessment_carries_the_persona_figures_of_the_linked_run(team, user, demo_llm_server,  # noqa: F811
                                                                  eager):  # fmt: skip
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
