"""Every response of the persona run API is one the published schema describes; the runs
really run (eagerly, over real HTTP to the demo endpoint), so these tests are transactional
and keep a module of their own (pytest-django runs transactional tests last)."""

from __future__ import annotations

import pytest

from evaluations import persona_demo
from evaluations.services.providers import provider_create
from prompts import demo as prompts_demo
from tests.schema_check import PublishedSchema

OPERATIONS = {
    ("GET", "/api/v1/personas/{slug}/runs"),
    ("POST", "/api/v1/personas/{slug}/runs"),
    ("GET", "/api/v1/personas/{slug}/runs/{run}"),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "evaluations:read", "evaluations:write")


@pytest.mark.django_db(transaction=True)
def test_persona_run_responses_match_the_schema(schema, api, team, user, demo_llm_server, settings):
    from config.celery import app

    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    prompts_demo.seed(team, user)
    persona_demo.seed(team, user)
    provider = provider_create(team=team, name="Demo", base_url=demo_llm_server)
    dataset = persona_demo.seed_conversations(team, user)
    url = "/api/v1/personas/taskmaster-departments/runs"
    schema.check(api.get(url))
    body = {
        "name": "drift", "dataset": dataset.pk, "split": "test", "attacks": True,
        "candidates": [
            {"label": "prompted", "approach": "prompt", "provider": provider.pk,
             "model": "demo-prompted", "prompt": {"slug": "taskmaster-persona", "version": 1}},
            {"label": "hybrid", "approach": "hybrid", "provider": provider.pk,
             "prompt": {"slug": "taskmaster-marketing", "version": 1}, "overlay": "marketing"},
        ],
    }  # fmt: skip
    schema.check(api.post(url, {**body, "dataset": 999999}, format="json"))
    schema.check(api.post(url, {**body, "colour": 1}, format="json"))
    unknown = api.post(url, {**body, "workload": "nope"}, format="json")
    schema.check(unknown)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "workload"
    app.conf.task_always_eager = True
    try:
        created = api.post(url, body, format="json")
    finally:
        app.conf.task_always_eager = False
    schema.check(created)
    assert created.status_code == 201, created.json()
    detail = api.get(f"{url}/{created.json()['id']}")
    schema.check(detail)
    figures = {c["label"]: c for c in detail.json()["candidates"]}
    assert detail.json()["status"] == "finished"
    assert figures["hybrid"]["robustness"]["overall"]["value"] == 1.0
    assert figures["prompted"]["drift"][0] == {**figures["prompted"]["drift"][0], "turn": 1}
    schema.check(api.get(url))
    schema.check(api.get(f"{url}/999999"))
    # The same run through the benchmarks API: its summary carries the persona figures.
    benchmark = api.get(f"/api/v1/benchmarks/{created.json()['id']}")
    schema.check(benchmark)
    candidate = benchmark.json()["summary"]["candidates"][1]
    assert candidate["robustness"] == figures["hybrid"]["robustness"]
    assert candidate["drift"] == figures["hybrid"]["drift"]


@pytest.mark.django_db(transaction=True)
def test_every_persona_run_operation_was_checked(schema):
    answered = {(method, path) for method, path, code in schema.checked if code < 300}
    assert OPERATIONS - answered == set()
    published = {
        (method.upper(), path)
        for path, operations in schema.document["paths"].items()
        for method in operations
        if path.startswith("/api/v1/personas/") and "/runs" in path
    }
    assert published == OPERATIONS
