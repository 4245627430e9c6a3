"""A benchmark run linked to a workload is evidence: its measured p99 latency, format error rate
and cost per request reach the workload's next assessment (shown as "measured by benchmark #N"),
and a decision can cite the run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from decisions.serializers import DecisionSerializer, EvidenceRefSerializer
from decisions.services.evidence import decision_add_evidence
from evaluations.demo_llm import serve_in_thread
from evaluations.models import BenchmarkRun
from tests.evaluations.benchmark_helpers import SCORERS, scenario, start
from tests.evaluations.conftest import TEST_CONFIG
from tests.factories import DecisionRecordFactory, UsageRecordFactory, WorkloadFactory
from tests.workloads.usage_helpers import hour
from workloads.models import Assessment
from workloads.services import assessments


@pytest.fixture
def demo_llm_server():
    with serve_in_thread(TEST_CONFIG) as server:
        yield server.base_url


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def eager():
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def prompted(run: BenchmarkRun) -> dict:
    return next(c for c in run.summary["candidates"] if c["label"] == "demo-prompted")


@pytest.mark.django_db(transaction=True)
def test_a_finished_run_feeds_the_workloads_next_assessment(
    team, user, demo_llm_server, eager, admin_client
):
    workload = WorkloadFactory(team=team, planned=True, slug="triage")
    UsageRecordFactory(workload=workload, period_start=hour(3), latency_p99_ms=250.0)
    sc = scenario(team, user, demo_llm_server, items=12)
    run = start(team, sc, workload_id=workload.pk)  # runs in this process on commit
    run.refresh_from_db()
    assert run.status == "finished"

    latest = Assessment.objects.filter(workload=workload).order_by("-created_at", "-id").first()
    assert latest.reason == Assessment.Reason.BENCHMARK
    measured = prompted(run)
    # The prompted candidate's figures (the ROI inputs describe prompt engineering), over the
    # observed 250 ms of usage.
    assert latest.inputs["latency_p99_ms"] == pytest.approx(measured["latency_ms"]["p99"])
    json_valid = measured["scores"]["json_valid"]["value"]
    assert latest.inputs["format_error_rate"] == pytest.approx(1 - json_valid, abs=1e-6)
    assert latest.observed["benchmark"]["benchmark"] == run.pk
    assert latest.observed["benchmark"]["cost_per_request"] == measured["cost_per_request"]

    page = admin_client.get(f"/t/{team.slug}/workloads/{workload.slug}/")
    text = page.content.decode()
    assert text.count(f"benchmark #{run.pk}</a>") == 3  # p99, format error rate, cost
    assert f"/t/{team.slug}/benchmarks/{run.pk}/" in text


@pytest.mark.django_db
def test_a_run_older_than_the_window_no_longer_counts(team, user, demo_llm_server):
    workload = WorkloadFactory(team=team, planned=True, slug="triage")
    sc = scenario(team, user, demo_llm_server, items=2)
    run = start(team, sc, workload_id=workload.pk)
    summary = {"candidates": [{"label": "demo-prompted", "latency_ms": {"p99": 9999.0},
                               "scores": {}, "cost_per_request": 0.1}], "best": {}}  # fmt: skip
    BenchmarkRun.objects.filter(pk=run.pk).update(
        status="finished", summary=summary, finished_at=timezone.now() - timedelta(days=31)
    )
    old = assessments.assessment_create(workload=workload, reason=Assessment.Reason.MANUAL)
    assert "benchmark" not in old.observed and old.inputs.get("latency_p99_ms") != 9999.0
    BenchmarkRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    fresh = assessments.assessment_create(workload=workload, reason=Assessment.Reason.MANUAL)
    assert fresh.inputs["latency_p99_ms"] == 9999.0
    assert fresh.observed["benchmark"]["format_error_rate"] is None  # no format scorer


@pytest.mark.django_db
def test_a_decision_cites_a_benchmark_run(team, user, demo_llm_server):
    sc = scenario(team, user, demo_llm_server, items=2)
    run = start(team, sc, scorers=SCORERS)
    decision = DecisionRecordFactory(team=team, author=user)
    link = decision_add_evidence(decision=decision, author=user, target=run)
    assert link.kind == "benchmark"
    assert link.label == f"Benchmark #{run.pk} run on Tickets (queued)"
    assert link.url == f"/t/{team.slug}/benchmarks/{run.pk}/"
    item = DecisionSerializer(decision).data["evidence"][0]
    assert item == {"kind": "benchmark", "id": run.pk, "name": "run",
                    "created_at": item["created_at"], "label": link.label}  # fmt: skip
    # The natural key finds it again (imports, snapshots), in this team only.
    ref = EvidenceRefSerializer(
        data={"kind": "benchmark", "name": "run", "created_at": item["created_at"]},
        context={"team": team},
    )
    assert ref.is_valid(), ref.errors
    assert ref.validated_data == run


@pytest.mark.django_db
def test_a_run_whose_candidate_answered_nothing_leaves_the_earlier_runs_figures(
    team, user, demo_llm_server
):
    workload = WorkloadFactory(team=team, planned=True, slug="triage")
    sc = scenario(team, user, demo_llm_server, items=2)
    measured, failed = (start(team, sc, workload_id=workload.pk) for _ in range(2))
    answered = {"candidates": [{"label": "demo-prompted", "latency_ms": {"p99": 321.0},
                                "scores": {}, "cost_per_request": 0.1}], "best": {}}  # fmt: skip
    nothing = {"candidates": [{"label": "demo-prompted", "latency_ms": {"p99": None},
                               "scores": {}, "cost_per_request": None}], "best": {}}  # fmt: skip
    now = timezone.now()
    BenchmarkRun.objects.filter(pk=measured.pk).update(
        status="finished", summary=answered, finished_at=now - timedelta(hours=1)
    )
    BenchmarkRun.objects.filter(pk=failed.pk).update(
        status="finished", summary=nothing, finished_at=now
    )
    assessment = assessments.assessment_create(workload=workload, reason=Assessment.Reason.MANUAL)
    assert assessment.observed["benchmark"]["benchmark"] == measured.pk
    assert assessment.inputs["latency_p99_ms"] == 321.0
