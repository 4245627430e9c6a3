"""A batch of workloads is assessed together (one task per 100 claimed workloads): each figure is
read for the whole batch, and each workload comes out as it would alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from decisions.models import DecisionStatus
from decisions.services.revisit import decisions_revisit_check
from evaluations.models import BenchmarkCandidate, BenchmarkRun, BenchmarkStatus
from evaluations.persona_demo import TASKMASTER_CONTENT
from evaluations.persona_models import PersonaRun
from evaluations.persona_selectors import persona_evidence_for
from evaluations.selectors import benchmark_measurements_for
from evaluations.services.datasets import dataset_create
from evaluations.services.personas import persona_create
from evaluations.services.providers import provider_create
from teams.models import Webhook, WebhookDelivery
from tests.factories import DecisionRecordFactory, UsageRecordFactory, WorkloadFactory
from tests.prompts.helpers import chat_content
from workloads.models import Assessment, FlagStatus, SwitchFlag
from workloads.services import assessments

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 31, 12, 30, tzinfo=UTC)


def usage(workload, *, scale: int, p99s: tuple[float, float, float]):
    """Records in whole days, in the partial days at both ends of the window, one straddling
    its start, marked and unmarked: `scale` sets the volume, `p99s` the three latencies; the
    n-th record's requests carry 1,000 + 100 n input tokens each."""
    start = NOW - assessments.WINDOW
    for n, (period_start, hours, requests, approach, p99) in enumerate(
        (
            (NOW - timedelta(days=3), 1, 100 * scale, "", p99s[0]),  # a whole day
            (NOW - timedelta(days=10), 2, 300 * scale, "fine-tune", p99s[1]),  # a whole day
            (NOW - timedelta(minutes=20), 1, 10 * scale, "prompt", p99s[2]),  # today, partial
            (start + timedelta(hours=1), 1, 7 * scale, "prompt", None),  # the first partial day
            (start - timedelta(hours=12), 24, 48 * scale, "", None),  # straddles: half counts
        )
    ):
        UsageRecordFactory(
            workload=workload, period_start=period_start, hours=hours, requests=requests,
            input_tokens=requests * (1000 + 100 * n), output_tokens=requests * 50,
            approach=approach, latency_p99_ms=p99, format_errors=requests // 20 if p99 else None,
        )  # fmt: skip


def test_a_batch_observes_each_workload_as_it_would_alone(team):
    prompted = WorkloadFactory(team=team, slug="prompted", planned=True)
    tuned = WorkloadFactory(team=team, slug="tuned", planned=True, current_approach="fine-tune")
    idle = WorkloadFactory(team=team, slug="idle", planned=True)
    usage(prompted, scale=1, p99s=(400.0, 900.0, 1200.0))
    usage(tuned, scale=3, p99s=(700.0, 300.0, 100.0))

    together = assessments.observe_usages([prompted, tuned, idle], now=NOW)
    alone = {w.pk: assessments.observe_usages([w], now=NOW)[w.pk] for w in (prompted, tuned, idle)}
    assert together == alone
    # 100 + 300 + 10 + 7 + 48 / 2 requests; the p99 where 99 % of them are at or below it.
    assert together[prompted.pk]["requests"] == 441
    assert together[tuned.pk]["requests"] == 1323
    assert together[prompted.pk]["latency_p99_ms"] == 1200.0
    assert together[tuned.pk]["latency_p99_ms"] == 700.0
    # Unmarked usage is prompt usage only for the workload that runs on prompts:
    # (100·1,000 + 10·1,200 + 7·1,300 + 24·1,400) / 141, against (10·1,200 + 7·1,300) / 17.
    assert together[prompted.pk]["prompt_mean_input_tokens"] == 1097.16
    assert together[tuned.pk]["prompt_mean_input_tokens"] == 1241.18
    assert together[idle.pk]["requests"] == 0
    assert together[idle.pk]["latency_p99_ms"] is None


def webhook(team):
    return Webhook.objects.create(
        team=team, url="https://hooks.example.com/x", secret="s",
        events=["flag.raised", "flag.resolved"],
    )  # fmt: skip


