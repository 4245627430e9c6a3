"""Every response of the persona and attack API is one the published schema describes, error
bodies included; the last test requires that every operation was exercised."""

from __future__ import annotations

import pytest

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


# A database test like the others, so that it runs right after them (pytest-django runs
# database tests first), with the same module-scoped schema. Runs: test_persona_runs_schema.
@pytest.mark.django_db
def test_every_persona_operation_was_checked(schema):
    answered = {(method, path) for method, path, code in schema.checked if code < 300}
    assert OPERATIONS - answered == set()
    published = {
        (method.upper(), path)
        for path, operations in schema.document["paths"].items()
        for method in operations
        if path.split("/")[3] in {"personas", "attacks"} and "/runs" not in path
    }
    assert published == OPERATIONS
