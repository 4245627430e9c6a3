"""`/api/v1/finetunes`: create (201 {id, status}), read, cancel; the 400s with field and reason,
scopes and tenancy; every response as the published schema describes it."""

from __future__ import annotations

import pytest

from evaluations.models import FineTuneJob
from evaluations.services import finetunes
from tests.evaluations.finetune_helpers import (
    MODEL,
    demo_provider,
    ticket_dataset,
    ticket_prompt,
)
from tests.factories import WorkloadFactory
from tests.schema_check import PublishedSchema

OPERATIONS = {
    ("POST", "/api/v1/finetunes"),
    ("GET", "/api/v1/finetunes/{id}"),
    ("POST", "/api/v1/finetunes/{id}/cancel"),
}


@pytest.fixture
def demo_llm_server(demo_llm_factory):
    """A demo endpoint of this test's own: the models its fine-tunes create must not appear in
    the model lists other tests read from the shared one."""
    return demo_llm_factory().base_url


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture(autouse=True)
def _private_targets(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "evaluations:read", "evaluations:write")


@pytest.fixture
def setup(team, make_prompt, demo_llm_server):
    ticket_prompt(make_prompt, team)
    return ticket_dataset(team), demo_provider(team, demo_llm_server)


def body(dataset, provider, **extra):
    return {"dataset": dataset.pk, "prompt": {"slug": "triage", "label": "production"},
            "base_model": MODEL, "provider": provider.pk, **extra}  # fmt: skip


def errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.mark.django_db
def test_create_read_and_cancel_match_the_schema(schema, api, setup, team):
    dataset, provider = setup
    workload = WorkloadFactory(team=team, slug="triage")
    created = api.post("/api/v1/finetunes", body(
        dataset, provider, hyperparameters={"n_epochs": 2, "learning_rate_multiplier": 0.5},
        workload="triage", system_prompt="minimal",
    ), format="json")  # fmt: skip
    schema.check(created)
    assert created.status_code == 201
    assert set(created.json()) == {"id", "status"} and created.json()["status"] == "preparing"
    job = FineTuneJob.objects.get(pk=created.json()["id"])
    assert (job.n_epochs, job.batch_size, float(job.learning_rate_multiplier)) == (2, 4, 0.5)
    assert job.workload == workload and job.prompt_ref == "triage v1 (production)"
    url = f"/api/v1/finetunes/{job.pk}"
    read = api.get(url)
    schema.check(read)
    data = read.json()
    assert data["status"] == "preparing" and data["estimated_tokens"] == job.estimated_tokens
    assert data["hyperparameters"] == {"n_epochs": 2, "batch_size": 4,
                                       "learning_rate_multiplier": 0.5}  # fmt: skip
    assert data["events"][0]["kind"] == "status" and data["actual_cost"] is None
    assert data["benchmark_run"] is None
    cancelled = api.post(f"{url}/cancel")
    schema.check(cancelled)
    assert cancelled.json()["status"] == "cancelled"
    again = api.post(f"{url}/cancel")
    schema.check(again)
    assert again.status_code == 400 and errors(again) == {
        "status": "The job has already cancelled."
    }
    schema.check(api.get("/api/v1/finetunes/999999"))


@pytest.mark.django_db
def test_a_succeeded_job_reads_with_model_tokens_and_actual_cost(schema, api, setup, team,
                                                                  settings):  # fmt: skip
    settings.FINETUNE_POLL_BASE_MS = 50
    dataset, provider = setup
    created = api.post("/api/v1/finetunes", body(dataset, provider), format="json").json()
    job = FineTuneJob.objects.get(pk=created["id"])
    for _ in range(200):
        job.refresh_from_db()
        if job.is_terminal:
            break
        finetunes.finetune_step(job_id=job.pk, token=str(job.poll_token))
    read = api.get(f"/api/v1/finetunes/{job.pk}")
    schema.check(read)
    data = read.json()
    assert data["status"] == "succeeded" and data["fine_tuned_model"].startswith("ft:")
    assert data["trained_tokens"] == data["estimated_tokens"]
    assert data["actual_cost"] == data["estimated_cost"]  # the demo bills what was estimated
    assert any(e["kind"] == "metrics" for e in data["events"])
    schema.check(api.post(f"/api/v1/finetunes/{job.pk}/cancel"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"surprise": 1}, "surprise", "Unknown field."),
        ({"dataset": 999999}, "dataset", "No such dataset in this team."),
        ({"provider": 999999}, "provider", "No such provider in this team."),
        ({"prompt": {"slug": "nope"}}, "prompt", "No prompt with this slug in this team."),
        ({"prompt": {"slug": "triage", "version": 7}}, "prompt", "triage has no version 7."),
        ({"prompt": {"slug": "triage", "version": 1, "label": "production"}}, "prompt.version",
         "Give a version or a label, not both."),
        ({"prompt": {"slug": "triage", "x": 1}}, "prompt.x", "Unknown field."),
        ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs",
         "Ensure this value is greater than or equal to 1."),
        ({"hyperparameters": {"n_epochs": "3"}}, "hyperparameters.n_epochs",
         "Must be an integer."),
        ({"hyperparameters": {"seed": 3}}, "hyperparameters.seed", "Unknown field."),
        ({"workload": "nope"}, "workload", "No such workload in this team."),
        ({"system_prompt": "short"}, "system_prompt", '"short" is not a valid choice.'),
        ({"base_model": "a b"}, "base_model", None),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field(schema, api, setup, change, field, message):
    dataset, provider = setup
    response = api.post("/api/v1/finetunes", {**body(dataset, provider), **change}, format="json")
    schema.check(response)
    assert response.status_code == 400
    assert field in errors(response)
    if message:
        assert errors(response)[field] == message
    assert not FineTuneJob.objects.exists()


