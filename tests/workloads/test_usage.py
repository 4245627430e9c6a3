"""POST /api/v1/usage: strict validation, all-or-nothing, idempotency, coalesced re-assessment."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import WorkloadFactory
from tests.workloads.usage_helpers import body, hour, record
from workloads.models import UsageRecord, Workload

URL = "/api/v1/usage"

pytestmark = pytest.mark.django_db


@pytest.fixture
def workload(team):
    return WorkloadFactory(team=team, slug="support-bot", planned=True)


@pytest.fixture
def pusher(team, api_client_factory, workload):
    api = api_client_factory(team, "usage:write")

    def push(payload, **extra):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return api.generic("POST", URL, data, content_type="application/json", **extra)

    return push


def errors_of(response) -> list[tuple]:
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith("Invalid input")
    return [(e["index"], e["field"]) for e in response.json()["errors"]]


def test_one_record_is_stored_with_every_field(pusher, workload):
    payload = record(
        approach="prompt",
        model="gpt-4o-mini",
        latency_p50_ms=310.5,
        latency_p99_ms=720,
        format_errors=3,
        cost_usd=0.1386,
        id="r-1",
    )
    response = pusher(payload)
    assert response.status_code == 201
    assert response.json() == {"accepted": 1, "duplicates": 0}
    row = UsageRecord.objects.get()
    assert (row.workload, row.team_id, row.client_id) == (workload, workload.team_id, "r-1")
    assert (row.requests, row.input_tokens, row.output_tokens) == (100, 180_000, 10_000)
    assert (row.approach, row.model, row.format_errors) == ("prompt", "gpt-4o-mini", 3)
    assert (row.latency_p50_ms, row.latency_p99_ms) == (310.5, 720.0)
    assert str(row.cost_usd) == "0.138600"
    assert row.period_end - row.period_start == timedelta(hours=1)


def test_batch_is_stored_and_counted(pusher):
    response = pusher({"records": [record(start=hour(i), id=f"r-{i}") for i in range(1, 51)]})
    assert response.json() == {"accepted": 50, "duplicates": 0}
    assert UsageRecord.objects.count() == 50


def test_timestamp_without_offset_is_utc_and_offsets_are_converted(pusher):
    pusher(record(period_start="2026-03-01T10:00:00", period_end="2026-03-01T12:00:00+01:00"))
    row = UsageRecord.objects.get()
    assert row.period_start.isoformat() == "2026-03-01T10:00:00+00:00"
    assert row.period_end.isoformat() == "2026-03-01T11:00:00+00:00"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("requests", -1),
        ("requests", 1.5),
        ("requests", "100"),
        ("requests", True),
        ("requests", None),
        ("input_tokens", -5),
        ("output_tokens", "many"),
        ("latency_p50_ms", -0.1),
        ("latency_p99_ms", "fast"),
        ("latency_p99_ms", False),
        ("format_errors", -1),
        ("format_errors", 2.5),
        ("cost_usd", -0.01),
        ("id", "x" * 101),
        ("id", 42),
        ("id", ""),
        ("approach", "magic"),
        ("model", "m" * 201),
        ("workload", 7),
        ("period_start", "yesterday"),
        ("period_start", 1767225600),
        ("period_start", "1767225600"),  # a Unix timestamp in a string
        ("period_start", "2026-03-01"),  # a date without a time
        ("period_end", "2026-13-01T00:00:00Z"),
    ],
)
def test_invalid_field_is_reported_with_its_name(pusher, field, value):
    response = pusher({"records": [record(id="ok"), record(**{field: value})]})
    assert errors_of(response) == [(1, field)]
    assert UsageRecord.objects.count() == 0


@pytest.mark.parametrize("field", ["workload", "period_start", "period_end", "requests"])
def test_missing_required_field_is_reported(pusher, field):
    payload = record()
    del payload[field]
    response = pusher(payload)
    assert errors_of(response) == [(0, field)]
    assert response.json()["errors"][0]["message"] == "This field is required."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("model", "gpt\x00-4o", "NUL"),
        ("id", "tc-\x00", "NUL"),
        ("workload", "support-bot\x00", "NUL"),
        ("cost_usd", 1e10, "less than"),
        ("cost_usd", 123456789012.5, "less than"),
        ("period_start", "0001-01-01T00:00:00+05:00", "2000-01-01"),
        ("period_start", "1999-12-31T23:59:59Z", "2000-01-01"),
        ("period_start", "9999-12-31T23:00:00Z", "future"),
    ],
)
def test_values_the_database_cannot_hold_or_that_cannot_have_happened_are_refused(
    pusher, field, value, message
):
    response = pusher({"records": [record(id="fine"), record(**{field: value})]})
    assert errors_of(response) == [(1, field)]
    assert message in response.json()["errors"][0]["message"]
    assert UsageRecord.objects.count() == 0


def test_a_period_that_started_within_the_clock_skew_allowance_is_accepted(pusher):
    start = timezone.now() + timedelta(minutes=2)
    response = pusher(record(start=start))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/json; charset=utf-16", ""],
)  # fmt: skip
def test_a_body_that_is_not_utf8_json_is_a_415(team, api_client_factory, content_type):
    api = api_client_factory(team, "usage:write")
    response = api.generic("POST", URL, json.dumps(record()).encode(), content_type=content_type)
    assert response.status_code == 415, response.content
    assert response.json()["errors"][0]["message"]
    assert UsageRecord.objects.count() == 0


def test_json_with_a_utf8_charset_is_accepted(pusher):
    response = pusher(record(), CONTENT_TYPE="application/json; charset=utf-8")
    assert response.status_code == 201, response.content


def test_period_must_end_after_it_starts(pusher):
    payload = record(period_start="2026-03-01T10:00:00Z", period_end="2026-03-01T10:00:00Z")
    response = pusher(payload)
    assert errors_of(response) == [(0, "period_end")]
    assert "after period_start" in response.json()["errors"][0]["message"]


def test_period_may_span_31_days_but_not_more(pusher):
    ok = record(period_start="2026-01-01T00:00:00Z", period_end="2026-02-01T00:00:00Z", id="a")
    too_long = record(period_start="2026-01-01T00:00:00Z", period_end="2026-02-01T00:00:01Z")
    assert pusher(ok).status_code == 201
    response = pusher(too_long)
    assert errors_of(response) == [(0, "period_end")]
    assert "31 days" in response.json()["errors"][0]["message"]


def test_format_errors_cannot_exceed_requests(pusher):
    assert pusher(record(requests=10, format_errors=10)).status_code == 201
    response = pusher(record(requests=10, format_errors=11))
    assert errors_of(response) == [(0, "format_errors")]


def test_unknown_workload_is_an_error_on_that_record(pusher):
    response = pusher({"records": [record(), record(workload="nope"), record()]})
    assert errors_of(response) == [(1, "workload")]
    assert "nope" in response.json()["errors"][0]["message"]


def test_unknown_fields_are_refused(pusher):
    response = pusher(record(requets=5))
    assert errors_of(response) == [(0, "requets")]
    assert response.json()["errors"][0]["message"] == "Unknown field."
    response = pusher({"records": [record()], "dry_run": True})
    assert errors_of(response) == [(None, "dry_run")]


def test_more_than_5000_records_are_refused(pusher):
    response = pusher({"records": [record()] * 5001})
    assert errors_of(response) == [(None, "records")]
    assert "5,000" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"[1, 2]", None),
        (b'"text"', None),
        (b"{not json", None),
        (b"", None),
        (b'{"records": {"a": 1}}', "records"),
        (b'{"records": []}', "records"),
        (b'{"requests": NaN}', None),
    ],
)
def test_non_object_or_malformed_body_is_a_clear_400(pusher, payload, field):
    response = pusher(payload)
    assert errors_of(response) == [(None, field)]


def test_a_record_that_is_not_an_object_is_reported_by_index(pusher):
    response = pusher({"records": [record(), "oops"]})
    assert errors_of(response) == [(1, None)]


def test_every_invalid_record_is_listed_and_nothing_is_stored(pusher):
    records = [record(id=f"r-{i}") for i in range(10)]
    records[2]["requests"] = -1
    records[7]["period_end"] = records[7]["period_start"]
    records[9]["workload"] = "other"
    response = pusher({"records": records})
    assert errors_of(response) == [(2, "requests"), (7, "period_end"), (9, "workload")]
    assert UsageRecord.objects.count() == 0
    assert Workload.objects.get().usage_changed_at is None


def test_repeated_id_is_a_duplicate_in_later_pushes_and_within_a_batch(pusher):
    first = pusher({"records": [record(id="a"), record(id="b"), record(id="a"), record()]})
    assert first.json() == {"accepted": 3, "duplicates": 1}
    again = pusher({"records": [record(id="a"), record(id="c"), record()]})
    assert again.json() == {"accepted": 2, "duplicates": 1}
    assert UsageRecord.objects.count() == 5


def test_same_id_in_another_team_is_not_a_duplicate(pusher, other_team, api_client_factory):
    WorkloadFactory(team=other_team, slug="support-bot", planned=True)
    assert pusher(record(id="shared")).json()["accepted"] == 1
    api = api_client_factory(other_team, "usage:write")
    response = api.post(URL, record(id="shared"), format="json")
    assert response.json() == {"accepted": 1, "duplicates": 0}


def test_token_of_another_team_cannot_push_to_this_teams_workload(
    workload, other_team, api_client_factory
):
    api = api_client_factory(other_team, "usage:write")
    response = api.post(URL, record(), format="json")
    assert errors_of(response) == [(0, "workload")]
    assert UsageRecord.objects.count() == 0


def test_token_without_usage_scope_is_refused(team, workload, api_client_factory):
    api = api_client_factory(team, "decisions:read")
    response = api.post(URL, record(), format="json")
    assert response.status_code == 403
    assert "usage:write" in response.json()["detail"]


def test_missing_token_is_refused(client, workload):
    response = client.post(URL, record(), content_type="application/json")
    assert response.status_code in (401, 403)


def test_5000_records_cost_a_constant_number_of_queries(pusher):
    records = [record(start=hour(i % 700 + 1), id=f"q-{i}") for i in range(5000)]
    with CaptureQueriesContext(connection) as queries:
        response = pusher({"records": records})
    assert response.json() == {"accepted": 5000, "duplicates": 0}
    assert len(queries) < 20
    assert UsageRecord.objects.count() == 5000


def test_storing_usage_marks_the_workload_and_enqueues_one_assessment_after_commit(
    pusher, workload, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async",
        lambda args, **kwargs: enqueued.extend((pk, args[1]) for pk in args[0]),
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pusher({"records": [record(id=f"r-{i}") for i in range(20)]})
    assert len(callbacks) == 1
    assert enqueued == [(workload.pk, "usage")]
    workload.refresh_from_db()
    assert workload.usage_changed_at is not None
    assert workload.assessment_requested_at is not None


def test_many_pushes_while_an_assessment_is_pending_enqueue_once(
    pusher, workload, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async",
        lambda args, **kwargs: enqueued.extend((pk, args[1]) for pk in args[0]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(100):
            assert pusher(record(id=f"p-{i}")).status_code == 201
    assert enqueued == [(workload.pk, "usage")]


def test_only_duplicates_change_nothing(pusher, workload, django_capture_on_commit_callbacks):
    pusher(record(id="once"))
    Workload.objects.filter(pk=workload.pk).update(
        usage_changed_at=None, assessment_requested_at=None
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert pusher(record(id="once")).json() == {"accepted": 0, "duplicates": 1}
    assert callbacks == []
    workload.refresh_from_db()
    assert workload.usage_changed_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_pushers_of_overlapping_ids_store_each_id_exactly_once(
    live_server, team, token_factory
):
    """8 threads push the same 8 batches (in different orders) at the same time over HTTP."""
    WorkloadFactory(team=team, slug="support-bot", planned=True)
    _, raw = token_factory(team, "usage:write")
    batches = [
        [record(start=hour(b * 50 + i + 1), id=f"c-{b}-{i}") for i in range(50)] for b in range(8)
    ]
    results: list[dict] = []
    failures: list[Exception] = []
    barrier = threading.Barrier(8)

    def pusher(n: int) -> None:
        try:
            barrier.wait()
            for b in range(8):
                payload = body(*batches[(b + n) % 8])
                request = urllib.request.Request(
                    live_server.url + URL,
                    data=payload,
                    method="POST",
                    headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=60) as response:
                    assert response.status == 201
                    results.append(json.loads(response.read()))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=pusher, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(results) == 64
    assert sum(r["accepted"] for r in results) == 400
    assert sum(r["duplicates"] for r in results) == 64 * 50 - 400
    assert UsageRecord.objects.count() == 400
    assert UsageRecord.objects.values("client_id").distinct().count() == 400


def test_ids_and_models_with_tabs_newlines_and_backslashes_are_stored_exactly(pusher):
    awkward = "a\tb\\c\nd\re \\N"
    assert pusher(record(id=awkward, model="m\tx\\")).json() == {"accepted": 1, "duplicates": 0}
    row = UsageRecord.objects.get()
    assert (row.client_id, row.model) == (awkward, "m\tx\\")
    assert pusher(record(id=awkward)).json() == {"accepted": 0, "duplicates": 1}
