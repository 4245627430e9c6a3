"""Switch flags: raised, kept up to date, resolved, no flapping, people's actions, API, pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teams.models import Role, Webhook, WebhookDelivery
from tests.factories import UsageRecordFactory, WorkloadFactory
from workloads.models import FlagStatus, SwitchFlag
from workloads.services import assessments, flags

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def workload(team):
    return WorkloadFactory(team=team, slug="support-bot", planned=True)


@pytest.fixture
def webhook(team):
    return Webhook.objects.create(
        team=team,
        url="https://hooks.example.com/crossover",
        secret="s3cret",
        events=["flag.raised", "flag.resolved"],
    )


def breach(workload, at):
    """Usage whose 10 % format error rate breaches the 5 % threshold (→ hybrid)."""
    UsageRecordFactory(
        workload=workload,
        period_start=at - timedelta(hours=2),
        requests=1000,
        input_tokens=1_800_000,
        format_errors=100,
    )


def evaluate(workload, at):
    return assessments.assessment_create(workload=workload, reason="usage", now=at)


def calm(workload, at):
    """An assessment more than 30 days after any usage: planned figures, recommends prompt."""
    return evaluate(workload, at)


def test_disagreeing_assessment_raises_one_open_flag_with_reasons_figures_and_webhook(
    workload, webhook
):
    breach(workload, NOW)
    assessment = evaluate(workload, NOW)
    flag = SwitchFlag.objects.get()
    assert (flag.workload, flag.assessment, flag.status) == (workload, assessment, "open")
    assert (flag.from_approach, flag.to_approach) == ("prompt", "hybrid")
    assert flag.reasons[0] == (
        "The evidence now favours a hybrid of fine-tuning and prompting over the current prompt "
        "engineering."
    )
    assert any("format error rate 10% exceeds the 5% threshold" in r for r in flag.reasons)
    assert flag.figures["format_error_rate"] == pytest.approx(0.1)
    assert flag.figures["monthly_requests"] == 1000
    delivery = WebhookDelivery.objects.get()
    assert (delivery.webhook, delivery.event) == (webhook, "flag.raised")
    assert delivery.payload["flag"]["id"] == flag.pk
    assert delivery.payload["flag"]["to_approach"] == "hybrid"


def test_agreeing_assessment_creates_no_flag(workload):
    evaluate(workload, NOW)
    assert not SwitchFlag.objects.exists()


def test_later_disagreeing_assessments_update_the_same_flag(workload):
    breach(workload, NOW)
    evaluate(workload, NOW)
    # Much more volume: the breach now pays back within the horizon → fine-tune.
    UsageRecordFactory(
        workload=workload,
        period_start=NOW - timedelta(hours=1),
        requests=10_000_000,
        input_tokens=18_000_000_000,
        format_errors=1_000_000,
    )
    second = evaluate(workload, NOW + timedelta(minutes=5))
    flag = SwitchFlag.objects.get()
    assert flag.to_approach == second.recommendation == "fine-tune"
    assert flag.assessment == second
    assert flag.figures["monthly_requests"] == 10_001_000


def test_flag_resolves_itself_when_the_recommendation_agrees_again(workload, webhook):
    breach(workload, NOW)
    evaluate(workload, NOW)
    calm(workload, NOW + timedelta(days=31))
    flag = SwitchFlag.objects.get()
    assert flag.status == FlagStatus.RESOLVED
    assert flag.resolved_at == NOW + timedelta(days=31)
    assert [d.event for d in WebhookDelivery.objects.order_by("created_at")] == [
        "flag.raised",
        "flag.resolved",
    ]


def dilute(workload, at):
    """1,200 clean requests: the error rate drops to 100 / 2,200 ≈ 4.5 %, back under 5 %."""
    UsageRecordFactory(
        workload=workload,
        period_start=at - timedelta(hours=1),
        requests=1200,
        input_tokens=2_160_000,
        format_errors=0,
    )


def test_hovering_metric_raises_at_most_one_flag_per_day(workload):
    breach(workload, NOW)
    evaluate(workload, NOW)  # 10 %: raised
    dilute(workload, NOW + timedelta(hours=1))
    assert evaluate(workload, NOW + timedelta(hours=1)).recommendation == "prompt"  # resolved
    UsageRecordFactory(
        workload=workload,
        period_start=NOW + timedelta(hours=1),
        requests=200,
        input_tokens=360_000,
        format_errors=60,
    )
    again = evaluate(workload, NOW + timedelta(hours=2))  # 160 / 2,400 ≈ 6.7 %: disagrees
    assert again.recommendation == "hybrid"
    assert SwitchFlag.objects.count() == 1  # held back by the quiet period
    assert flags.flags_release_held(now=NOW + timedelta(hours=23)) == []
    # A day after the first flag the sweep raises it, the latest assessment still disagreeing.
    raised = flags.flags_release_held(now=NOW + timedelta(hours=24, minutes=1))
    assert [(f.status, f.assessment) for f in raised] == [("open", again)]
    assert SwitchFlag.objects.count() == 2
    assert SwitchFlag.objects.live().get() == raised[0]


def test_held_flag_is_not_raised_if_the_evidence_agreed_meanwhile(workload):
    breach(workload, NOW)
    evaluate(workload, NOW)
    dilute(workload, NOW + timedelta(hours=1))
    evaluate(workload, NOW + timedelta(hours=1))
    assert flags.flags_release_held(now=NOW + timedelta(days=2)) == []
    assert SwitchFlag.objects.count() == 1


def test_a_workload_cannot_have_two_live_flags(workload):
    breach(workload, NOW)
    evaluate(workload, NOW)
    flag = SwitchFlag.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        SwitchFlag.objects.create(
            team=workload.team, workload=workload, from_approach="prompt", to_approach="rag"
        )
    assert flag.is_live


def test_acknowledge_and_dismiss(workload, user):
    breach(workload, NOW)
    evaluate(workload, NOW)
    flag = SwitchFlag.objects.get()
    flags.flag_acknowledge(flag=flag, user=user)
    assert (flag.status, flag.status_changed_by) == ("acknowledged", user)
    with pytest.raises(ValidationError) as error:
        flags.flag_dismiss(flag=flag, user=user, reason="  ")
    assert "reason" in error.value.message_dict
    flags.flag_dismiss(flag=flag, user=user, reason="Traffic is a one-off campaign.")
    flag.refresh_from_db()
    assert (flag.status, flag.dismiss_reason) == ("dismissed", "Traffic is a one-off campaign.")


def test_dismissed_flag_stays_dismissed_and_stops_being_live_when_evidence_agrees(workload, user):
    breach(workload, NOW)
    evaluate(workload, NOW)
    flag = SwitchFlag.objects.get()
    flags.flag_dismiss(flag=flag, user=user, reason="Known campaign.")
    evaluate(workload, NOW + timedelta(minutes=5))  # still disagrees: no new flag
    assert SwitchFlag.objects.count() == 1
    calm(workload, NOW + timedelta(days=31))
    flag.refresh_from_db()
    assert flag.status == "dismissed"
    assert flag.resolved_at is not None
    with pytest.raises(ValidationError):
        flags.flag_acknowledge(flag=flag, user=user)


# --- API ----------------------------------------------------------------------------------------


@pytest.fixture
def two_flags(team):
    a, b = (
        WorkloadFactory(team=team, slug="a", planned=True),
        WorkloadFactory(team=team, slug="b", planned=True),
    )
    for workload in (a, b):
        breach(workload, NOW)
        evaluate(workload, NOW)
    calm(b, NOW + timedelta(days=31))
    return a, b


def test_api_lists_flags_with_the_spec_fields_and_filters(team, two_flags, api_client_factory):
    api = api_client_factory(team, "decisions:read")
    items = api.get("/api/v1/flags").json()["results"]
    assert len(items) == 2
    assert set(items[0]) >= {
        "id", "workload", "from_approach", "to_approach", "status", "reasons", "created_at",
        "resolved_at",
    }  # fmt: skip
    open_items = api.get("/api/v1/flags?status=open").json()["results"]
    assert [(i["workload"], i["status"], i["resolved_at"]) for i in open_items] == [
        ("a", "open", None)
    ]
    resolved = api.get("/api/v1/flags?workload=b").json()["results"]
    assert [(i["workload"], i["status"]) for i in resolved] == [("b", "resolved")]
    assert resolved[0]["resolved_at"].startswith("2026-05-01")


def test_api_refuses_an_unknown_status(team, api_client_factory):
    response = api_client_factory(team, "decisions:read").get("/api/v1/flags?status=gone")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_api_shows_no_flags_of_another_team(team, other_team, two_flags, api_client_factory):
    api = api_client_factory(other_team, "decisions:read")
    assert api.get("/api/v1/flags").json()["results"] == []
    assert api.get("/api/v1/flags?workload=a").json()["results"] == []


def test_api_needs_the_decisions_read_scope(team, api_client_factory):
    assert api_client_factory(team, "usage:write").get("/api/v1/flags").status_code == 403


# --- pages -------------------------------------------------------------------------------------


def test_flag_list_page_filters_by_status_and_workload(admin_client, team, two_flags):
    page = admin_client.get("/t/acme/flags/?status=open")
    assert page.status_code == 200
    text = page.content.decode()
    assert "/t/acme/flags/" in text and "A</a>" in text and "B</a>" not in text
    text = admin_client.get("/t/acme/flags/?workload=b").content.decode()
    assert "B</a>" in text and "A</a>" not in text
    assert "No flapping" in text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=gone", "status", "Unknown status “gone”: choose live, open, acknowledged"),
        ("workload=nope", "workload", "No workload “nope” in this team."),
    ],
)
def test_an_unknown_filter_is_a_400_that_names_it_and_is_ignored(
    admin_client, team, two_flags, query, field, message
):
    response = admin_client.get(f"/t/acme/flags/?{query}")
    assert response.status_code == 400
    text = response.content.decode()
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}' in text
    assert f'id="id_{field}" aria-invalid="true"' in text
    assert "Unknown filter values are ignored" in text
    assert "A</a>" in text and "B</a>" in text  # every flag: the bad filter filters nothing
    # A valid filter next to a bad one still applies.
    text = admin_client.get("/t/acme/flags/?status=gone&workload=b").content.decode()
    assert "B</a>" in text and "A</a>" not in text


def test_flag_list_queries_do_not_grow_with_flags(
    admin_client, team, two_flags, django_assert_max_num_queries
):
    for slug in ("c", "d", "e"):
        workload = WorkloadFactory(team=team, slug=slug, planned=True)
        breach(workload, NOW)
        evaluate(workload, NOW)
    with django_assert_max_num_queries(8):
        assert admin_client.get("/t/acme/flags/").status_code == 200


def test_dismiss_without_reason_shows_the_error_next_to_the_field(admin_client, two_flags):
    flag = SwitchFlag.objects.get(status="open")
    response = admin_client.post(f"/t/acme/flags/{flag.pk}/dismiss/", {"reason": ""})
    assert response.status_code == 400
    assert 'id="reason-error"' in response.content.decode()
    assert "Say why the flag is dismissed." in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open"


def test_acknowledge_and_dismiss_through_the_pages(admin_client, two_flags):
    flag = SwitchFlag.objects.get(status="open")
    response = admin_client.post(f"/t/acme/flags/{flag.pk}/acknowledge/")
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "acknowledged"
    admin_client.post(f"/t/acme/flags/{flag.pk}/dismiss/", {"reason": "Seasonal peak."})
    flag.refresh_from_db()
    assert (flag.status, flag.dismiss_reason) == ("dismissed", "Seasonal peak.")
    assert "Seasonal peak." in admin_client.get(f"/t/acme/flags/{flag.pk}/").content.decode()


def test_viewers_see_flags_but_cannot_act(client, team, two_flags, member_factory):
    client.force_login(member_factory(team, Role.VIEWER))
    flag = SwitchFlag.objects.get(status="open")
    page = client.get(f"/t/acme/flags/{flag.pk}/")
    assert page.status_code == 200
    assert "/acknowledge/" not in page.content.decode()
    assert client.post(f"/t/acme/flags/{flag.pk}/acknowledge/").status_code == 403


def test_another_teams_member_gets_404(client, other_team, two_flags):
    client.force_login(other_team.memberships.get().user)
    flag = SwitchFlag.objects.get(status="open")
    assert client.get(f"/t/acme/flags/{flag.pk}/").status_code == 404
    assert client.get(f"/t/globex/flags/{flag.pk}/").status_code == 404
