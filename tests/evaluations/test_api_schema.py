"""Every response of the evaluations API (prices, providers, datasets) is one the published
schema describes: lists as lists or paginated envelopes, nulls where null is returned, the
import report and every error body. The last test requires that every operation was exercised."""

from __future__ import annotations

import json

import pytest

from evaluations.services.datasets import dataset_create, dataset_items_add
from tests.schema_check import PublishedSchema

OPERATIONS = {
    ("GET", "/api/v1/prices"),
    ("POST", "/api/v1/prices"),
    ("GET", "/api/v1/prices/resolve"),
    ("GET", "/api/v1/prices/{id}"),
    ("PATCH", "/api/v1/prices/{id}"),
    ("DELETE", "/api/v1/prices/{id}"),
    ("GET", "/api/v1/providers"),
    ("POST", "/api/v1/providers"),
    ("GET", "/api/v1/providers/{id}"),
    ("PATCH", "/api/v1/providers/{id}"),
    ("DELETE", "/api/v1/providers/{id}"),
    ("POST", "/api/v1/providers/{id}/test"),
    ("GET", "/api/v1/datasets"),
    ("POST", "/api/v1/datasets"),
    ("GET", "/api/v1/datasets/{id}"),
    ("GET", "/api/v1/datasets/{id}/items"),
    ("POST", "/api/v1/datasets/{id}/items"),
    ("POST", "/api/v1/datasets/{id}/split"),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "evaluations:read", "evaluations:write")


@pytest.mark.django_db
def test_price_responses_match_the_schema(schema, api):
    schema.check(api.get("/api/v1/prices"))
    created = api.post("/api/v1/prices", {"model": "acme-*", "input_per_1m": 0.1234567,
                       "output_per_1m": 1}, format="json")  # fmt: skip
    schema.check(created)
    assert created.json()["input_per_1m"] == 0.123457 and created.json()["training_per_1m"] is None
    url = f"/api/v1/prices/{created.json()['id']}"
    schema.check(api.get(url))
    schema.check(api.patch(url, {"notes": "list price"}, format="json"))
    schema.check(api.patch(url, {"input_per_1m": "1"}, format="json"))
    schema.check(api.get("/api/v1/prices/resolve", {"model": "acme-large"}))
    schema.check(api.get("/api/v1/prices/resolve", {"model": "nobody-prices-me"}))
    schema.check(api.delete(url))
    schema.check(api.get(url))


@pytest.mark.django_db
def test_provider_responses_match_the_schema(schema, api, demo_llm_server, settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    schema.check(api.get("/api/v1/providers"))
    created = api.post("/api/v1/providers", {"name": "Demo", "base_url": demo_llm_server},
                       format="json")  # fmt: skip
    schema.check(created)
    assert created.json()["checked_at"] is None
    url = f"/api/v1/providers/{created.json()['id']}"
    tested = api.post(f"{url}/test")
    schema.check(tested)
    assert tested.json()["ok"] and tested.json()["latency_ms"] is not None
    schema.check(api.get(url))
    schema.check(api.get("/api/v1/providers"))
    schema.check(api.patch(url, {"api_key": "sk-x", "api_key_env": "X"}, format="json"))
    schema.check(api.patch(url, {"name": "Demo endpoint"}, format="json"))
    schema.check(api.delete(url))
    schema.check(api.post(f"{url}/test"))


@pytest.mark.django_db
def test_dataset_responses_match_the_schema(schema, api, team):
    schema.check(api.get("/api/v1/datasets"))
    created = api.post("/api/v1/datasets", {"name": "Tickets", "task_kind": "classification"},
                       format="json")  # fmt: skip
    schema.check(created)
    dataset_id = created.json()["id"]
    url = f"/api/v1/datasets/{dataset_id}"
    items = [{"input": {"ticket": f"t{n}"}, "expected": "billing"} for n in range(10)]
    schema.check(api.post(f"{url}/items", json.dumps(items), content_type="application/json"))
    bad = [{"input": {"ticket": "x"}, "split": "dev"}]
    schema.check(api.post(f"{url}/items", json.dumps(bad), content_type="application/json"))
    schema.check(api.post(f"{url}/items"))
    schema.check(api.post(f"{url}/items", "{", content_type="application/x-ndjson"))
    schema.check(api.get(f"{url}/items", {"split": "unassigned", "limit": 3}))
    schema.check(api.post(f"{url}/split", {"train": 0.8, "validation": 0.1, "test": 0.1},
                          format="json"))  # fmt: skip
    schema.check(api.post(f"{url}/split", {"train": 1, "validation": 1, "test": 1}, format="json"))
    other = dataset_create(team=team, name="Copies", task_kind="generation")
    dataset_items_add(dataset=other, items=[{"input": {"q": "same"}, "split": "train"},
                                            {"input": {"q": "same"}, "split": "test"}])  # fmt: skip
    detail = api.get(f"/api/v1/datasets/{other.pk}")
    schema.check(detail)
    assert detail.json()["leakage"]["clean"] is False
    schema.check(api.get(url))
    schema.check(api.get("/api/v1/datasets", {"limit": 1}))
    schema.check(api.get(f"{url}/items", {"tag": ""}))
    schema.check(api.get("/api/v1/datasets/999999"))


# A database test like the others, so that it runs right after them (pytest-django runs
# database tests first), with the same module-scoped schema.
@pytest.mark.django_db
def test_every_operation_of_the_app_was_checked(schema):
    answered = {(method, path) for method, path, code in schema.checked if code < 300}
    assert OPERATIONS - answered == set()
    published = {
        (method.upper(), path)
        for path, operations in schema.document["paths"].items()
        for method in operations
        if path.split("/")[3] in {"prices", "providers", "datasets"}
    }
    assert published == OPERATIONS