@pytest.mark.django_db
def test_invalid_files_and_leakage_are_400s_and_nothing_is_stored(
    schema, api, team, make_prompt, demo_llm_server
):
    ticket_prompt(make_prompt, team)
    provider = demo_provider(team, demo_llm_server)
    small = ticket_dataset(team, train=4, name="Small")
    response = api.post("/api/v1/finetunes", body(small, provider), format="json")
    schema.check(response)
    assert errors(response)["dataset"] == (
        "training file: 4 examples: the fine-tuning API needs at least 10"
    )
    leak = {"input": {"ticket": "test ticket 0 about question"}, "expected": "question",
            "split": "train"}  # fmt: skip
    leaky = ticket_dataset(team, name="Leaky", extra=[leak])
    response = api.post("/api/v1/finetunes", body(leaky, provider), format="json")
    assert "leaks" in errors(response)["leakage_override_reason"]
    assert not FineTuneJob.objects.exists()
    response = api.post("/api/v1/finetunes", body(leaky, provider,
                        leakage_override_reason="FAQ duplicate"), format="json")  # fmt: skip
    assert response.status_code == 201


@pytest.mark.django_db
def test_scopes_and_tenancy(api_client_factory, team, other_team, setup):
    dataset, provider = setup
    reader = api_client_factory(team, "evaluations:read")
    assert (
        reader.post("/api/v1/finetunes", body(dataset, provider), format="json").status_code == 403
    )
    outsider = api_client_factory(other_team, "evaluations:read", "evaluations:write")
    # Another team's dataset and provider do not exist for it.
    response = outsider.post("/api/v1/finetunes", body(dataset, provider), format="json")
    assert response.status_code == 400 and {"dataset", "provider", "prompt"} <= set(
        errors(response)
    )
    owner = api_client_factory(team, "evaluations:read", "evaluations:write")
    job_id = owner.post("/api/v1/finetunes", body(dataset, provider), format="json").json()["id"]
    assert outsider.get(f"/api/v1/finetunes/{job_id}").status_code == 404
    assert outsider.post(f"/api/v1/finetunes/{job_id}/cancel").status_code == 404
    assert FineTuneJob.objects.get(pk=job_id).status == "preparing"
    assert reader.get(f"/api/v1/finetunes/{job_id}").status_code == 200


@pytest.mark.django_db
def test_every_finetune_operation_was_checked(schema):
    answered = {(method, path) for method, path, code in schema.checked if code < 300}
    assert OPERATIONS - answered == set()
    published = {
        (method.upper(), path)
        for path, operations in schema.document["paths"].items()
        for method in operations
        if path.split("/")[3] == "finetunes"
    }
    assert published == OPERATIONS


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"dataset": 2**62},
        {"provider": 2**62},
        {"prompt": {"slug": "triage", "version": 2**31 - 1}},
        {"hyperparameters": {"learning_rate_multiplier": 1e308}},
        {"hyperparameters": {"learning_rate_multiplier": 0.0001}},
        {"base_model": "x" * 201},
        {"leakage_override_reason": "x" * 2001},
        {"prompt": []},
        {"hyperparameters": None},
    ],
)
def test_extreme_values_are_400s_not_500s(api, setup, change):
    dataset, provider = setup
    response = api.post("/api/v1/finetunes", {**body(dataset, provider), **change}, format="json")
    assert response.status_code == 400, response.content
