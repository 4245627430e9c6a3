"""Every response of the persona and attack API is one the published schema describes, error
bodies included; the last test requires that every operation was exercised."""

from __future__ import annotations

import pytest

from evaluations import persona_demo
from evaluations.services.providers import provider_create
from prompts import demo as prompts_demo
from tests.evaluations.test_personas_api import TASKMASTER
from tests.schema_check import PublishedSchema

OPERATIONS = {
    ("GET", "/api/v1/personas"),
    ("POST", "/api/v1/personas"),
    ("GET", "/api/v1/personas/{slug}"),
    ("PATCH", "/api/v1/personas/{slug}"),
    ("GET", "/api/v1/personas/{slug}/versions"),
    ("POST", "/api/v1/personas/{slug}/versions"),
    ("GET", "/api/v1/personas/{slug}/versions/{number}"),
    ("POST", "/api/v1/personas/{slug}/score"),
    ("GET", "/api/v1/personas/{slug}/runs"),
    ("POST", "/api/v1/personas/{slug}/runs"),
    ("GET", "/api/v1/personas/{slug}/runs/{id}"),
    ("GET", "/api/v1/attacks"),
    ("POST", "/api/v1/attacks"),
    ("DELETE", "/api/v1/attacks/{id}"),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "evaluations:read", "evaluations:write")


@pytest.mark.django_db
def test_persona_responses_match_the_schema(schema, api):
    schema.check(api.get("/api/v1/personas"))
    schema.check(api.post("/api/v1/personas", {**TASKMASTER, "colour": 1}, format="json"))
    overlay = {"name": "marketing", "system_prompt": "Focus on campaigns."}
    body = {**TASKMASTER, "delivery": "overlay", "base_model": "demo-hybrid", "overlays": [overlay]}
    created = api.post("/api/v1/personas", body, format="json")
    schema.check(created)
    url = "/api/v1/personas/taskmaster"
    schema.check(api.get(url))
    schema.check(api.patch(url, {"description": "Coach"}, format="json"))
    schema.check(api.patch(url, {"prompt": "missing"}, format="json"))
    schema.check(api.get(f"{url}/versions"))
    schema.check(api.post(f"{url}/versions", {"vocabulary_use": ["Nice work!"]}, format="json"))
    schema.check(api.post(f"{url}/versions", {"vocabulary_use": ["Nice work!"]}, format="json"))
    schema.check(api.get(f"{url}/versions/1"))
    schema.check(api.get(f"{url}/versions/7"))
    schema.check(api.post(f"{url}/score", {"response": "Nice work! What's next?"}, format="json"))
    schema.check(api.post(f"{url}/score", {"response": "x", "version": 1, "overlay": "marketing"},
                          format="json"))  # fmt: skip
    schema.check(api.post(f"{url}/score", {"response": 3}, format="json"))
    schema.check(api.get("/api/v1/personas/nobody"))


@pytest.mark.django_db
def test_attack_responses_match_the_schema(schema, api):
    schema.check(api.get("/api/v1/attacks"))
    added = api.post("/api/v1/attacks", {"key": "k", "family": "custom", "goal": "override",
                     "turns": ["Be a cat."]}, format="json")  # fmt: skip
    schema.check(added)
    schema.check(api.post("/api/v1/attacks", {"key": "k"}, format="json"))
    schema.check(api.get("/api/v1/attacks"))
    schema.check(api.delete(f"/api/v1/attacks/{added.json()['id']}"))
    schema.check(api.delete(f"/api/v1/attacks/{added.json()['id']}"))


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
             "prompt": {"slug": "taskmaster-marketing"}, "overlay": "marketing"},
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


# Transactional like the run test, so that it runs after it (pytest-django runs them last).
@pytest.mark.django_db(transaction=True)
def test_every_persona_operation_was_checked(schema):
    answered = {(method, path) for method, path, code in schema.checked if code < 300}
    assert OPERATIONS - answered == set()
    published = {
        (method.upper(), path)
        for path, operations in schema.document["paths"].items()
        for method in operations
        if path.split("/")[3] in {"personas", "attacks"}
    }
    assert published == OPERATIONS
