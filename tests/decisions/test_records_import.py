"""Importing decision records: a team's export zip into another team, broken files, numbering,
and the import page."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from decisions import madr
from decisions.models import DecisionRecord, DecisionRevision
from decisions.serializers import DecisionSerializer
from decisions.services.archives import SourceFile, zip_files
from decisions.services.exports import decisions_export_zip
from decisions.services.imports import decisions_import as _decisions_import
from teams.models import Role
from tests.decisions.records_helpers import complete_data, create, make_worksheet
from tests.factories import UsageRecordFactory, WorkloadFactory
from tests.workloads.usage_helpers import hour
from workloads.models import Assessment
from workloads.services.assessments import assessment_create

# What an import cannot carry over: ids, timestamps and the revisit flag are the new team's own.
NOT_EXPORTED = {"created_at", "updated_at", "needs_revisit", "revisit_reasons", "source_name"}


def comparable(decision: DecisionRecord) -> dict:
    data = {k: v for k, v in DecisionSerializer(decision).data.items() if k not in NOT_EXPORTED}
    data["evidence"] = [{k: v for k, v in e.items() if k != "id"} for e in data["evidence"]]
    return data


def md(text: str) -> bytes:
    return text.encode()


def decisions_import(*, team, author, files, **options):
    return _decisions_import(
        team=team, author=author, files=[SourceFile(n, c) for n, c in files], **options
    )


def decisions_import_zip(*, team, author, data):
    return _decisions_import(team=team, author=author, files=zip_files(data))


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def record_file(number: int, title: str, status: str = "proposed", **extra) -> str:
    return madr.export_record(
        {"number": number, "title": title, "status": status, "date": "2024-01-01", **extra}
    )


@pytest.fixture
def source_records(team, user):
    """Three records of `team`: ADR-0001 superseded by ADR-0005, ADR-0002 accepted, and a
    gap in the numbers. ADR-0001 cites a workload and its worksheet."""
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    worksheet = make_worksheet(workload, user)
    full = complete_data(
        date="2024-03-05",
        decision_makers=["Alice Martin", "Bob Chen"],
        consulted=["Carol"],
        informed=["Support", "Finance"],
        decision_drivers=["Latency under 300 ms", "Format errors below 1%"],
        considered_options=[
            {
                "title": "Prompt engineering",
                "description": "Keep the long prompt.",
                "arguments": [
                    {"kind": "good", "text": "no training"},
                    {"kind": "neutral", "text": "same model"},
                    {"kind": "bad", "text": "slow"},
                ],
            },
            {"title": "Fine-tuned model", "description": "", "arguments": []},
        ],
        justification="it pays back in 2 months.",
        consequences="* Good, because latency drops",
        confirmation="Weekly p99 review.",
        more_information="See worksheet v1.",
        workload=workload.slug,
        revisit_triggers=[{"metric": "monthly_requests", "comparator": "<", "threshold": 100000}],
        review_by="2025-01-31",
    )
    full["evidence"] = [{"kind": "worksheet", "id": worksheet.pk}]
    old = create(team, user, full)
    accepted = create(team, user, complete_data(title="Use Redis"))
    newer = create(
        team,
        user,
        complete_data(title="Use a hybrid", date="2024-06-01", supersedes=[old.number]),
    )
    DecisionRecord.objects.filter(pk=newer.pk).update(number=5, status="accepted")
    DecisionRecord.objects.filter(pk=old.pk).update(status="superseded")
    DecisionRecord.objects.filter(pk=accepted.pk).update(status="accepted")
    return [old.number, accepted.number, 5]


def test_export_zip_holds_one_madr_file_per_record_and_an_index(team, source_records):
    archive = zipfile.ZipFile(io.BytesIO(decisions_export_zip(team=team)))

    assert sorted(archive.namelist()) == [
        "0001-classify-tickets-with-a-fine-tuned-model.md",
        "0002-use-redis.md",
        "0005-use-a-hybrid.md",
        "index.md",
    ]
    first = archive.read("0001-classify-tickets-with-a-fine-tuned-model.md").decode()
    assert "status: superseded by ADR-0005" in first
    assert "[ADR-0005](0005-use-a-hybrid.md) Use a hybrid — accepted, 2024-06-01" in (
        archive.read("index.md").decode()
    )


def test_exported_zip_imported_into_another_team_recreates_every_record(
    team, other_team, user, source_records, admin_client
):
    workload = WorkloadFactory(team=other_team, slug="ticket-classifier", name="Ticket classifier")
    make_worksheet(workload)
    response = admin_client.get(reverse("decisions:decision_export_all", args=[team.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"

    results = decisions_import_zip(team=other_team, author=user, data=response.content)

    assert [(r.filename, r.status, r.number, r.notes) for r in results] == [
        ("0001-classify-tickets-with-a-fine-tuned-model.md", "imported", 1, []),
        ("0002-use-redis.md", "imported", 2, []),
        ("0005-use-a-hybrid.md", "imported", 5, []),
        ("index.md", "skipped", None, []),
    ]
    source = DecisionRecord.objects.for_team(team).order_by("number")
    copied = DecisionRecord.objects.for_team(other_team).order_by("number")
    assert [comparable(d) for d in copied] == [comparable(d) for d in source]
    assert [d.source_name for d in copied] == [r.filename for r in results[:3]]
    hybrid = copied.get(number=5)
    assert hybrid.supersedes.get().team == other_team
    assert hybrid.evidence_links.count() == 0
    assert copied.get(number=1).evidence_links.get().target.workload == workload
    assert set(DecisionRevision.objects.for_team(other_team).values_list("note", flat=True)) == {
        "Imported from 0001-classify-tickets-with-a-fine-tuned-model.md",
        "Imported from 0002-use-redis.md",
        "Imported from 0005-use-a-hybrid.md",
    }


def test_import_without_the_cited_workload_or_evidence_imports_and_notes_it(
    team, other_team, user, source_records
):
    results = decisions_import_zip(
        team=other_team, author=user, data=decisions_export_zip(team=team)
    )

    first = results[0]
    assert first.status == "imported"
    assert first.notes == [
        "workload 'ticket-classifier' does not exist here: imported without it",
        "evidence {'kind': 'worksheet', 'workload': 'ticket-classifier', 'version': 1} not "
        "found here: link skipped",
    ]
    decision = DecisionRecord.objects.for_team(other_team).get(number=1)
    assert decision.workload is None
    assert decision.evidence_links.count() == 0


def test_zip_with_broken_files_imports_the_good_ones_and_reports_each_bad_one(team, user):
    triggers = [{"metric": ["monthly_requests"], "comparator": ">", "threshold": 1}]
    option = {"title": "Somewhere", "description": "", "arguments": []}
    data = zipped(
        {
            "adr/0001-good.md": record_file(1, "Good one", "accepted"),
            "adr/0002-odd-status.md": "---\nstatus: maybe\n---\n# Odd status\n",
            "adr/0003-odd-choice.md": record_file(
                3, "Odd choice", chosen_option="Nowhere", considered_options=[option]
            ),
            "adr/0004-no-title.md": "Notes without a title.\n",
            "adr/0005-cafe.md": "# Café crème\n",
            "adr/0006-list-metric.md": record_file(6, "List metric", revisit_triggers=triggers),
            "adr/0007-nul.md": "# Has a \x00 NUL\n",
            "adr/0008-long-title.md": f"# {'x' * 201}\n",
        }
    )
    # zipfile stores str as UTF-8, so write the Latin-1 file as raw bytes instead.
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("adr/0009-latin1.md", "# Caf\xe9\n".encode("latin-1"))

    results = decisions_import_zip(team=team, author=user, data=buffer.getvalue())

    report = {r.filename: (r.status, r.message, r.notes) for r in results}
    assert report == {
        "adr/0001-good.md": ("imported", "imported as ADR-0001", []),
        "adr/0002-odd-status.md": (
            "imported",
            "imported as ADR-0002",
            ["status 'maybe' is not one Crossover knows: kept as written, imported as proposed"],
        ),
        "adr/0003-odd-choice.md": (
            "imported",
            "imported as ADR-0003",
            ["chosen option 'Nowhere' is none of the considered options: kept as written"],
        ),
        "adr/0004-no-title.md": ("error", "no title: expected a '# Title' heading", []),
        "adr/0005-cafe.md": (
            "imported",
            "imported as ADR-0005",
            ["no status in the file: imported as accepted"],
        ),  # fmt: skip
        "adr/0006-list-metric.md": (
            "error",
            "revisit_triggers[0].metric: Must be a string.",
            [],
        ),
        "adr/0007-nul.md": (
            "error",
            "the file holds NUL characters (\\u0000): it is not a text file",
            [],
        ),  # fmt: skip
        "adr/0008-long-title.md": ("error", "title: At most 200 characters.", []),
        "adr/0009-latin1.md": ("error", "not UTF-8 text", []),
    }
    stored = DecisionRecord.objects.for_team(team)
    assert sorted(stored.values_list("number", flat=True)) == [1, 2, 3, 5]
    odd = stored.get(number=2)
    assert (odd.status, odd.status_text) == ("proposed", "maybe")
    assert stored.get(number=3).chosen_option == "Nowhere"
    assert DecisionRevision.objects.for_team(team).count() == 4


def test_a_link_that_would_make_a_cycle_is_skipped_and_noted_not_half_stored(team, user):
    files = [
        ("0001-a.md", md(record_file(1, "A", supersedes=[2]))),
        ("0002-b.md", md(record_file(2, "B", supersedes=[1]))),
    ]

    results = decisions_import(team=team, author=user, files=files)

    assert [(r.status, r.number) for r in results] == [("imported", 1), ("imported", 2)]
    assert results[0].notes == []
    [note] = results[1].notes
    assert note.startswith("Supersedes ADR-0001: supersedes: ADR-0002 cannot supersede ADR-0001")
    assert note.endswith("Link skipped.")
    a, b = DecisionRecord.objects.for_team(team).order_by("number")
    assert list(a.supersedes.all()) == [b] and b.supersedes.count() == 0
    assert DecisionRevision.objects.for_team(team).count() == 2


def test_numbers_are_kept_when_free_and_the_next_free_one_is_used_and_reported_when_taken(
    team, user
):
    decisions_import(team=team, author=user, files=[("0003-existing.md", md(record_file(3, "X")))])
    files = [
        ("0003-taken.md", md(record_file(3, "Taken", supersedes=[2]))),
        ("0002-free.md", md(record_file(2, "Free", status="superseded", superseded_by=[3]))),
        ("untitled.md", md("# Without a number\n")),
    ]

    results = decisions_import(team=team, author=user, files=files)

    assert [(r.filename, r.number, r.notes) for r in results] == [
        ("0003-taken.md", 4, ["ADR-0003 was taken: imported as ADR-0004"]),
        ("0002-free.md", 2, []),
        (
            "untitled.md",
            5,
            [
                "no status in the file: imported as accepted",
                "the file has no number: imported as ADR-0005",
            ],
        ),
    ]
    # The link between the two files follows the renumbering: ADR-0004 supersedes ADR-0002.
    renumbered = DecisionRecord.objects.for_team(team).get(number=4)
    assert list(renumbered.supersedes.values_list("number", flat=True)) == [2]
    assert DecisionRecord.objects.for_team(team).get(number=3).superseded_by.count() == 0


def test_import_links_to_existing_records_and_notes_missing_ones(team, user):
    decisions_import(team=team, author=user, files=[("0001-old.md", md(record_file(1, "Old")))])

    [result] = decisions_import(
        team=team,
        author=user,
        files=[("0002-new.md", md(record_file(2, "New", supersedes=[1, 9])))],
    )

    assert result.notes == ["Supersedes ADR-0009: not found here, link skipped"]
    new = DecisionRecord.objects.for_team(team).get(number=2)
    assert list(new.supersedes.values_list("number", flat=True)) == [1]


def test_import_of_something_that_is_not_a_zip_is_refused(team, user):
    with pytest.raises(ValidationError) as caught:
        decisions_import_zip(team=team, author=user, data=b"# not a zip")

    assert caught.value.message_dict == {
        "file": ["the archive is not a readable zip archive (File is not a zip file)."]
    }


def import_url(team):
    return reverse("decisions:decision_import", args=[team.slug])


def test_import_page_imports_uploaded_markdown_files_and_shows_the_report(team, admin_client):
    uploads = [
        SimpleUploadedFile("0001-use-postgresql.md", md(record_file(1, "Use PostgreSQL"))),
        SimpleUploadedFile("0002-broken.md", b"---\nstatus: [oops\n---\n# Broken\n"),
        SimpleUploadedFile("README.md", b"# Our decisions\n"),
    ]

    response = admin_client.post(import_url(team), {"files": uploads})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2>Report</h2>" in html
    assert "<code>0001-use-postgresql.md</code>" in html
    detail = reverse("decisions:decision_detail", args=[team.slug, 1])
    assert f'<a href="{detail}">ADR-0001</a>' in html
    assert "<code>0002-broken.md</code>" in html
    assert "front matter is not valid YAML" in html
    assert "not a decision record (index, template or non-.md)" in html
    assert list(DecisionRecord.objects.for_team(team).values_list("title", flat=True)) == [
        "Use PostgreSQL"
    ]


def test_import_page_accepts_a_zip_upload(team, other_team, admin_client, source_records):
    archive = SimpleUploadedFile("acme-decisions.zip", decisions_export_zip(team=team))
    admin_client.force_login(other_team.memberships.get().user)

    response = admin_client.post(import_url(other_team), {"files": [archive]})

    assert response.status_code == 200
    assert response.content.decode().count("badge-good") == 3
    assert DecisionRecord.objects.for_team(other_team).count() == 3


def test_import_page_without_files_shows_the_error_next_to_the_field(team, admin_client):
    response = admin_client.post(import_url(team), {})

    assert response.status_code == 400
    assert "Choose a .zip archive or one or more .md files." in response.content.decode()


def test_viewer_cannot_import(team, client, member_factory):
    client.force_login(member_factory(team, Role.VIEWER))
    upload = SimpleUploadedFile("0001-x.md", md(record_file(1, "X")))

    response = client.post(import_url(team), {"files": [upload]})

    assert response.status_code == 403
    assert not DecisionRecord.objects.for_team(team).exists()


def test_a_file_exported_before_the_rename_links_its_evaluation_as_the_assessment(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    UsageRecordFactory(workload=workload, period_start=hour(2), requests=500)
    assessment = assessment_create(workload=workload, reason=Assessment.Reason.USAGE)
    ref = {"kind": "evaluation", "workload": workload.slug,
           "created_at": assessment.created_at.isoformat()}  # fmt: skip
    text = record_file(4, "Keep prompting", evidence=[ref])
    assert "kind: evaluation" in text

    [result] = decisions_import(team=team, author=user, files=[("0004-keep.md", md(text))])

    assert (result.status, result.notes) == ("imported", [])
    link = DecisionRecord.objects.for_team(team).get(number=4).evidence_links.get()
    assert (link.kind, link.target) == ("assessment", assessment)


def test_a_file_whose_workload_has_a_nul_fails_alone_with_the_reason(team, user):
    files = [
        ("0001-bad.md", md(record_file(1, "Bad", workload="support\x00bot"))),
        ("0002-good.md", md(record_file(2, "Good"))),
    ]

    results = decisions_import(team=team, author=user, files=files)

    assert [(r.status, r.message) for r in results] == [
        ("error", "workload: Null characters are not allowed."),
        ("imported", "imported as ADR-0002"),
    ]