def breach(workload, at):
    """Usage whose 10 % format error rate breaches the 5 % threshold (→ hybrid)."""
    UsageRecordFactory(
        workload=workload, period_start=at - timedelta(hours=2), requests=1000,
        input_tokens=1_800_000, format_errors=100,
    )  # fmt: skip


def test_one_batch_raises_updates_resolves_and_holds_back_flags(team):
    hook = webhook(team)
    to_update, to_resolve, to_raise, held, invalid = (
        WorkloadFactory(team=team, slug=slug, planned=True)
        for slug in ("to-update", "to-resolve", "to-raise", "held", "invalid")
    )
    invalid.parameters = {}
    invalid.save()
    earlier = NOW - timedelta(days=40)
    for workload in (to_update, to_resolve):
        breach(workload, earlier)
        assessments.assessment_create(workload=workload, reason="usage", now=earlier)
    # A flag of `held` was raised and resolved an hour ago: a new one waits a day.
    SwitchFlag.objects.create(
        team=team, workload=held, from_approach="prompt", to_approach="hybrid",
        created_at=NOW - timedelta(hours=1), updated_at=NOW - timedelta(hours=1),
        resolved_at=NOW - timedelta(minutes=30),
    )  # fmt: skip
    for workload in (to_update, to_raise, held):
        breach(workload, NOW)  # `to_resolve` has no usage in the window: planned figures agree
    before = {
        f.workload_id: f for f in SwitchFlag.objects.filter(team=team, resolved_at__isnull=True)
    }
    WebhookDelivery.objects.all().delete()

    done = assessments.assessments_create(
        workloads=[to_update, to_resolve, to_raise, held, invalid], reason="sweep", now=NOW
    )

    assert [a.workload_id for a in done] == [w.pk for w in (to_update, to_resolve, to_raise,
                                                            held, invalid)]  # fmt: skip
    assert all(a.pk for a in done)
    assert done[4].errors and not done[4].recommendation
    live = {f.workload_id: f for f in SwitchFlag.objects.filter(team=team, resolved_at=None)}
    assert set(live) == {to_update.pk, to_raise.pk}
    updated = live[to_update.pk]
    assert updated.pk == before[to_update.pk].pk
    assert (updated.assessment_id, updated.updated_at) == (done[0].pk, NOW)
    assert updated.figures["format_error_rate"] == 0.1
    assert updated.reasons[0].startswith("The evidence now favours")
    raised = live[to_raise.pk]
    assert (raised.status, raised.to_approach, raised.assessment_id) == ("open", "hybrid",
                                                                         done[2].pk)  # fmt: skip
    resolved = SwitchFlag.objects.get(pk=before[to_resolve.pk].pk)
    assert (resolved.status, resolved.resolved_at) == (FlagStatus.RESOLVED, NOW)
    events = sorted(
        (d.event, d.payload["flag"]["workload"])
        for d in WebhookDelivery.objects.filter(webhook=hook)
    )
    assert events == [("flag.raised", "to-raise"), ("flag.resolved", "to-resolve")]


def test_a_batch_costs_the_same_queries_as_a_few_workloads(team, user):
    now = timezone.now()

    def make(n: int, prefix: str) -> list:
        made = []
        for i in range(n):
            workload = WorkloadFactory(team=team, slug=f"{prefix}-{i}", planned=True)
            breach(workload, now)
            decision = DecisionRecordFactory(
                team=team, author=user, workload=workload.slug,
                revisit_triggers=[{"metric": "monthly_requests", "comparator": ">",
                                   "threshold": 10**9}],
            )  # fmt: skip
            type(decision).objects.filter(pk=decision.pk).update(status=DecisionStatus.ACCEPTED)
            made.append(workload)
        # A first assessment raises the flags; the next ones keep them up to date.
        assessments.assessments_create(workloads=made, reason="usage")
        return made

    few, many = make(2, "few"), make(12, "many")

    def queries(workloads) -> int:
        with CaptureQueriesContext(connection) as captured:
            assessments.assessments_run(workload_ids=[w.pk for w in workloads], reason="usage")
        return len(captured)

    assert queries(few) == queries(many)
    assert Assessment.objects.filter(workload__in=many).count() == 24
    assert SwitchFlag.objects.filter(workload__in=many, resolved_at=None).count() == 12


