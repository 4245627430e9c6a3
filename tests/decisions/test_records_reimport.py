"""Identity from the source: re-imports are idempotent, a changed draft is updated, a changed
accepted record is a conflict; date slugs are numbered in date order; relation lines become one
typed link shown and exported from both records; nothing invented."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from decisions.models import DecisionLink, DecisionRecord, DecisionRevision
from decisions.serializers import DecisionSerializer
from decisions.services.archives import SourceFile, zip_files
from decisions.services.exports import decision_export_markdown, decisions_export_zip
from decisions.services.imports import decisions_import
from decisions.services.status import decision_transition
from tests.decisions.records_helpers import complete_data, create

pytestmark = pytest.mark.django_db

ADR_1 = """# 1. Record architecture decisions

Date: 2024-01-02

## Status

Accepted

## Context

We need to record decisions.

## Decision

We will use ADRs.

## Consequences

See Nygard's article.
"""
ADR_2 = """# 2. Use PostgreSQL

Date: 2024-02-03

## Status

Accepted

Amends [1. Record architecture decisions](0001-record-architecture-decisions.md)

## Context

A database.

## Decision

PostgreSQL.
"""


def load(team, user, files: dict[str, str], **options):
    sources = [SourceFile(name, text.encode()) for name, text in files.items()]
    return decisions_import(team=team, author=user, files=sources, **options)


def folder():
    return {"0001-record-architecture-decisions.md": ADR_1, "0002-use-postgresql.md": ADR_2}


def test_importing_the_same_folder_twice_reports_unchanged_and_writes_nothing(team, user):
    first = load(team, user, folder())
    revisions = DecisionRevision.objects.for_team(team).count()

    again = load(team, user, folder())

    assert [r.status for r in first] == ["imported", "imported"]
    assert [(r.status, r.number, r.message) for r in again] == [
        ("unchanged", 1, "unchanged: ADR-0001"),
        ("unchanged", 2, "unchanged: ADR-0002"),
    ]
    assert DecisionRecord.objects.for_team(team).count() == 2
    assert DecisionLink.objects.for_team(team).count() == 1
    assert DecisionRevision.objects.for_team(team).count() == revisions


@pytest.mark.parametrize("flavor", ["madr4", "nygard", "log4brains"])
def test_re_importing_a_teams_own_export_changes_nothing(team, user, flavor):
    old = create(team, user, complete_data(title="Old"))
    for status in ("proposed", "accepted"):
        decision_transition(decision=old, author=user, status=status)
    create(team, user, complete_data(title="New", supersedes=[old.number]))
    before = [DecisionSerializer(d).data for d in DecisionRecord.objects.for_team(team)]
    revisions = DecisionRevision.objects.for_team(team).count()

    files = zip_files(decisions_export_zip(team=team, flavor=flavor))
    results = decisions_import(team=team, author=user, files=files)

    assert [(r.status, r.number) for r in results] == [
        ("unchanged", 1), ("unchanged", 2), ("skipped", None),
    ]  # fmt: skip
    assert [DecisionSerializer(d).data for d in DecisionRecord.objects.for_team(team)] == before
    assert DecisionRevision.objects.for_team(team).count() == revisions


def test_a_changed_file_updates_a_draft_and_records_a_revision(team, user):
    draft = ADR_1.replace("Accepted", "Proposed")
    load(team, user, {"0001-record-architecture-decisions.md": draft})

    [result] = load(team, user, {"0001-record-architecture-decisions.md": draft + "\nMore.\n"})

    assert (result.status, result.message) == ("updated", "updated ADR-0001")
    decision = DecisionRecord.objects.for_team(team).get()
    assert decision.consequences == "See Nygard's article.\n\nMore."
    assert decision.revisions.order_by("-number").first().note == (
        "Re-imported from 0001-record-architecture-decisions.md"
    )


def test_a_changed_body_of_an_accepted_record_is_a_conflict_and_changes_nothing(team, user):
    load(team, user, folder())

    [result] = load(team, user, {"0002-use-postgresql.md": ADR_2.replace("PostgreSQL.", "MySQL.")})

    assert result.status == "conflict"
    assert result.message == (
        "ADR-0002 is accepted, its body frozen, and the file changes justification: nothing "
        "imported. Record the change as a new decision that supersedes it."
    )
    assert DecisionRecord.objects.for_team(team).get(number=2).justification == "PostgreSQL."


def test_adr_new_s_rewrites_the_older_file_and_the_re_import_supersedes_it(team, user):
    load(team, user, folder())
    older = ADR_2.replace(
        "Accepted\n", "Superseded by [3. Use CockroachDB](0003-use-cockroachdb.md)\n"
    )
    newer = "# 3. Use CockroachDB\n\nDate: 2024-03-04\n\n## Status\n\nAccepted\n\n" + (
        "Supersedes [2. Use PostgreSQL](0002-use-postgresql.md)\n"
    )

    results = load(team, user, {"0002-use-postgresql.md": older, "0003-use-cockroachdb.md": newer})

    assert [r.status for r in results] == ["updated", "imported"]
    two = DecisionRecord.objects.for_team(team).get(number=2)
    assert two.status == "superseded"
    assert list(two.superseded_by.values_list("number", flat=True)) == [3]


def test_date_slugs_are_slugs_numbered_in_date_order_and_links_resolve_by_file_name(team, user):
    files = {
        "20210301-use-kafka.md": "# Use Kafka\n\n- Status: accepted\n- Date: 2021-03-01\n",
        "20200115-use-rabbitmq.md": (
            "# Use RabbitMQ\n\n"
            "- Status: superseded by [20210301-use-kafka](20210301-use-kafka.md)\n"
        ),
        "4-day-work-week.md": "# Four-day work week\n\n- Status: proposed\n- Date: 2022-01-01\n",
    }

    results = load(team, user, files)

    assert [(r.filename, r.number) for r in results] == [
        ("20210301-use-kafka.md", 2),
        ("20200115-use-rabbitmq.md", 1),
        ("4-day-work-week.md", 3),
    ]
    rabbit = DecisionRecord.objects.for_team(team).get(number=1)
    assert (rabbit.status, rabbit.date.isoformat(), rabbit.source_name) == (
        "superseded", "2020-01-15", "20200115-use-rabbitmq.md",
    )  # fmt: skip
    assert list(rabbit.superseded_by.values_list("number", flat=True)) == [2]
    assert "date 2020-01-15 read from the file name" in results[1].notes
    names = zipfile.ZipFile(io.BytesIO(decisions_export_zip(team=team))).namelist()
    assert sorted(names) == sorted([*files, "index.md"])


def test_amends_and_amended_by_are_one_link_shown_and_exported_from_both(team, user, admin_client):
    one = ADR_1.replace(
        "Accepted\n", "Accepted\n\nAmended by [2. Use PostgreSQL](0002-use-postgresql.md)\n"
    )

    load(team, user, {**folder(), "0001-record-architecture-decisions.md": one})

    link = DecisionLink.objects.for_team(team).get()
    assert (link.source.number, link.kind, link.target.number, link.reverse) == (
        2,
        "Amends",
        1,
        "Amended by",
    )
    first, second = (DecisionRecord.objects.for_team(team).get(number=n) for n in (1, 2))
    assert DecisionSerializer(first).data["related"] == [{"kind": "Amended by", "number": 2}]
    assert DecisionSerializer(second).data["related"] == [{"kind": "Amends", "number": 1}]
    page = admin_client.get(
        reverse("decisions:decision_detail", args=[team.slug, 1])
    ).content.decode()
    assert "Amended by <a href" in page and "ADR-0002: Use PostgreSQL</a>" in page
    _, nygard = decision_export_markdown(first, "nygard")
    assert "Amended by [2. Use PostgreSQL](0002-use-postgresql.md)" in nygard


def test_a_custom_adr_link_pair_becomes_one_link_whichever_file_comes_first(team, user):
    uses = ADR_2.replace("Amends [1.", "Uses [1.")
    used = ADR_1.replace(
        "Accepted\n", "Accepted\n\nUsed by [2. Use PostgreSQL](0002-use-postgresql.md)\n"
    )

    load(
        team, user, {"0001-record-architecture-decisions.md": used, "0002-use-postgresql.md": uses}
    )

    link = DecisionLink.objects.for_team(team).get()
    assert (link.source.number, link.kind, link.target.number, link.reverse) == (
        1,
        "Used by",
        2,
        "Uses",
    )


def test_a_missing_status_takes_the_chosen_default_and_a_missing_date_stays_unknown(
    team, user, admin_client
):
    [result] = load(team, user, {"0007-use-x.md": "# Use X\n\n## Context\n\nWhy.\n"},
                    default_status="proposed")  # fmt: skip

    assert result.notes == ["no status in the file: imported as proposed"]
    decision = DecisionRecord.objects.for_team(team).get()
    assert (decision.number, decision.status, decision.date) == (7, "proposed", None)
    assert DecisionSerializer(decision).data["date"] is None
    page = admin_client.get(reverse("decisions:decision_detail", args=[team.slug, 7]))
    assert "date unknown" in page.content.decode()
    _, text = decision_export_markdown(decision)
    assert "date:" not in text


def test_an_unknown_status_is_shown_as_written_until_the_status_changes(team, user, admin_client):
    load(team, user, {"0001-x.md": "# X\n\n- Status: On hold\n"})
    decision = DecisionRecord.objects.for_team(team).get()
    page = admin_client.get(reverse("decisions:decision_detail", args=[team.slug, 1]))
    assert "the source says “On hold”" in page.content.decode()

    decision_transition(decision=decision, author=user, status="rejected")

    assert DecisionRecord.objects.get(pk=decision.pk).status_text == ""


def test_a_changed_draft_stores_the_new_hash_so_the_next_import_is_unchanged(team, user):
    draft = ADR_1.replace("Accepted", "Proposed")
    load(team, user, {"0001-a.md": draft})
    load(team, user, {"0001-a.md": draft + "\nMore.\n"})

    [again] = load(team, user, {"0001-a.md": draft + "\nMore.\n"})

    assert again.status == "unchanged"
