"""The dashboard, the workload live page, push → flag through a real worker."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UsageRecordFactory, WorkloadFactory
from tests.workloads.usage_helpers import hour, record
from workloads.selectors import workload_live_summary
from workloads.services import assessments, flags

pytestmark = pytest.mark.django_db


def flagged_workload(team, slug):
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


def dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/t/acme/").status_code == 200
    return len(queries)


def test_dashboard_shows_every_workload_with_recommendation_flag_and_volume(admin_client, team):
    flagged_workload(team, "classifier")
    WorkloadFactory(team=team, slug="quiet", planned=True)
    text = admin_client.get("/t/acme/").content.decode()
    assert "Classifier" in text and "Quiet" in text
    assert "→ Hybrid (fine-tune + prompt) · open</a>" in text
    assert "planned figures · not assessed yet" in text  # the quiet one
    assert ">3,000<" in text  # the assessment's requests over the trailing 30 days
    assert ">1,000<" in text  # the quiet one's planned monthly requests
    # The sparkline is inline SVG: no chart data, no script.
    label = "Daily requests of Classifier over the last 30 full days: from 0 to 1,000"
    assert f'aria-label="{label}"' in text
    assert "<polyline points=" in text and "spark-classifier-data" not in text
    assert "1 workload flagged" in text


def test_the_flagged_count_counts_open_flags_only(admin_client, team, user):
    workload = flagged_workload(team, "classifier")
    assert "1 workload flagged" in admin_client.get("/t/acme/").content.decode()
    flags.flag_acknowledge(flag=workload.flags.get(), user=user)
    text = admin_client.get("/t/acme/").content.decode()
    assert "No open flags" in text
    assert "→ Hybrid (fine-tune + prompt) · acknowledged</a>" in text


def test_dashboard_query_count_does_not_grow_with_workloads(admin_client, team):
    flagged_workload(team, "w1")
    few = dashboard_queries(admin_client)
    for n in range(2, 7):
        flagged_workload(team, f"w{n}")
    assert dashboard_queries(admin_client) == few
    assert few <= 10


def test_dashboard_is_team_scoped(client, team, other_team):
    flagged_workload(team, "secret-workload")
    client.force_login(other_team.memberships.get().user)
    assert client.get("/t/acme/").status_code == 404
    assert "Secret Workload" not in client.get("/t/globex/").content.decode()


def test_workload_page_sections_show_assessment_charts_forecast_and_flags(admin_client, team):
    flagged_workload(team, "classifier")
    page = admin_client.get("/t/acme/workloads/classifier/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "The evidence recommends" in text and "Hybrid (fine-tune + prompt)" in text
    assert "format error rate 10% exceeds the 5% threshold" in text
    assert "Prompt engineering → Hybrid (fine-tune + prompt)" in text  # the flag
    assert "Not enough history for a trend" in text  # three days are not a trend
    usage = admin_client.get("/t/acme/workloads/classifier/usage/").content.decode()
    for chart in ("volume-chart", "latency-chart", "format-chart"):
        assert f'data-chart="{chart}-data"' in usage
        assert f'<script id="{chart}-data" type="application/json">' in usage
    assert "Assessment history" in usage
    for html in (text, usage):
        assert "<script>" not in html  # CSP: data blocks only


def test_workload_names_are_escaped_on_the_dashboard(admin_client, team):
    workload = WorkloadFactory(
        team=team, slug="x", name="</script><script>alert(1)</script>", planned=True
    )
    UsageRecordFactory(workload=workload, period_start=datetime.now(UTC) - timedelta(hours=2))
    text = admin_client.get("/t/acme/").content.decode()
    assert "<script>alert(1)" not in text


def test_live_summary_for_the_workload_api(team):
    workload = flagged_workload(team, "classifier")
    summary = workload_live_summary(workload)
    assert summary["latest_assessment"]["recommendation"] == "hybrid"
    assert summary["latest_assessment"]["observed"]["requests"] == 3000
    assert [f["to_approach"] for f in summary["open_flags"]] == ["hybrid"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_pushed_usage_raises_a_flag_through_a_real_worker(live_server, team, token_factory,
                                                          live_worker):  # fmt: skip
    WorkloadFactory(team=team, slug="support-bot", planned=True)
    _, raw = token_factory(team, "usage:write", "decisions:read")
    headers = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}
    records = [
        record(
            start=hour(i + 1), requests=1000, input_tokens=1_800_000, format_errors=120, id=f"w-{i}"
        )  # fmt: skip
        for i in range(24)
    ]
    push = urllib.request.Request(
        live_server.url + "/api/v1/usage",
        data=json.dumps({"records": records}).encode(),
        method="POST",
        headers=headers,
    )
    with urllib.request.urlopen(push, timeout=30) as response:
        assert response.status == 201
    deadline = time.monotonic() + 30
    flags = []
    while not flags and time.monotonic() < deadline:
        request = urllib.request.Request(live_server.url + "/api/v1/flags?status=open",
                                         headers=headers)  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            flags = json.loads(response.read())["results"]
        time.sleep(0.1)
    assert flags, "no flag within 30 s:\n" + "".join(live_worker.output[-30:])
    assert (flags[0]["workload"], flags[0]["from_approach"]) == ("support-bot", "prompt")
    assert any("format error rate 12% exceeds" in reason for reason in flags[0]["reasons"])


def test_the_sparkline_scales_daily_requests_into_its_box():
    from workloads.selectors import SPARKLINE_HEIGHT, SPARKLINE_WIDTH, sparkline

    spark = sparkline([0, 50, 100])
    points = [tuple(map(float, p.split(","))) for p in spark["points"].split()]
    assert [x for x, _ in points] == [0, SPARKLINE_WIDTH / 2, SPARKLINE_WIDTH]
    bottom, top = SPARKLINE_HEIGHT - 1, 1
    assert [y for _, y in points] == [bottom, (bottom + top) / 2, top]
    assert (spark["low"], spark["high"]) == (0, 100)


def test_the_dashboard_pages_its_workloads_and_counts_every_open_flag(admin_client, team):
    from workloads.models import Workload
    from workloads.views.dashboard import PAGE_SIZE

    flagged_workload(team, "zz-flagged")  # sorts last: on the last page
    Workload.objects.bulk_create(
        Workload(team=team, slug=f"w-{i:03d}", name=f"W {i:03d}", model="gpt-4o-mini")
        for i in range(PAGE_SIZE)
    )
    first = admin_client.get("/t/acme/").content.decode()
    assert f"{PAGE_SIZE + 1} workloads" in first
    assert first.count("<tr data-workload=") == PAGE_SIZE
    assert "Zz flagged" not in first
    assert "1 workload flagged" in first  # counted over every page
    assert 'href="?page=2" rel="next"' in first
    second = admin_client.get("/t/acme/?page=2").content.decode()
    assert second.count("<tr data-workload=") == 1 and "Zz flagged" in second
    assert admin_client.get("/t/acme/?page=99").status_code == 200  # the last page
