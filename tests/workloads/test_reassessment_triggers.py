"""What else re-assesses a workload besides usage: its parameters, the price table; and where
the live state shows (the workload page and GET /api/v1/workloads/{slug})."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from evaluations.models import ModelPrice
from evaluations.services.prices import model_price_create, model_price_update
from tests.factories import UsageRecordFactory, WorkloadFactory
from workloads.services import assessments

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async",
        lambda args, **kw: calls.extend((pk, args[1]) for pk in args[0]),
    )
    return calls


def flagged(team, slug="classifier"):
    workload = WorkloadFactory(team=team, slug=slug, planned=True)
    now = datetime.now(UTC)
    for day in range(1, 4):
        UsageRecordFactory(
            workload=workload,
            period_start=now - timedelta(days=day, hours=1),
            requests=1000,
            input_tokens=1_800_000,
            format_errors=100,
        )
    assessments.assessment_create(workload=workload, reason="usage")
    return workload


def test_patching_parameters_through_the_api_requests_a_re_assessment(
    team, api_client_factory, enqueued, django_capture_on_commit_callbacks
):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    api = api_client_factory(team, "decisions:write")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/workloads/{workload.slug}",
            {"parameters": {"monthly_requests": 2_000_000}},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert enqueued == [(workload.pk, "parameters")]


def test_a_refused_patch_requests_nothing(
    team, api_client_factory, enqueued, django_capture_on_commit_callbacks
):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    api = api_client_factory(team, "decisions:write")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/workloads/{workload.slug}", {"parameters": {"epochs": -1}}, format="json"
        )
    assert response.status_code == 400
    assert enqueued == []


def test_a_price_change_re_assesses_every_workload_of_that_team_only(
    team, other_team, enqueued, django_capture_on_commit_callbacks
):
    ours = [
        WorkloadFactory(team=team, slug="a", planned=True),
        WorkloadFactory(team=team, slug="b", planned=True),
    ]
    WorkloadFactory(team=other_team, slug="theirs", planned=True)
    with django_capture_on_commit_callbacks(execute=True):
        model_price_create(team=team, model="gpt-9", input_per_1m=D(1), output_per_1m=D(2))
    assert sorted(enqueued) == sorted((w.pk, "prices") for w in ours)
    # Once the claims are released (the tasks ran), an edit asks again.
    for workload in ours:
        assessments.assessment_run(workload_id=workload.pk, reason="prices")
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        model_price_update(
            price=ModelPrice.objects.get(team=team, model="gpt-9"), input_per_1m=D(3)
        )
    assert len(enqueued) == 2


def test_workload_api_includes_latest_assessment_and_open_flags(team, api_client_factory):
    workload = flagged(team)
    data = api_client_factory(team, "decisions:read").get(f"/api/v1/workloads/{workload.slug}")
    body = data.json()
    assert body["latest_assessment"]["recommendation"] == "hybrid"
    assert [f["to_approach"] for f in body["open_flags"]] == ["hybrid"]
    assert body["open_flags"][0]["workload"] == workload.slug


def test_workload_page_shows_the_live_sections(admin_client, team):
    workload = flagged(team)
    text = admin_client.get(f"/t/{team.slug}/workloads/{workload.slug}/").content.decode()
    assert "From observed usage: the 30 days to" in text and "(latest assessment)" in text
    assert "format error rate 10% exceeds the 5% threshold" in text
    usage = admin_client.get(f"/t/{team.slug}/workloads/{workload.slug}/usage/").content.decode()
    assert 'data-chart="volume-chart-data"' in usage


def test_a_worksheet_about_a_live_workload_starts_from_observed_usage(admin_client, team):
    workload = flagged(team)  # 3,000 requests, 10% format errors in the last days
    page = admin_client.get(f"/t/{team.slug}/worksheets/new/?workload={workload.slug}")
    form = page.context["form"]
    assert form["monthly_requests"].value() == "3000"
    assert form["format_error_rate"].value() == "0.1"
    assert form["prompt_overhead_tokens"].value() == "1500"  # still the parameter
