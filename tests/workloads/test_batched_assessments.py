"""Fan-out in batches: one claiming UPDATE, one published task per batch of workloads after
commit, and a batch task that reads each team's prices once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import UsageRecordFactory, WorkloadFactory
from tests.plugins.services import service_missing
from tests.workloads.usage_helpers import record
from workloads.models import Assessment, Workload
from workloads.services import assessments

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async", lambda args, **kw: calls.append(args)
    )
    return calls


def _workloads(team, count: int) -> list[Workload]:
    Workload.objects.bulk_create(
        Workload(team=team, slug=f"w-{i:04d}", name=f"W {i:04d}", model="gpt-4o-mini")
        for i in range(count)
    )
    return list(Workload.objects.for_team(team).order_by("pk"))


def test_a_push_touching_many_workloads_publishes_one_task_per_batch(
    team, api_client_factory, published, django_capture_on_commit_callbacks
):
    workloads = _workloads(team, 2 * assessments.BATCH + 50)
    api = api_client_factory(team, "usage:write")
    body = json.dumps({"records": [record(w.slug, id=f"r-{w.slug}") for w in workloads]})
    with django_capture_on_commit_callbacks(execute=True):
        response = api.generic("POST", "/api/v1/usage", body, content_type="application/json")
    assert response.status_code == 201
    assert [len(ids) for ids, _ in published] == [assessments.BATCH, assessments.BATCH, 50]
    assert sorted(pk for ids, _ in published for pk in ids) == [w.pk for w in workloads]
    assert {reason for _, reason in published} == {"usage"}
    assert Workload.objects.filter(assessment_requested_at__isnull=True).count() == 0


def test_claiming_is_one_statement_and_claims_once(team, django_capture_on_commit_callbacks):
    workloads = _workloads(team, 30)
    ids = [w.pk for w in workloads]
    with CaptureQueriesContext(connection) as queries:
        first = assessments.assessments_request(workload_ids=ids, reason="prices")
    assert first == ids
    if connection.vendor == "postgresql":  # SQLite (development) reads, then updates
        assert len(queries) == 1 and "RETURNING" in queries[0]["sql"]
    assert assessments.assessments_request(workload_ids=ids[:10] + [ids[-1]], reason="x") == []


def test_the_sweep_claims_every_due_workload_in_one_update(
    team, published, django_capture_on_commit_callbacks
):
    def sweep_queries(now):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            swept = assessments.assessment_sweep(now=now)
        updates = [q for q in queries if q["sql"].startswith("UPDATE")]
        return swept, len(queries), updates

    now = timezone.now()
    few = _workloads(team, 3)
    Workload.objects.update(usage_changed_at=now - timedelta(minutes=1))
    swept, few_queries, updates = sweep_queries(now)
    assert swept == [w.pk for w in few] and len(updates) == 1
    published.clear()
    Workload.objects.update(assessment_requested_at=None)
    WorkloadFactory.create_batch(assessments.BATCH + 20, team=team)
    Workload.objects.update(usage_changed_at=now - timedelta(minutes=1))
    swept, many_queries, updates = sweep_queries(now)
    assert len(swept) == assessments.BATCH + 23 and len(updates) == 1
    assert many_queries == few_queries
    assert [len(ids) for ids, _ in published] == [assessments.BATCH, 23]
    # Claimed now: a second sweep finds nothing due until the claims go stale.
    assert sweep_queries(now)[0] == []
    assert len(sweep_queries(now + assessments.STALE_CLAIM + timedelta(seconds=1))[0]) == 123


def test_a_batch_reads_each_teams_prices_once(team, other_team):
    ours = [WorkloadFactory(team=team, planned=True) for _ in range(4)]
    theirs = [WorkloadFactory(team=other_team, planned=True) for _ in range(2)]
    for workload in ours + theirs:
        UsageRecordFactory(workload=workload)
    ids = [w.pk for w in ours + theirs]
    Workload.objects.update(assessment_requested_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        done = assessments.assessments_run(workload_ids=ids + [10**9], reason="sweep")
    assert sorted(a.workload_id for a in done) == sorted(ids)
    price_reads = [q for q in queries if 'FROM "evaluations_modelprice"' in q["sql"]]
    assert len(price_reads) == 2
    assert Workload.objects.filter(assessment_requested_at__isnull=False).count() == 0
    assert Assessment.objects.count() == 6
    assert all(a.recommendation for a in done)


@pytest.mark.django_db(transaction=True)
def test_pushes_and_assessments_rewrite_a_workload_within_its_page(team):
    # Each push rewrites every touched workload's row, and so does the assessment that follows.
    # With room left on each page (fillfactor), the new version stays on the page: no index
    # entries, and the dead one is pruned when the page is next read, vacuum or not.
    if connection.vendor != "postgresql":
        service_missing("PostgreSQL (set DATABASE_URL) for the table's page layout")
    # Rows about as wide as real ones (parameters, descriptions): a few to a page.
    Workload.objects.bulk_create(
        Workload(team=team, slug=f"w-{i:04d}", name=f"W {i:04d}", model="gpt-4o-mini",
                 description="x" * 400)
        for i in range(120)
    )  # fmt: skip

    def pages() -> dict[int, float]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, (ctid::text::point)[0] FROM workloads_workload")
            return dict(cursor.fetchall())

    before = pages()
    ids = sorted(before)
    for _ in range(3):  # each statement commits on its own, as a push and a task do
        assert (
            assessments.assessments_request(workload_ids=ids, reason="usage", usage_changed=True)
            == ids
        )
        Workload.objects.filter(pk__in=ids).update(assessment_requested_at=None)
    assert pages() == before
