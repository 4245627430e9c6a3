"""The dashboard, the workload live page, push → flag through a real worker."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workloads.usage_helpers import add_usage, hour, make_workload, record
from workloads.selectors import workload_live_summary
from workloads.services import assessments

pytestmark = pytest.mark.django_db


def flagged_workload(team, slug):
    workload = make_workload(team, slug=slug)
    now = datetime.now(UTC)
    for day in range(1, 4):
        add_usage(workload, now - timedelta(days=day, hours=1), requests=1000,
                  input_tokens=1_800_000, format_errors=100)  # fmt: skip
    assessments.assessment_create(workload=workload, reason="usage")
    return workload


def dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/t/acme/").status_code == 200
    return len(queries)


def test_dashboard_shows_every_workload_with_recommendation_flag_and_volume(admin_client, team):
    flagged_workload(team, "classifier")
    make_workload(team, slug="quiet")
    text = admin_client.get("/t/acme/").content.decode()
    assert "Classifier" in text and "Quiet" in text
    assert "prompt → hybrid · open" in text
    assert "not assessed yet" in text
    assert "3,000" in text  # requests over 30 days
    assert 'data-chart="spark-' in text
    assert "1 workload flagged" in text


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


def test_workload_live_page_shows_assessment_charts_forecast_and_flags(admin_client, team):
    flagged_workload(team, "classifier")
    page = admin_client.get("/t/acme/workloads/classifier/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Latest assessment" in text and "recommends" in text
    assert "format error rate 10% exceeds the 5% threshold" in text
    for chart in ("volume-chart", "latency-chart", "format-chart"):
        assert f'data-chart="{chart}"' in text
    assert "prompt → hybrid" in text
    assert "Not enough history for a trend" in text  # three days are not a trend
    assert "<script>" not in text  # CSP: data blocks only


def test_workload_names_are_escaped_on_the_dashboard(admin_client, team):
    workload = make_workload(team, slug="x", name="</script><script>alert(1)</script>")
    add_usage(workload, datetime.now(UTC) - timedelta(hours=2))
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
    make_workload(team)
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
