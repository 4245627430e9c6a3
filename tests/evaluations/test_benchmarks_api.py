"""`/api/v1/benchmarks`: validation (400 naming the field, nothing stored), scopes, lists,
a run started and read back through the API, cancel; every response checked against the
published schema."""

from __future__ import annotations

import pytest

from evaluations.models import BenchmarkRun, BenchmarkStatus
from tests.evaluations.benchmark_helpers import scenario, start
from tests.schema_check import PublishedSchema
from workloads.services.workloads import workload_create

OPERATIONS = {
    ("GET", "/api/v1/benchmarks"),
    ("POST", "/api/v1/benchmarks"),
    ("GET", "/api/v1/benchmarks/{id}"),
    ("GET", "/api/v1/benchmarks/{id}/results"),
    ("POST", "/api/v1/benchmarks/{id}/cancel"),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "evaluations:read", "evaluations:write")


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def eager():
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def body(sc, **overrides):
    data = {
        "name": "Prompted vs fine-tuned",
        "dataset": sc.dataset.pk,
        "split": "test",
        "candidates": [
            {"label": "prompted", "approach": "prompt", "provider": sc.provider.pk,
             "model": "demo-prompted", "prompt": {"slug": sc.prompt_slug, "version": 1}},
            {"label": "fine-tuned", "approach": "fine-tune", "provider": sc.provider.pk,
             "model": "demo-fine-tuned", "prompt": {"slug": sc.prompt_slug, "label": "latest"}},
        ],
        "scorers": ["accuracy", "macro_f1", {"name": "regex", "pattern": "category"}],
        "concurrency": 4,
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.mark.django_db(transaction=True)
def test_a_run_started_through_the_api_reads_back_with_summary_and_rows(
    schema, api, team, user, demo_llm_server, eager
):
    sc = scenario(team, user, demo_llm_server, items=8)
    created = api.post("/api/v1/benchmarks", body(sc), format="json")
    schema.check(created)
    assert created.status_code == 201, created.json()
    url = f"/api/v1/benchmarks/{created.json()['id']}"
    detail = api.get(url)
    schema.check(detail)
    run = detail.json()
    assert run["status"] == "finished" and run["progress"] == {"done": 16, "total": 16}
    assert [c["prompt"] for c in run["candidates"]] == [
        {"slug": sc.prompt_slug, "version": 1, "label": None, "hash": run["candidates"][0]
         ["prompt"]["hash"]},
        {"slug": sc.prompt_slug, "version": 1, "label": "latest",
         "hash": run["candidates"][0]["prompt"]["hash"]},
    ]  # fmt: skip
    prompted = run["summary"]["candidates"][0]
    assert set(prompted["scores"]) == {"accuracy", "macro_f1", "regex"}
    assert prompted["scores"]["accuracy"]["ci_low"] <= prompted["scores"]["accuracy"]["value"]
    results = api.get(f"{url}/results", {"candidate": "prompted", "limit": 5})
    schema.check(results)
    page = results.json()
    assert page["count"] == 8 and len(page["results"]) == 5
    assert [r["item_position"] for r in page["results"]] == [1, 2, 3, 4, 5]
    everything = api.get(f"{url}/results", {"limit": 100}).json()["results"]
    accuracy = [r["scores"]["accuracy"] for r in everything if r["candidate"] == "prompted"]
    assert prompted["scores"]["accuracy"]["value"] == pytest.approx(sum(accuracy) / 8)
    schema.check(api.get(f"{url}/results", {"errors": "true"}))
    schema.check(api.get("/api/v1/benchmarks"))
    schema.check(api.get("/api/v1/benchmarks", {"status": "finished", "limit": 1}))
    ended = api.post(f"{url}/cancel")
    schema.check(ended)
    assert ended.status_code == 409


@pytest.mark.django_db(transaction=True)
def test_cancel_a_queued_run(schema, api, team, user, demo_llm_server, monkeypatch):
    # Transactional like the test above, so that both run in the same stretch of the session
    # as the module's schema fixture; no chunk is sent, so the run stays queued.
    monkeypatch.setattr("evaluations.services.benchmarks._enqueue", lambda *args: None)
    sc = scenario(team, user, demo_llm_server, items=2)
    run = start(team, sc)
    cancelled = api.post(f"/api/v1/benchmarks/{run.pk}/cancel")
    schema.check(cancelled)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    schema.check(api.get(f"/api/v1/benchmarks/{run.pk}"))
    schema.check(api.get("/api/v1/benchmarks/999999"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"split": "dev"}, "split"),
        ({"dataset": 999999}, "dataset"),
        ({"candidates": []}, "candidates"),
        ({"scorers": ["accuracy", "accuracy"]}, "scorers"),
        ({"scorers": ["bleu"]}, "scorers.0.name"),
        ({"scorers": [{"name": "regex", "pattern": "("}]}, "scorers.0.pattern"),
        ({"scorers": [{"name": "contains"}]}, "scorers.0.needle"),
        ({"scorers": [{"name": "accuracy", "pattern": "x"}]}, "scorers.0.pattern"),
        ({"concurrency": 0}, "concurrency"),
        ({"workload": "nobody"}, "workload"),
        ({"colour": "blue"}, "colour"),
        ({"split": "validation"}, "split"),  # empty split
        ({"scorers": ["json_schema_valid"]}, "scorers"),  # the dataset has no schema
    ],
)
@pytest.mark.django_db
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(
    api, team, user, demo_llm_server, change, field
):
    sc = scenario(team, user, demo_llm_server, items=2)
    response = api.post("/api/v1/benchmarks", body(sc, **change), format="json")
    assert response.status_code == 400, response.json()
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    assert not BenchmarkRun.objects.exists()


