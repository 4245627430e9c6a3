"""The production path of "needs revisit": a stored assessment reaches the revisit triggers of the
workload's accepted decisions through the `workload_assessed` signal, and the daily beat task
marks decisions whose review-by date has come."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from decisions.models import DecisionStatus
from decisions.services import records as svc
from decisions.tasks import check_review_dates
from tests.decisions.records_helpers import complete_data
from tests.workloads.usage_helpers import add_usage, hour, make_workload
from workloads.models import Assessment
from workloads.services.assessments import assessment_create

pytestmark = pytest.mark.django_db


def accepted(team, user, workload=None, **data):
    decision = svc.decision_create(
        team=team,
        author=user,
        data=complete_data(workload=workload.slug if workload else None, **data),
    )
    for status in (DecisionStatus.PROPOSED, DecisionStatus.ACCEPTED):
        svc.decision_transition(decision=decision, author=user, status=status)
    decision.refresh_from_db()
    return decision


def test_an_assessment_whose_figures_cross_a_trigger_marks_the_accepted_decision(team, user):
    workload = make_workload(team)
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 5000}
    decision = accepted(team, user, workload, revisit_triggers=[trigger])
    for n in range(1, 61):
        add_usage(workload, hour(n), requests=100)

    assessment_create(workload=workload, reason=Assessment.Reason.USAGE)

    decision.refresh_from_db()
    assert decision.needs_revisit
    assert decision.revisit_reasons == [
        "monthly requests is 6,000 (trigger: monthly requests > 5,000)"
    ]


def test_an_assessment_below_every_trigger_leaves_the_decision_alone(team, user):
    workload = make_workload(team)
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 100_000}
    decision = accepted(team, user, workload, revisit_triggers=[trigger])
    add_usage(workload, hour(2), requests=100)

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
    assert due.needs_revisit and due.revisit_reasons == [
        f"review-by date {today.isoformat()} has come"
    ]
    assert not later.needs_revisit
