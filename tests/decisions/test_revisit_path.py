"""The production path of "needs revisit": a stored assessment reaches the revisit triggers of the
workload's accepted decisions through the `workloads_assessed` signal, and the daily beat task
marks decisions whose review-by date has come."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from decisions.models import DecisionStatus
from decisions.services.status import decision_transition
from decisions.tasks import check_review_dates
from teams.models import Webhook, WebhookDelivery, WebhookEvent
from tests.decisions.records_helpers import complete_data, create
from tests.factories import UsageRecordFactory, WorkloadFactory
from tests.workloads.usage_helpers import hour
from workloads.models import Assessment
from workloads.services.assessments import assessment_create

pytestmark = pytest.mark.django_db


def reasons_of(decision) -> list[str]:
    return [reason.text for reason in decision.revisit_reasons.all()]


def accepted(team, user, workload=None, **data):
    decision = create(
        team, user, complete_data(workload=workload.slug if workload else None, **data)
    )
    for status in (DecisionStatus.PROPOSED, DecisionStatus.ACCEPTED):
        decision_transition(decision=decision, author=user, status=status)
    decision.refresh_from_db()
    return decision


def test_an_assessment_whose_figures_cross_a_trigger_marks_the_accepted_decision(team, user):
    workload = WorkloadFactory(team=team, planned=True)
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 5000}
    decision = accepted(team, user, workload, revisit_triggers=[trigger])
    for n in range(1, 61):
        UsageRecordFactory(workload=workload, period_start=hour(n), requests=100)

    assessment_create(workload=workload, reason=Assessment.Reason.USAGE)

    decision.refresh_from_db()
    assert decision.needs_revisit
    assert reasons_of(decision) == ["monthly requests is 6,000 (trigger: monthly requests > 5,000)"]


def test_an_assessment_below_every_trigger_leaves_the_decision_alone(team, user):
    workload = WorkloadFactory(team=team, planned=True)
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 100_000}
    decision = accepted(team, user, workload, revisit_triggers=[trigger])
    UsageRecordFactory(workload=workload, period_start=hour(2), requests=100)

    assessment_create(workload=workload, reason=Assessment.Reason.USAGE)

    decision.refresh_from_db()
    assert not decision.needs_revisit


def test_the_daily_task_marks_decisions_whose_review_date_has_come(team, user):
    today = timezone.localdate()
    due = accepted(team, user, review_by=today.isoformat())
    later = accepted(team, user, review_by=(today + dt.timedelta(days=1)).isoformat())

    check_review_dates()

    due.refresh_from_db()
    later.refresh_from_db()
    assert due.needs_revisit and reasons_of(due) == [f"review-by date {today.isoformat()} has come"]
    assert not later.needs_revisit


def decision_writes(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "decisions_" in q["sql"]
    ]


def test_a_trigger_that_keeps_firing_keeps_one_reason_with_its_latest_figure(team, user):
    workload = WorkloadFactory(team=team, planned=True)
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 5000}
    decision = accepted(team, user, workload, revisit_triggers=[trigger])
    Webhook.objects.create(
        team=team, url="https://hooks.example.com/x", secret="s" * 32,
        events=[WebhookEvent.DECISION_NEEDS_REVISIT],
    )  # fmt: skip
    for n in range(1, 61):
        UsageRecordFactory(workload=workload, period_start=hour(n), requests=100)
    assessment_create(workload=workload, reason=Assessment.Reason.USAGE)
    first = decision.revisit_reasons.get()

    UsageRecordFactory(workload=workload, period_start=hour(61), requests=100)
    assessment_create(workload=workload, reason=Assessment.Reason.USAGE)

    decision.refresh_from_db()
    assert reasons_of(decision) == ["monthly requests is 6,100 (trigger: monthly requests > 5,000)"]
    again = decision.revisit_reasons.get()
    assert (again.pk, again.key, again.created_at) == (first.pk, first.key, first.created_at)
    assert again.updated_at > first.updated_at
    announced = WebhookDelivery.objects.filter(event=WebhookEvent.DECISION_NEEDS_REVISIT)
    assert announced.count() == 1


def test_an_assessment_that_changes_nothing_writes_nothing_for_the_decision(team, user):
    workload = WorkloadFactory(team=team, planned=True)
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 5000}
    decision = accepted(team, user, workload, revisit_triggers=[trigger], review_by="2020-01-01")
    for n in range(1, 61):
        UsageRecordFactory(workload=workload, period_start=hour(n), requests=100)
    assessment_create(workload=workload, reason=Assessment.Reason.USAGE)
    stored = list(decision.revisit_reasons.values_list("key", "text", "updated_at"))
    assert [key for key, _, _ in stored] == ["monthly_requests > 5000", "review_by"]

    with CaptureQueriesContext(connection) as captured:
        assessment_create(workload=workload, reason=Assessment.Reason.USAGE)

    assert decision_writes(captured) == []
    assert list(decision.revisit_reasons.values_list("key", "text", "updated_at")) == stored
