"""Exports of a whole log too large to zip in a request: started from the log (web or API),
built by a real Celery worker with progress in records, then downloaded; the archive is the
one the request-time export writes."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from decisions.models import DecisionExport, ExportStatus
from decisions.services import exports
from tests.decisions.records_helpers import complete_data, create


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(exports, "INLINE_EXPORT_LIMIT", 2)


def _records(team, user, count: int = 3) -> None:
    for i in range(count):
        create(team, user, complete_data(title=f"Decision {i}"))


@pytest.mark.django_db(transaction=True)
def test_a_large_log_is_exported_by_a_worker_then_downloaded(
    admin_client, team, user, small_limit, live_worker
):
    _records(team, user)
    inline = _files(exports.decisions_export_zip(team=team, flavor="nygard"))
    redirected = admin_client.get(f"/t/{team.slug}/decisions/export.zip?format=nygard")
    assert redirected.status_code == 302
    assert redirected["Location"] == f"/t/{team.slug}/decisions/exports/?format=nygard"
    page = admin_client.get(redirected["Location"]).text
    assert "more than 2 records: its export is built in the background" in page
    assert '<option value="nygard" selected>' in page
    started = admin_client.post(f"/t/{team.slug}/decisions/exports/", {"format": "nygard"})
    export = DecisionExport.objects.get()
    assert started["Location"] == f"/t/{team.slug}/decisions/exports/{export.pk}/"
    deadline = time.monotonic() + 30
    while export.is_active and time.monotonic() < deadline:
        time.sleep(0.1)
        export.refresh_from_db()
    assert export.status == ExportStatus.DONE, export.failure
    assert (export.done, export.total, export.flavor) == (3, 3, "nygard")
    status = admin_client.get(started["Location"], headers={"HX-Request": "true"}).text
    assert status.lstrip().startswith('<section id="export-status"')
    assert 'data-status="done"' in status and "hx-trigger" not in status
    download = admin_client.get(f"/t/{team.slug}/decisions/exports/{export.pk}/download/")
    assert download["Content-Type"] == "application/zip"
    assert _files(download.content) == inline and len(inline) == 4


@pytest.mark.django_db
def test_the_api_starts_polls_and_downloads_an_export(
    team, user, small_limit, api_client_factory, django_capture_on_commit_callbacks
):
    _records(team, user)
    reader = api_client_factory(team, "decisions:read")
    refused = reader.get("/api/v1/decisions/export.zip")
    assert refused.status_code == 409
    assert "POST /api/v1/decisions/exports" in refused.json()["detail"]
    with django_capture_on_commit_callbacks() as queued:
        started = reader.post("/api/v1/decisions/exports", {"format": "log4brains"}, format="json")
    assert started.status_code == 202, started.json()
    body = started.json()
    assert (body["status"], body["format"], body["download"]) == ("queued", "log4brains", None)
    assert len(queued) == 1  # the task is published after commit
    not_yet = reader.get(f"/api/v1/decisions/exports/{body['id']}/download")
    assert not_yet.status_code == 409 and "queued" in not_yet.json()["detail"]
    assert exports.decision_export_build(export_id=body["id"]) == ExportStatus.DONE
    done = reader.get(f"/api/v1/decisions/exports/{body['id']}").json()
    assert done["status"] == "done" and done["progress"] == {"done": 3, "total": 3}
    assert done["download"] == f"/api/v1/decisions/exports/{body['id']}/download"
    archive = reader.get(done["download"])
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    expected = _files(exports.decisions_export_zip(team=team, flavor="log4brains"))
    assert _files(archive.content) == expected and done["size"] == len(archive.content)
    listed = reader.get("/api/v1/decisions/exports").json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]
    bad = reader.post("/api/v1/decisions/exports", {"format": "docx"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "format"
    assert DecisionExport.objects.count() == 1


@pytest.mark.django_db
def test_a_build_that_fails_says_why_and_a_finished_one_is_not_rebuilt(team, user):
    _records(team, user, 1)
    broken = DecisionExport.objects.create(team=team, flavor="docx")
    assert exports.decision_export_build(export_id=broken.pk) == ExportStatus.FAILED
    broken.refresh_from_db()
    assert broken.status == "failed" and "unknown flavor 'docx'" in broken.failure
    assert broken.archive is None
    # A redelivered task finds the export ended and leaves it as it is.
    assert exports.decision_export_build(export_id=broken.pk) == ExportStatus.FAILED
    assert exports.decision_export_build(export_id=999999) == "gone"


@pytest.mark.django_db
def test_a_team_keeps_its_latest_exports_only(team, user, other_team):
    theirs = exports.decision_export_start(team=other_team)
    made = [exports.decision_export_start(team=team).pk for _ in range(exports.KEPT_EXPORTS + 2)]
    kept = list(DecisionExport.objects.for_team(team).values_list("pk", flat=True))
    assert sorted(kept) == sorted(made[-exports.KEPT_EXPORTS :])
    assert DecisionExport.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_a_small_log_still_downloads_at_once(admin_client, team, user):
    _records(team, user, 2)
    response = admin_client.get(f"/t/{team.slug}/decisions/export.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert len(_files(response.content)) == 3
    assert not DecisionExport.objects.exists()


@pytest.mark.django_db
def test_viewers_read_exports_but_do_not_start_one(client, team, user, member_factory):
    from teams.models import Role

    viewer = member_factory(team, Role.VIEWER)
    client.force_login(viewer)
    assert client.get(f"/t/{team.slug}/decisions/exports/").status_code == 200
    assert client.post(f"/t/{team.slug}/decisions/exports/", {"format": "madr4"}).status_code == 403
    assert not DecisionExport.objects.exists()


@pytest.mark.django_db
def test_progress_knows_the_size_before_the_first_chunk(team, user, monkeypatch):
    _records(team, user, 3)
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 2)
    seen = []
    exports.decisions_export_zip(team=team, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 3), (2, 3), (3, 3)]
