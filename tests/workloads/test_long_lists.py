"""Lists that grow with the team: paged, with the same number of queries whatever their length,
and the worksheet's workload picked by slug once there are too many to list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from workloads.models import FlagStatus, SwitchFlag, Workload
from workloads.views import dashboard as dashboard_views
from workloads.views import flags as flag_views
from workloads.views import workloads as workload_views
from workloads.views.paging import PICKER_OPTIONS

pytestmark = pytest.mark.django_db


def _workloads(team, count: int, start: int = 0) -> list[Workload]:
    Workload.objects.bulk_create(
        Workload(
            team=team,
            slug=f"w-{i:04d}",
            name=f"W {i:04d}",
            model="gpt-4o-mini",
            parameters={"monthly_requests": 1000, "user_tokens": 50, "output_tokens": 100},
        )
        for i in range(start, start + count)
    )
    return list(Workload.objects.for_team(team).order_by("slug"))


def _flags(team, workloads) -> None:
    SwitchFlag.objects.bulk_create(
        SwitchFlag(
            team=team, workload=w, from_approach="prompt", to_approach="fine-tune",
            status=FlagStatus.OPEN, reasons=["Switch", "Cheaper", "Faster"],
        )
        for w in workloads
    )  # fmt: skip


def _get(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode(), len(queries)


def test_the_workload_list_pages_with_constant_queries(admin_client, team):
    _workloads(team, 3)
    _, few = _get(admin_client, "/t/acme/workloads/")
    _workloads(team, workload_views.PAGE_SIZE + 7, start=3)
    text, many = _get(admin_client, "/t/acme/workloads/")
    assert many == few
    assert text.count("<tr data-workload=") == workload_views.PAGE_SIZE
    last, _ = _get(admin_client, "/t/acme/workloads/?page=2")
    assert last.count("<tr data-workload=") == 10
    assert 'data-workload="w-0059"' in last


def test_every_open_flag_is_reachable_a_page_at_a_time(admin_client, team):
    _flags(team, _workloads(team, 2))
    _, few = _get(admin_client, "/t/acme/flags/?status=open")
    _flags(team, _workloads(team, flag_views.PAGE_SIZE * 2, start=2)[2:])
    total = flag_views.PAGE_SIZE * 2 + 2
    seen = set()
    for page in (1, 2, 3):
        text, queries = _get(admin_client, f"/t/acme/flags/?status=open&page={page}")
        assert queries == few
        seen |= {line for line in text.splitlines() if "/flags/" in line and "<th" in line}
    assert len(seen) == total
    assert 'href="?status=open&amp;page=2"' in _get(admin_client, "/t/acme/flags/?status=open")[0]


def test_few_workloads_are_listed_in_the_worksheet_picker(admin_client, team):
    _workloads(team, 3)
    text, _ = _get(admin_client, "/t/acme/worksheets/new/")
    assert '<option value="w-0002">W 0002</option>' in text


def test_many_workloads_are_picked_by_slug(admin_client, team):
    _workloads(team, PICKER_OPTIONS + 1)
    text, few = _get(admin_client, "/t/acme/worksheets/new/?workload=w-0042")
    assert '<option value="w-0041"' not in text
    assert 'name="workload" value="w-0042"' in text
    assert "Prefilled from the workload W 0042" in text
    _workloads(team, 300, start=PICKER_OPTIONS + 1)
    _, many = _get(admin_client, "/t/acme/worksheets/new/?workload=w-0042")
    assert many == few
    # A slug that is not the team's is refused like any unknown choice.
    response = admin_client.post(
        "/t/acme/worksheets/new/", {"workload": "nope", "action": "save", "justification": "x"}
    )
    assert "No workload with slug “nope”" in response.content.decode()


def test_many_workloads_filter_the_flags_by_a_typed_slug(admin_client, team):
    flagged = _workloads(team, 3)
    _flags(team, flagged)
    text, _ = _get(admin_client, "/t/acme/flags/")
    assert '<option value="w-0001" >W 0001</option>' in text
    _workloads(team, PICKER_OPTIONS, start=3)
    text, few = _get(admin_client, "/t/acme/flags/?workload=w-0001")
    assert '<option value="w-0002"' not in text
    assert '<input name="workload" id="id_workload" value="w-0001"' in text
    assert text.count("/flags/") > 0 and "W 0001" in text and "W 0002</a>" not in text
    _workloads(team, 300, start=PICKER_OPTIONS + 3)
    _, many = _get(admin_client, "/t/acme/flags/?workload=w-0001")
    assert many == few
    refused = admin_client.get("/t/acme/flags/?workload=nope")
    assert refused.status_code == 400 and "No workload “nope” in this team." in refused.text


def test_the_dashboard_reads_the_flags_of_its_page_only(admin_client, team):
    size = dashboard_views.PAGE_SIZE
    _flags(team, _workloads(team, size + 10))
    loaded = []

    def count(sender, instance, **kwargs):
        loaded.append(instance.workload_id)

    post_init.connect(count, sender=SwitchFlag)
    try:
        first, _ = _get(admin_client, "/t/acme/")
        on_first = len(loaded)
        last, _ = _get(admin_client, "/t/acme/?page=2")
    finally:
        post_init.disconnect(count, sender=SwitchFlag)
    assert first.count('data-testid="flag"') == size
    assert last.count('data-testid="flag"') == 10
    # Not the team's 60 live flags for each page: only those of the workloads shown.
    assert (on_first, len(loaded) - on_first) == (size, 10)
