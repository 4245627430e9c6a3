"""Every response of the workloads API (workloads, usage, flags, ROI) and of /me is one the
published schema describes: paginated envelopes as they are, nulls where null is returned, the
error bodies with their statuses. The last test requires that every operation was exercised."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from tests.factories import UsageRecordFactory, WorkloadFactory
from tests.schema_check import PublishedSchema
from tests.workloads.usage_helpers import hour, record
from workloads.services import assessments

OPERATIONS = {
    ("GET", "/api/v1/workloads"),
    ("POST", "/api/v1/workloads"),
    ("GET", "/api/v1/workloads/{slug}"),
    ("PATCH", "/api/v1/workloads/{slug}"),
    ("POST", "/api/v1/usage"),
    ("GET", "/api/v1/flags"),
    ("POST", "/api/v1/roi/evaluate"),
    ("GET", "/api/v1/me"),
}
SEED_000 = {
    "monthly_requests": 500_000, "user_tokens": 50, "prompt_overhead_tokens": 500,
    "output_tokens": 200, "input_price_per_1m": 0.15, "output_price_per_1m": 0.60,
}  # fmt: skip


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "decisions:read", "decisions:write", "usage:write")


@pytest.fixture
def flagged(team):
    """A workload whose usage breaches its SLA (an open flag, an assessment) and one never
    assessed (latest_assessment null, no flags)."""
    workload = WorkloadFactory(team=team, slug="flagged", planned=True)
    UsageRecordFactory(
        workload=workload,
        period_start=hour(3),
        requests=1000,
        input_tokens=1_800_000,
        format_errors=100,
    )
    assessments.assessment_create(workload=workload, reason="usage")
    WorkloadFactory(team=team, slug="quiet", planned=True)
    return workload


@pytest.mark.django_db
def test_workload_responses_match_the_schema(schema, api, flagged):
    listed = api.get("/api/v1/workloads", {"limit": 1})
    schema.check(listed)
    assert listed.json()["next"] is not None
    schema.check(api.get("/api/v1/workloads", {"limit": 1, "offset": 1}))
    detail = api.get("/api/v1/workloads/flagged")
    schema.check(detail)
    assert detail.json()["open_flags"] and detail.json()["latest_assessment"]["recommendation"]
    quiet = api.get("/api/v1/workloads/quiet")
    schema.check(quiet)
    assert quiet.json()["latest_assessment"] is None
    created = api.post("/api/v1/workloads", {"slug": "new-one", "name": "N", "model": "m",
                       "parameters": {"dev_hours": 3, "policy": "x"}}, format="json")  # fmt: skip
    schema.check(created)
    assert created.status_code == 400
    created = api.post("/api/v1/workloads", {"slug": "new-one", "name": "N", "model": "m",
                       "parameters": {"dev_hours": 3}}, format="json")  # fmt: skip
    schema.check(created)
    assert created.status_code == 201
    patched = api.patch("/api/v1/workloads/new-one", {"parameters": {"dev_hours": None}},
                        format="json")  # fmt: skip
    schema.check(patched)
    assert patched.json()["parameters"] == {}
    schema.check(api.patch("/api/v1/workloads/new-one", {"colour": 1}, format="json"))
    schema.check(api.get("/api/v1/workloads/nope"))
    schema.check(api.get("/api/v1/workloads", {"limit": 0}))


@pytest.mark.django_db
def test_usage_flag_roi_and_me_responses_match_the_schema(schema, api, flagged, team):
    schema.check(api.post("/api/v1/usage", record("flagged"), format="json"))
    batch = {"records": [record("flagged", start=hour(5)), record("nope")]}
    refused = api.post("/api/v1/usage", batch, format="json")
    schema.check(refused)
    assert refused.json()["errors"][0]["index"] == 1
    schema.check(api.post("/api/v1/usage", b"[", content_type="application/json"))
    schema.check(api.post("/api/v1/usage", "x", content_type="text/plain"))
    later = (hour(0) + timedelta(days=2)).isoformat()
    schema.check(api.post("/api/v1/usage", record("flagged", period_start=later), format="json"))

    flags = api.get("/api/v1/flags", {"status": "open"})
    schema.check(flags)
    assert flags.json()["results"][0]["resolved_at"] is None
    schema.check(api.get("/api/v1/flags", {"status": "gone"}))

    schema.check(api.post("/api/v1/roi/evaluate", SEED_000, format="json"))
    schema.check(api.post("/api/v1/roi/evaluate", {**SEED_000, "x": 1}, format="json"))

    schema.check(api.get("/api/v1/me"))
    schema.check(APIClient().get("/api/v1/me"))


@pytest.mark.django_db
def test_me_for_a_session_matches_the_schema(schema, client, user, team):
    client.force_login(user)
    response = client.get("/api/v1/me")
    schema.check(response)
    assert response.json()["token"] is None and response.json()["role"] == "admin"


# A database test like the others, so that it runs right after them (pytest-django runs
# database tests first), with the same module-scoped schema.
@pytest.mark.django_db
def test_every_operation_of_these_apps_was_checked(schema):
    answered = {(method, path) for method, path, code in schema.checked if code < 300}
    assert OPERATIONS - answered == set()
    published = {
        (method.upper(), path)
        for path, operations in schema.document["paths"].items()
        for method in operations
        if path.split("/")[3] in {"workloads", "usage", "flags", "roi", "me"}
    }
    assert published == OPERATIONS
