"""Re-assessment from live usage: the §8 mapping, coalescing, the sweep, a dead broker."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from tests.factories import PLANNED, UsageRecordFactory, WorkloadFactory
from tests.workloads.usage_helpers import record
from workloads.models import Assessment, UsageRecord, Workload
from workloads.services import assessments

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def test_observed_figures_follow_the_live_mapping(team):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    UsageRecordFactory(
        workload=workload,
        period_start=NOW - timedelta(days=1),
        requests=1000,
        input_tokens=2_000_000,
        output_tokens=80_000,
        latency_p99_ms=500,
        format_errors=20,
    )
    UsageRecordFactory(
        workload=workload,
        period_start=NOW - timedelta(days=2),
        requests=3000,
        input_tokens=5_400_000,
        output_tokens=360_000,
        latency_p99_ms=900,
        format_errors=30,
    )
    UsageRecordFactory(
        workload=workload, period_start=NOW - timedelta(days=40), requests=10**6
    )  # outside the window
    observed = assessments.observe_usage(workload, now=NOW)
    assert observed["requests"] == 4000
    assert observed["mean_input_tokens"] == 1850.0  # 7.4M / 4,000
    assert observed["prompt_mean_input_tokens"] == 1850.0  # unmarked records count as prompt
    assert observed["mean_output_tokens"] == 110.0
    # 3,000 of 4,000 requests (75 %) are at ≤ 900 ms, the 1,000 at 500 ms only 25 %.
    assert observed["latency_p99_ms"] == 900.0
    assert observed["format_error_rate"] == pytest.approx(50 / 4000)

    assessment = assessments.assessment_create(workload=workload, reason="usage", now=NOW)
    assert assessment.inputs["monthly_requests"] == 4000
    assert assessment.inputs["user_tokens"] == 350  # 1,850 − 1,500 prompt overhead
    assert assessment.inputs["prompt_overhead_tokens"] == 1500
    assert assessment.inputs["output_tokens"] == 110
    assert assessment.inputs["latency_p99_ms"] == 900
    assert assessment.inputs["input_price_per_1m"] == pytest.approx(0.15)


def test_p99_is_weighted_by_requests_not_by_records(team):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    for day in range(1, 100):  # 99 small records with a slow p99 …
        UsageRecordFactory(
            workload=workload,
            period_start=NOW - timedelta(hours=day),
            requests=1,
            latency_p99_ms=2000,
        )
    UsageRecordFactory(
        workload=workload,
        period_start=NOW - timedelta(hours=200),
        requests=100_000,
        latency_p99_ms=300,
    )
    assert assessments.observe_usage(workload, now=NOW)["latency_p99_ms"] == 300.0


def test_a_record_straddling_the_window_start_counts_pro_rata(team):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    start = NOW - timedelta(days=30) - timedelta(days=5)
    UsageRecordFactory(
        workload=workload, period_start=start, hours=24 * 10, requests=1000, input_tokens=2_000_000
    )
    # Half of its ten days fall inside the trailing 30 days.
    assert assessments.observe_usage(workload, now=NOW)["requests"] == 500


def test_fine_tune_records_do_not_count_as_prompt_input(team):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    UsageRecordFactory(
        workload=workload,
        period_start=NOW - timedelta(days=1),
        requests=100,
        input_tokens=200_000,
        approach="prompt",
    )
    UsageRecordFactory(
        workload=workload,
        period_start=NOW - timedelta(days=1),
        requests=100,
        input_tokens=30_000,
        approach="fine-tune",
    )
    observed = assessments.observe_usage(workload, now=NOW)
    assert observed["prompt_mean_input_tokens"] == 2000.0
    assert observed["mean_input_tokens"] == 1150.0


def test_without_usage_the_planned_parameters_are_assessed(team):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    assessment = assessments.assessment_create(workload=workload, reason="parameters", now=NOW)
    assert assessment.observed["requests"] == 0
    assert assessment.inputs["monthly_requests"] == PLANNED["monthly_requests"]
    assert assessment.recommendation == "prompt"
    assert assessment.outputs["prompt"]["monthly_cost"] > 0


def test_incomplete_parameters_store_an_assessment_with_errors_and_no_recommendation(team):
    workload = WorkloadFactory(team=team, slug="support-bot", parameters={"user_tokens": 10})
    assessment = assessments.assessment_create(workload=workload, reason="parameters", now=NOW)
    assert assessment.recommendation == ""
    assert {e["field"] for e in assessment.errors} >= {"prompt_overhead_tokens", "output_tokens"}


def test_format_errors_above_threshold_change_the_recommendation(team):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    UsageRecordFactory(
        workload=workload,
        period_start=NOW - timedelta(days=1),
        requests=1000,
        input_tokens=1_800_000,
        format_errors=100,
    )
    assessment = assessments.assessment_create(workload=workload, reason="usage", now=NOW)
    assert assessment.inputs["format_error_rate"] == pytest.approx(0.1)
    assert assessment.recommendation == "hybrid"  # breach, but no payback at 1,000 requests
    assert any("format error rate" in r for r in assessment.outputs["recommendation_reasons"])


def test_assessment_run_releases_the_claim_before_evaluating(team):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    Workload.objects.filter(pk=workload.pk).update(assessment_requested_at=timezone.now())
    assessment = assessments.assessment_run(workload_id=workload.pk, reason="usage")
    workload.refresh_from_db()
    assert workload.assessment_requested_at is None
    assert assessment.workload == workload
    assert assessments.assessment_run(workload_id=10**9, reason="usage") is None


def test_requests_are_coalesced_until_the_task_starts(team, django_capture_on_commit_callbacks,
                                                     monkeypatch):  # fmt: skip
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    enqueued = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async",
        lambda args, **kw: enqueued.extend((pk, args[1]) for pk in args[0]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert assessments.assessment_request(workload=workload, reason="parameters") is True
        assert assessments.assessment_request(workload=workload, reason="prices") is False
        assert assessments.assessment_request_for_team(team=team, reason="prices") == 0
    assessments.assessment_run(workload_id=workload.pk, reason="parameters")
    with django_capture_on_commit_callbacks(execute=True):
        assert assessments.assessment_request_for_team(team=team, reason="prices") == 1
    assert enqueued == [(workload.pk, "parameters"), (workload.pk, "prices")]


def test_sweep_picks_up_usage_newer_than_the_latest_assessment_and_stale_claims(
    team, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async",
        lambda args, **kw: enqueued.extend((pk, args[1]) for pk in args[0]),
    )
    fresh = WorkloadFactory(team=team, slug="fresh", planned=True)
    changed = WorkloadFactory(team=team, slug="changed", planned=True)
    stale = WorkloadFactory(team=team, slug="stale", planned=True)
    pending = WorkloadFactory(team=team, slug="pending", planned=True)
    never = WorkloadFactory(team=team, slug="never", planned=True)
    for workload in (fresh, changed):
        assessments.assessment_create(workload=workload, reason="usage", now=NOW)
    Workload.objects.filter(pk=fresh.pk).update(usage_changed_at=NOW - timedelta(minutes=1))
    Workload.objects.filter(pk=changed.pk).update(usage_changed_at=NOW + timedelta(minutes=1))
    Workload.objects.filter(pk=stale.pk).update(assessment_requested_at=NOW - timedelta(hours=1))
    Workload.objects.filter(pk=pending.pk).update(assessment_requested_at=NOW)
    Workload.objects.filter(pk=never.pk).update(usage_changed_at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        swept = assessments.assessment_sweep(now=NOW + timedelta(minutes=2))
    assert sorted(swept) == sorted([changed.pk, stale.pk, never.pk])
    assert sorted(args[0] for args in enqueued) == sorted(swept)
    assert {args[1] for args in enqueued} == {"sweep"}


@pytest.mark.django_db(transaction=True)
def test_broker_down_during_ingestion_still_stores_and_the_sweep_catches_up(
    live_server, team, token_factory, broker_down, settings
):
    workload = WorkloadFactory(team=team, slug="support-bot", planned=True)
    _, raw = token_factory(team, "usage:write")
    request = urllib.request.Request(
        live_server.url + "/api/v1/usage",
        data=json.dumps({"records": [record(id=f"b-{i}") for i in range(10)]}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        assert json.loads(response.read()) == {"accepted": 10, "duplicates": 0}
    assert UsageRecord.objects.count() == 10
    workload.refresh_from_db()
    assert workload.assessment_requested_at is not None  # claimed, but never enqueued
    assert not Assessment.objects.exists()

    # The broker is back (run eagerly here); the sweep (a beat task) finds the stale claim and
    # re-enqueues it.
    celery_app.conf.task_always_eager = True
    try:
        later = timezone.now() + assessments.STALE_CLAIM + timedelta(seconds=1)
        assert assessments.assessment_sweep(now=later) == [workload.pk]
    finally:
        celery_app.conf.task_always_eager = False
    assessment = Assessment.objects.get()
    assert (assessment.workload_id, assessment.reason) == (workload.pk, "sweep")
    assert assessment.observed["requests"] == 1000