@pytest.mark.parametrize(
    ("candidate", "field"),
    [
        ({"provider": 999999}, "candidates.0.provider"),
        ({"prompt": {"slug": "nope", "version": 1}}, "candidates.0.prompt"),
        ({"prompt": {"slug": "triage-tickets", "version": 9}}, "candidates.0.prompt"),
        ({"prompt": {"slug": "triage-tickets", "label": "production"}}, "candidates.0.prompt"),
        ({"prompt": {"slug": "triage-tickets", "version": 1, "label": "x"}},
         "candidates.0.prompt.version"),
        ({"approach": "magic"}, "candidates.0.approach"),
        ({"label": "fine-tuned"}, "candidates"),  # two candidates with one label
    ],
)  # fmt: skip
@pytest.mark.django_db
def test_a_bad_candidate_is_named(api, team, user, demo_llm_server, candidate, field):
    sc = scenario(team, user, demo_llm_server, items=2)
    data = body(sc)
    data["candidates"][0].update(candidate)
    response = api.post("/api/v1/benchmarks", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    assert not BenchmarkRun.objects.exists()


@pytest.mark.django_db
def test_scopes_read_and_write(team, user, demo_llm_server, api_client_factory):
    sc = scenario(team, user, demo_llm_server, items=2)
    reader = api_client_factory(team, "evaluations:read")
    assert reader.get("/api/v1/benchmarks").status_code == 200
    assert reader.post("/api/v1/benchmarks", body(sc), format="json").status_code == 403
    other = api_client_factory(team, "prompts:read")
    assert other.get("/api/v1/benchmarks").status_code == 403
    writer = api_client_factory(team, "evaluations:read", "evaluations:write")
    assert writer.post("/api/v1/benchmarks", body(sc), format="json").status_code == 201


@pytest.mark.django_db
def test_the_list_filters_by_status_and_workload_in_constant_queries(
    api, team, user, demo_llm_server, django_assert_max_num_queries
):
    sc = scenario(team, user, demo_llm_server, items=2)
    workload = workload_create(team=team, slug="triage", name="Triage", model="demo-prompted")
    for n in range(3):
        start(team, sc, workload_id=workload.pk if n else None)
    BenchmarkRun.objects.filter(workload=None).update(status=BenchmarkStatus.FAILED)
    with django_assert_max_num_queries(6):
        linked = api.get("/api/v1/benchmarks", {"workload": "triage"}).json()
    assert linked["count"] == 2 and {r["workload"] for r in linked["results"]} == {"triage"}
    failed = api.get("/api/v1/benchmarks", {"status": "failed"}).json()
    assert failed["count"] == 1 and failed["results"][0]["workload"] is None
    assert api.get("/api/v1/benchmarks", {"status": "odd"}).status_code == 400


# Last, like the other apps' schema tests: every operation was answered at least once. A
# transactional test, so that pytest-django runs it after the transactional one above.
@pytest.mark.django_db(transaction=True)
def test_every_benchmark_operation_was_checked(schema):
    answered = {(method, path) for method, path, code in schema.checked if code < 300}
    assert OPERATIONS - answered == set()
    published = {
        (method.upper(), path)
        for path, operations in schema.document["paths"].items()
        for method in operations
        if path.split("/")[3] == "benchmarks"
    }
    assert published == OPERATIONS


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("gpt-4o-mini", "does not serve gpt-4o-mini: its last connection test listed"),
        ("", "does not serve demo-prompted (the prompt's model)"),
    ],
)
@pytest.mark.django_db
def test_a_model_the_provider_does_not_serve_is_refused_before_any_call(
    api, team, user, demo_llm_server, model, message
):
    sc = scenario(team, user, demo_llm_server, items=2)
    sc.provider.available_models = ["demo-fine-tuned", "demo-hybrid"]  # as its test listed
    sc.provider.save(update_fields=["available_models"])
    data = body(sc)
    data["candidates"][0]["model"] = model
    response = api.post("/api/v1/benchmarks", data, format="json")
    assert response.status_code == 400, response.json()
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert message in errors["candidates.0.model"]
    assert "demo-fine-tuned, demo-hybrid" in errors["candidates.0.model"]
    assert not BenchmarkRun.objects.exists()
