"""Every response of the decisions API is one the published schema describes: lists as the
paginated envelopes they are, nulls where null is returned, markdown as markdown, and each error
status with its body. The last test requires that every decisions operation was exercised."""

from __future__ import annotations

import re

import pytest

from decisions.services import exports
from decisions.services.revisit import decision_revisit_check
from decisions.services.status import decision_transition
from tests.decisions.records_helpers import complete_data, create, make_worksheet
from tests.factories import UsageRecordFactory, WorkloadFactory
from tests.schema_check import PublishedSchema
from tests.workloads.usage_helpers import hour
from workloads.models import Assessment
from workloads.services.assessments import assessment_create

URL = "/api/v1/decisions"
READS = {
    ("GET", URL),
    ("GET", URL + "/{number}"),
    ("GET", URL + "/{number}/revisions"),
    ("GET", URL + "/{number}/export.md"),
    ("GET", URL + "/export.zip"),
}
# Exports built by a worker: started, read and downloaded in the writes test.
EXPORTS = {
    ("POST", URL + "/exports"),
    ("GET", URL + "/exports"),
    ("GET", URL + "/exports/{id}"),
    ("GET", URL + "/exports/{id}/download"),
}
WRITES = {
    ("POST", URL),
    ("PATCH", URL + "/{number}"),
    ("POST", URL + "/{number}/transition"),
    ("POST", URL + "/import"),
}


def answered(schema: PublishedSchema) -> set[tuple[str, str]]:
    return {(method, path) for method, path, code in schema.checked if code < 300}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "decisions:read", "decisions:write")


@pytest.fixture
def records(team, user):
    """Decisions in every shape a response takes: a bare draft (nulls), one citing a worksheet
    and an assessment, an accepted one flagged for revisit, one superseding it."""
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    worksheet = make_worksheet(workload, user)
    UsageRecordFactory(workload=workload, period_start=hour(2), requests=500)
    assessment = assessment_create(workload=workload, reason=Assessment.Reason.USAGE)
    bare = create(team, user, {"title": "Bare draft"})
    cited = create(
        team,
        user,
        complete_data(
            title="Cites evidence",
            evidence=[
                {"kind": "worksheet", "id": worksheet.pk},
                {"kind": "assessment", "id": assessment.pk},
            ],
        ),
    )
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 10}
    accepted = create(
        team,
        user,
        complete_data(workload=workload.slug, revisit_triggers=[trigger], review_by="2020-01-31"),
    )
    for status in ("proposed", "accepted"):
        decision_transition(decision=accepted, author=user, status=status)
    decision_revisit_check(workload=workload, metrics={"monthly_requests": 500})
    newer = create(team, user, complete_data(title="Newer", supersedes=[accepted.number]))
    return {"bare": bare, "cited": cited, "accepted": accepted, "newer": newer}


@pytest.mark.django_db
def test_reads_match_the_schema(schema, api, records):
    listed = api.get(URL)
    schema.check(listed)
    assert listed.json()["count"] == 4
    schema.check(api.get(URL, {"status": "accepted", "limit": 1}))
    for decision in records.values():
        detail = api.get(f"{URL}/{decision.number}")
        schema.check(detail)
        schema.check(api.get(f"{URL}/{decision.number}/revisions"))
        schema.check(api.get(f"{URL}/{decision.number}/export.md"))
        schema.check(api.get(f"{URL}/{decision.number}/export.md", {"format": "nygard"}))
    for flavor in ("madr4", "nygard", "log4brains"):
        exported = api.get(f"{URL}/export.zip", {"format": flavor})
        schema.check(exported)
        assert exported.status_code == 200
    bodies = {item["title"]: item for item in listed.json()["results"]}
    # The shapes the schema must describe are all there.
    assert bodies["Bare draft"]["approach"] is None and bodies["Bare draft"]["workload"] is None
    assert {e["kind"] for e in bodies["Cites evidence"]["evidence"]} == {"worksheet", "assessment"}
    assert bodies[complete_data()["title"]]["revisit_reasons"]
    assert bodies[complete_data()["title"]]["superseded_by"] == [records["newer"].number]
    assert answered(schema) >= READS


