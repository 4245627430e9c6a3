"""ADR folders through the API and the command line, for teams that keep their ADRs in git:
`POST /api/v1/decisions/import`, `GET /api/v1/decisions/export.zip`, and `manage.py
import_decisions` / `export_decisions`. Every response is checked against the published schema."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from decisions.models import DecisionRecord
from tests.decisions.test_records_reimport import ADR_1, ADR_2
from tests.schema_check import PublishedSchema

pytestmark = pytest.mark.django_db
URL = "/api/v1/decisions"


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


FOLDER = {
    "doc/adr/0001-record-architecture-decisions.md": ADR_1,
    "doc/adr/0002-use-postgresql.md": ADR_2,
    "doc/adr/README.md": "# Decisions\n",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "decisions:read", "decisions:write")


def post_zip(api, data: bytes, query: str = ""):
    return api.generic("POST", f"{URL}/import{query}", data, content_type="application/zip")


def test_a_zipped_folder_imports_and_the_report_lists_every_file(api, team, schema):
    response = post_zip(api, zipped(FOLDER))

    schema.check(response)
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {"imported": 2, "updated": 0, "unchanged": 0, "conflict": 0,
                              "error": 0, "skipped": 1}  # fmt: skip
    assert [(f["file"], f["status"], f["number"]) for f in body["files"]] == [
        ("doc/adr/0001-record-architecture-decisions.md", "imported", 1),
        ("doc/adr/0002-use-postgresql.md", "imported", 2),
        ("doc/adr/README.md", "skipped", None),
    ]
    again = post_zip(api, zipped(FOLDER)).json()
    assert again["counts"]["unchanged"] == 2
    assert DecisionRecord.objects.for_team(team).count() == 2


def test_markdown_files_come_as_a_multipart_form_or_one_raw_file(api, team, schema):
    form = api.post(
        f"{URL}/import",
        {"files": [io.BytesIO(ADR_1.encode())], "default_status": "proposed"},
        format="multipart",
    )
    raw = api.generic("POST", f"{URL}/import?filename=0002-use-postgresql.md", ADR_2,
                      content_type="text/markdown; charset=utf-8")  # fmt: skip
    untitled = api.generic("POST", f"{URL}/import?default_status=draft&filename=x.md",
                           "# X\n", content_type="text/markdown")  # fmt: skip

    for response in (form, raw, untitled):
        schema.check(response)
        assert response.status_code == 200, response.content
    assert raw.json()["files"][0]["status"] == "imported"
    assert untitled.json()["files"][0]["notes"][0] == "no status in the file: imported as draft"
    assert DecisionRecord.objects.for_team(team).get(title="X").status == "draft"


def test_one_bad_file_is_reported_and_stored_in_no_part_while_the_others_import(api, team, schema):
    files = {
        "0001-good.md": ADR_1,
        "0002-huge-number.md": "---\ncrossover: {number: 2147483648}\n---\n# Big\n",
        "0003-nul.md": "# A \x00 NUL\n",
        "0004-list-metric.md": "---\ncrossover: {revisit-triggers: [{metric: [], comparator: '>',"
        " threshold: 1}]}\n---\n# Bad trigger\n",
    }

    response = post_zip(api, zipped(files))

    schema.check(response)
    assert response.status_code == 200
    report = {f["file"]: (f["status"], f["message"]) for f in response.json()["files"]}
    assert report["0001-good.md"] == ("imported", "imported as ADR-0001")
    assert report["0002-huge-number.md"][0] == "imported"  # the number is ignored, and noted
    assert report["0003-nul.md"][0] == "error"
    assert report["0004-list-metric.md"] == (
        "error",
        "revisit_triggers[0].metric: Must be a string.",
    )
    assert sorted(DecisionRecord.objects.for_team(team).values_list("title", flat=True)) == [
        "Big", "Record architecture decisions",
    ]  # fmt: skip


def test_uploads_that_cannot_be_read_as_a_whole_are_refused_and_store_nothing(
    api, team, schema, api_client_factory, settings
):
    good = zipped({"0001-a.md": ADR_1})
    damaged = good.replace(b"We need", b"We feed")
    reader = api_client_factory(team, "decisions:read")
    cases = [
        (400, post_zip(api, b"not a zip at all")),
        (400, post_zip(api, damaged)),
        (400, post_zip(api, zipped({"../0001-a.md": ADR_1}))),
        (400, api.generic("POST", f"{URL}/import", ADR_1, content_type="text/markdown")),
        (400, api.post(f"{URL}/import", {"other": "x"}, format="multipart")),
        (400, post_zip(api, good, "?default_status=maybe")),
        (403, post_zip(reader, good)),
        (
            415,
            api.generic(
                "POST",
                f"{URL}/import?filename=a.md",
                ADR_1.encode("utf-16"),
                content_type="text/markdown; charset=utf-16",
            ),
        ),  # fmt: skip
        (415, api.generic("POST", f"{URL}/import", ADR_1, content_type="text/plain")),
        (415, api.post(f"{URL}/import", {"title": "x"}, format="json")),
    ]
    settings.API_MAX_BODY_BYTES = 1_000
    cases.append((413, post_zip(api, zipped({f"{i:04d}-a.md": ADR_1 * 3 for i in range(3)}))))
    for expected, response in cases:
        assert response.status_code == expected, (expected, response.content[:300])
        schema.check(response)
    assert "points outside the archive" in cases[2][1].json()["detail"]
    assert not DecisionRecord.objects.for_team(team).exists()


@pytest.mark.parametrize("flavor", ["madr4", "nygard", "log4brains"])
def test_export_zip_in_each_flavor_keeps_source_names(api, team, schema, flavor):
    post_zip(api, zipped(FOLDER))

    response = api.get(f"{URL}/export.zip", {"format": flavor})

    schema.check(response)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="acme-decisions-{flavor}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [
        "0001-record-architecture-decisions.md", "0002-use-postgresql.md", "index.md",
    ]  # fmt: skip
    first = archive.read("0001-record-architecture-decisions.md").decode()
    assert first.startswith("---\n" if flavor == "madr4" else
                            "# 1. " if flavor == "nygard" else "# Record")  # fmt: skip


def test_export_refuses_an_unknown_format(api, schema):
    response = api.get(f"{URL}/export.zip", {"format": "docx"})

    schema.check(response)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_the_commands_import_a_folder_and_export_it_back_in_each_flavor(team, tmp_path):
    source = tmp_path / "doc" / "adr"
    source.mkdir(parents=True)
    for name, text in FOLDER.items():
        (source / name.rsplit("/", 1)[1]).write_text(text)
    out = io.StringIO()

    call_command("import_decisions", "--team", team.slug, str(source), stdout=out)

    assert out.getvalue().splitlines() == [
        "imported  0001-record-architecture-decisions.md: imported as ADR-0001",
        "imported  0002-use-postgresql.md: imported as ADR-0002",
        "skipped   README.md: not a decision record (index, template or non-.md)",
    ]
    call_command("export_decisions", "--team", team.slug, "--format", "nygard",
                 str(tmp_path / "out"), stdout=io.StringIO())  # fmt: skip
    exported = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert exported == ["0001-record-architecture-decisions.md", "0002-use-postgresql.md",
                        "index.md"]  # fmt: skip
    call_command("export_decisions", "--team", team.slug, str(tmp_path / "all.zip"),
                 stdout=io.StringIO())  # fmt: skip
    assert len(zipfile.ZipFile(tmp_path / "all.zip").namelist()) == 3


def test_the_import_command_fails_when_a_file_fails(team, tmp_path):
    (tmp_path / "0001-bad.md").write_text("No title here.\n")

    with pytest.raises(CommandError, match="1 of 1 files were not imported"):
        call_command("import_decisions", "--team", team.slug, str(tmp_path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="No team with slug 'nope'"):
        call_command("import_decisions", "--team", "nope", str(tmp_path))


@pytest.mark.parametrize("path", ["/export.zip?format=", "/export.zip?format=pdf"])
def test_an_empty_or_unknown_export_format_is_a_400(api, path):
    response = api.get(URL + path)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_a_markdown_import_without_a_body_is_a_clear_error_not_a_crash(api):
    response = api.generic(
        "POST", f"{URL}/import?filename=0001-x.md", b"", content_type="text/markdown"
    )
    assert response.status_code == 200, response.content
    [report] = response.json()["files"]
    assert (report["status"], report["message"]) == (
        "error",
        "no title: expected a '# Title' heading",
    )