def test_revisit_checks_of_two_teams_in_one_call(team, other_team, user):
    volume = [{"metric": "monthly_requests", "comparator": ">", "threshold": 1000}]
    checks, decisions = [], []
    for owner in (team, other_team):
        workload = WorkloadFactory(team=owner, slug="bot")
        for triggers in (volume, []):
            decision = DecisionRecordFactory(
                team=owner, author=user, workload="bot", revisit_triggers=triggers
            )
            type(decision).objects.filter(pk=decision.pk).update(status=DecisionStatus.ACCEPTED)
            decisions.append(decision)
        checks.append((workload, {"monthly_requests": 5000}))

    flagged = decisions_revisit_check(checks=checks)

    assert {d.pk for d in flagged} == {decisions[0].pk, decisions[2].pk}
    for decision, expected in zip(decisions, (True, False, True, False), strict=True):
        decision.refresh_from_db()
        assert decision.needs_revisit is expected


def run_for(workload, *, parts, label, p99, minutes_ago):
    team, dataset, provider, version = parts
    run = BenchmarkRun.objects.create(
        team=team, name=label, dataset=dataset, workload=workload,
        status=BenchmarkStatus.FINISHED, finished_at=NOW - timedelta(minutes=minutes_ago),
        summary={"candidates": [{"label": label, "latency_ms": {"p99": p99}, "scores": {}}]},
    )  # fmt: skip
    BenchmarkCandidate.objects.create(
        team=team, run=run, position=0, label=label, approach="prompt", provider=provider,
        model="m", prompt_version=version,
    )  # fmt: skip
    return run


def test_benchmark_and_persona_evidence_of_a_batch_is_each_workloads_latest(
    team, user, make_prompt
):
    dataset = dataset_create(team=team, name="d", task_kind="classification")
    provider = provider_create(team=team, name="p", base_url="https://llm.example.com/v1")
    version = make_prompt(team, "triage", chat_content("Classify the ticket.")).versions.get()
    parts = (team, dataset, provider, version)
    first, second, bare = (WorkloadFactory(team=team, slug=s) for s in ("a", "b", "c"))
    run_for(first, parts=parts, label="old", p99=900.0, minutes_ago=30)
    latest_first = run_for(first, parts=parts, label="new", p99=400.0, minutes_ago=5)
    latest_second = run_for(second, parts=parts, label="b", p99=250.0, minutes_ago=60)
    # A later run of `second` whose candidate answered no call measured nothing.
    run_for(second, parts=parts, label="failed", p99=None, minutes_ago=1)

    measured = benchmark_measurements_for(
        workload_ids=[first.pk, second.pk, bare.pk], since=NOW - timedelta(days=30)
    )
    assert {pk: (m["benchmark"], m["latency_p99_ms"]) for pk, m in measured.items()} == {
        first.pk: (latest_first.pk, 400.0),
        second.pk: (latest_second.pk, 250.0),
    }

    version = persona_create(
        team=team, slug="coach", name="Coach", actor=user, content=TASKMASTER_CONTENT
    )
    for run in (latest_first, latest_second):
        PersonaRun.objects.create(team=team, run=run, persona_version=version)
    run = BenchmarkRun.objects.get(pk=latest_second.pk)
    run.summary = {"candidates": [{"label": "b", "consistency": {"long": {"value": 0.75}},
                                   "robustness": {"overall": {"value": 0.5}}}]}  # fmt: skip
    run.save()

    evidence = persona_evidence_for([first.pk, second.pk, bare.pk])
    assert set(evidence) == {first.pk, second.pk}
    assert evidence[second.pk] == {
        "run": latest_second.pk, "name": "b",
        "approaches": {"prompt": {"label": "b", "consistency": 0.75, "robustness": 0.5}},
    }  # fmt: skip
    assert evidence[first.pk]["run"] == latest_first.pk