@pytest.mark.django_db
def test_writes_match_the_schema(schema, api, team, user, django_capture_on_commit_callbacks):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    created = api.post(URL, {"title": "Only a title"}, format="json")
    schema.check(created)
    assert created.status_code == 201
    full = api.post(URL, complete_data(workload=workload.slug), format="json")
    schema.check(full)
    number = full.json()["number"]
    patched = api.patch(f"{URL}/{number}", {"review_by": None, "note": "why"}, format="json")
    schema.check(patched)
    assert patched.status_code == 200
    for status in ("proposed", "accepted"):
        moved = api.post(f"{URL}/{number}/transition", {"status": status}, format="json")
        schema.check(moved)
        assert moved.status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        started = api.post(f"{URL}/exports", {"format": "nygard"}, format="json")
    schema.check(started)
    assert started.status_code == 202
    export_id = started.json()["id"]
    schema.check(api.get(f"{URL}/exports/{export_id}"))
    not_done = api.get(f"{URL}/exports/{export_id}/download")
    schema.check(not_done)
    assert not_done.status_code == 409
    exports.decision_export_build(export_id=export_id)
    for path in ("/exports", f"/exports/{export_id}", f"/exports/{export_id}/download"):
        answer = api.get(URL + path)
        schema.check(answer)
        assert answer.status_code == 200
    superseding = api.post(URL, {"title": "Successor"}, format="json").json()["number"]
    superseded = api.post(
        f"{URL}/{number}/transition",
        {"status": "superseded", "superseded_by": [superseding]},
        format="json",
    )
    schema.check(superseded)
    assert superseded.status_code == 200
    archive = api.get(f"{URL}/export.zip").content
    imported = api.generic("POST", f"{URL}/import", archive, content_type="application/zip")
    schema.check(imported)
    assert imported.json()["counts"]["unchanged"] == 3
    assert answered(schema) >= WRITES | EXPORTS


@pytest.mark.django_db
def test_errors_match_the_schema(schema, api, team, user, api_client_factory, client, settings):
    settings.API_MAX_BODY_BYTES = 2_000
    too_large = {"title": "x", "context_and_problem_statement": "y" * 3_000}
    draft = create(team, user, {"title": "Draft"})
    accepted = create(team, user, complete_data())
    for status in ("proposed", "accepted"):
        decision_transition(decision=accepted, author=user, status=status)
    reader = api_client_factory(team, "decisions:read")
    cases = [
        (400, api.post(URL, {"title": " ", "colour": "blue"}, format="json")),
        (400, api.post(URL, ["not", "an", "object"], format="json")),
        (400, api.patch(f"{URL}/{draft.number}", {"considered_options": [{}]}, format="json")),
        (400, api.post(f"{URL}/{draft.number}/transition", {"status": "done"}, format="json")),
        (401, client.get(URL)),
        (401, client.post(URL, {"title": "x"}, content_type="application/json")),
        (403, reader.post(URL, {"title": "x"}, format="json")),
        (403, reader.patch(f"{URL}/{draft.number}", {"title": "x"}, format="json")),
        (404, api.get(f"{URL}/999")),
        (404, api.get(f"{URL}/999/revisions")),
        (404, api.get(f"{URL}/999/export.md")),
        (404, api.patch(f"{URL}/999", {"title": "x"}, format="json")),
        (404, api.post(f"{URL}/999/transition", {"status": "proposed"}, format="json")),
        (409, api.patch(f"{URL}/{accepted.number}", {"title": "x"}, format="json")),
        (409, api.post(f"{URL}/{draft.number}/transition", {"status": "accepted"}, format="json")),
        (413, api.post(URL, too_large, format="json")),
        (413, api.patch(f"{URL}/{draft.number}", too_large, format="json")),
        (415, api.post(URL, "title=x", content_type="text/plain")),
        (415, api.patch(f"{URL}/{draft.number}", "x", content_type="text/plain")),
        (415, api.post(f"{URL}/{draft.number}/transition", "x", content_type="text/plain")),
        (400, api.get(f"{URL}/export.zip", {"format": "pdf"})),
        (400, api.post(f"{URL}/exports", {"format": "pdf"}, format="json")),
        (404, api.get(f"{URL}/exports/999")),
        (404, api.get(f"{URL}/exports/999/download")),
        (400, api.get(f"{URL}/{draft.number}/export.md", {"format": "pdf"})),
        (400, api.generic("POST", f"{URL}/import", b"PK\x03\x04", content_type="application/zip")),
        (403, reader.generic("POST", f"{URL}/import", b"x", content_type="application/zip")),
        (415, api.post(f"{URL}/import", "x", content_type="text/plain")),
    ]
    for expected, response in cases:
        assert response.status_code == expected, (expected, response.content[:300])
        schema.check(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "after", "complaint"),
    [
        (b'"code"', b'"kode"', "'kode' was unexpected"),
        (b'"approach":null', b'"approach":"magic"', "approach: 'magic' is not valid"),
        (b'"review_by":null', b'"review_by":"soon"', "review_by: 'soon' is not valid under any"),
        (b'"supersedes":[]', b'"supersedes":null', "supersedes: None is not of type 'array'"),
    ],
)
def test_a_response_the_schema_does_not_describe_fails_the_check(
    schema, api, records, before, after, complaint
):
    response = api.get(f"{URL}/{records['bare'].number}")
    assert before in response.content
    response.content = response.content.replace(before, after)
    with pytest.raises(AssertionError, match=re.escape(complaint)):
        schema.check(response)


def test_every_decisions_operation_is_among_those_checked(schema):
    operations = {(method, path) for method, path, _ in schema.operations("decisions")}
    assert operations == READS | WRITES | EXPORTS
