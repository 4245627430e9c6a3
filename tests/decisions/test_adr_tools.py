"""Proven with the real tools: ADR folders written by adr-tools (Debian's `adr`) and Log4brains
1.1.0 (npm) import with every field, and each export flavor is read back by those tools as we
hold it (titles, statuses, supersession, links). `make test` installs both when missing; in
CI (CROSSOVER_REQUIRE_SERVICES=1) a missing tool fails these tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from decisions.models import DecisionLink, DecisionRecord
from decisions.services.archives import SourceFile
from decisions.services.exports import decisions_export_files
from decisions.services.imports import decisions_import
from tests.conftest import ROOT
from tests.plugins.services import service_missing

pytestmark = pytest.mark.django_db
ADR_LIB = Path("/usr/libexec/adr-tools")
LOG4BRAINS_MODULES = ROOT / ".tools" / "log4brains" / "node_modules"
LOG4BRAINS = LOG4BRAINS_MODULES / ".bin" / "log4brains"
TOOL_ENV = {"EDITOR": "true", "VISUAL": "true", "ADR_DATE": "2024-01-02", "TZ": "UTC",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
# Log4brains' own template (what `log4brains init` writes), shortened.
L4B_TEMPLATE = """# [short title of solved problem and solution]

- Status: [draft | proposed | rejected | accepted | deprecated | … | superseded by [xxx](yyyymmdd-xxx.md)] <!-- optional -->
- Deciders: [list everyone involved in the decision] <!-- optional -->
- Date: [YYYY-MM-DD when the decision was last updated] <!-- optional -->

## Context and Problem Statement

[Describe the context and problem statement.]

## Considered Options

- [option 1]
- [option 2]

## Decision Outcome

Chosen option: "[option 1]", because [justification].
"""  # noqa: E501


def run(*command: str, cwd: Path) -> str:
    done = subprocess.run(
        command, cwd=cwd, env={**os.environ, **TOOL_ENV}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture
def adr() -> str:
    found = shutil.which("adr")
    if found is None or not ADR_LIB.is_dir():
        service_missing("adr-tools is not installed (apt-get install adr-tools, or make test)")
    return found


@pytest.fixture
def log4brains() -> str:
    if not LOG4BRAINS.exists():
        service_missing("log4brains is not installed (make test installs it into .tools/)")
    return str(LOG4BRAINS)


def folder_files(folder: Path) -> list[SourceFile]:
    return [SourceFile(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]


def write_export(team, flavor: str, folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True)
    files = decisions_export_files(team=team, flavor=flavor)
    for name, text in files.items():
        (folder / name).write_text(text)
    return files


# --- adr-tools ------------------------------------------------------------------------------


@pytest.fixture
def adr_folder(adr, tmp_path) -> Path:
    """A log made by adr-tools: init, a record, one superseding it, and `adr link`s."""
    work = tmp_path / "made"
    work.mkdir()
    run(adr, "init", "doc/adr", cwd=work)
    run(adr, "new", "Use", "PostgreSQL", cwd=work)
    run(adr, "new", "-s", "2", "Use", "CockroachDB", cwd=work)
    run(adr, "new", "-l", "1:Amends:Amended by", "Use", "Redis", "for", "caching", cwd=work)
    run(adr, "link", "4", "Clarifies", "3", "Clarified by", cwd=work)
    return work / "doc" / "adr"


def test_records_made_by_adr_tools_import_with_every_field(team, user, adr_folder):
    results = decisions_import(team=team, author=user, files=folder_files(adr_folder))

    assert [(r.status, r.number, r.notes) for r in results] == [
        ("imported", n, []) for n in (1, 2, 3, 4)
    ]
    records = {d.number: d for d in DecisionRecord.objects.for_team(team)}
    assert [records[n].title for n in (1, 2, 3, 4)] == [
        "Record architecture decisions", "Use PostgreSQL", "Use CockroachDB",
        "Use Redis for caching",
    ]  # fmt: skip
    assert [records[n].status for n in (1, 2, 3, 4)] == [
        "accepted", "superseded", "accepted", "accepted",
    ]  # fmt: skip
    assert {records[n].date.isoformat() for n in records} == {"2024-01-02"}
    assert list(records[3].supersedes.values_list("number", flat=True)) == [2]
    assert records[1].context_and_problem_statement == (
        "We need to record the architectural decisions made on this project."
    )
    assert records[1].justification.startswith("We will use Architecture Decision Records")
    links = DecisionLink.objects.for_team(team).order_by("kind")
    assert [(k.source.number, k.kind, k.target.number, k.reverse) for k in links] == [
        (4, "Amends", 1, "Amended by"), (4, "Clarifies", 3, "Clarified by"),
    ]  # fmt: skip


def test_the_nygard_export_is_read_back_by_adr_tools_as_we_hold_it(
    team, user, adr, adr_folder, tmp_path
):
    decisions_import(team=team, author=user, files=folder_files(adr_folder))
    work = tmp_path / "back"
    exported = write_export(team, "nygard", work / "doc" / "adr")
    (work / ".adr-dir").write_text("doc/adr")

    listed = run(adr, "list", cwd=work).split()
    toc = run(adr, "generate", "toc", cwd=work)

    assert listed == [f"doc/adr/{name}" for name in sorted(exported) if name != "index.md"]
    assert toc.splitlines()[2:] == [
        "* [1. Record architecture decisions](0001-record-architecture-decisions.md)",
        "* [2. Use PostgreSQL](0002-use-postgresql.md)",
        "* [3. Use CockroachDB](0003-use-cockroachdb.md)",
        "* [4. Use Redis for caching](0004-use-redis-for-caching.md)",
    ]
    status = {n: run(str(ADR_LIB / "_adr_status"), str(n), cwd=work).splitlines() for n in (2, 3)}
    assert status[2] == ["Superseded by [3. Use CockroachDB](0003-use-cockroachdb.md)"]
    assert status[3][0] == "Accepted"
    links = {n: run(str(ADR_LIB / "_adr_links"), str(n), cwd=work).split() for n in (1, 3, 4)}
    assert links[1] == ["4=Amended", "by"]
    assert sorted(links[3]) == ["2=Supersedes", "4=Clarified", "by"]
    assert sorted(links[4]) == ["1=Amends", "3=Clarifies"]
    graph = run(adr, "generate", "graph", cwd=work)
    assert '_3 -> _2 [label="Supersedes", weight=0]' in graph


@pytest.mark.parametrize("flavor", ["madr4", "log4brains"])
def test_the_other_flavors_list_in_adr_tools_and_read_back_here_unchanged(
    team, user, adr, adr_folder, tmp_path, flavor
):
    decisions_import(team=team, author=user, files=folder_files(adr_folder))
    work = tmp_path / "back"
    exported = write_export(team, flavor, work / "doc" / "adr")
    (work / ".adr-dir").write_text("doc/adr")

    assert len(run(adr, "list", cwd=work).split()) == len(exported) - 1
    again = decisions_import(team=team, author=user, files=folder_files(work / "doc" / "adr"))
    assert [r.status for r in again] == ["unchanged"] * 4 + ["skipped"]


# --- Log4brains -----------------------------------------------------------------------------


def log4brains_project(path: Path) -> Path:
    (path / "docs" / "adr").mkdir(parents=True)
    (path / ".log4brains.yml").write_text(
        "project:\n  name: crossover-test\n  tz: Etc/UTC\n  adrFolder: ./docs/adr\n"
    )
    (path / "docs" / "adr" / "template.md").write_text(L4B_TEMPLATE)
    run("git", "init", "-q", ".", cwd=path)
    run("git", "add", "-A", cwd=path)
    run("git", "commit", "-qm", "init", cwd=path)
    return path / "docs" / "adr"


def edit(path: Path, **lines: str) -> None:
    """Fill in header lines as a person does after `log4brains adr new`."""
    text = path.read_text()
    for key, value in lines.items():
        head = f"- {key.capitalize()}: "
        start = text.index(head)
        text = text[:start] + head + value + text[text.index("\n", start) :]
    path.write_text(text)


def adr_list_raw(log4brains: str, project: Path) -> list[list[str]]:
    return [
        line.split(",", 3)
        for line in run(log4brains, "adr", "list", "--raw", cwd=project).split("\n")
        if line
    ]


def core_adrs(project: Path) -> list[dict]:
    script = (
        "require('@log4brains/core').Log4brains.create('.').searchAdrs().then(a => console.log("
        "JSON.stringify(a.map(x => ({slug: x.slug, title: x.title, status: x.status, "
        "supersededBy: x.supersededBy, date: x.publicationDate, deciders: x.deciders})))))"
    )
    output = subprocess.run(
        ["node", "-e", script], cwd=project, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NODE_PATH": str(LOG4BRAINS_MODULES)}, check=True,
    )  # fmt: skip
    return json.loads(output.stdout)


def test_log4brains_records_import_and_the_log4brains_export_reads_back_in_log4brains(
    team, user, log4brains, tmp_path
):
    project = tmp_path / "made"
    project.mkdir()
    folder = log4brains_project(project)
    old = Path(
        project / run(log4brains, "adr", "new", "--quiet", "Use RabbitMQ", cwd=project).strip()
    )
    new = Path(project / run(log4brains, "adr", "new", "--quiet", "Use Kafka", cwd=project).strip())
    old, new = (folder / f"{p.name}.md" if not p.suffix else p for p in (old, new))
    edit(new, status="accepted", deciders="Ann, Bob", date="2024-03-01")
    edit(old, status=f"superseded by [{new.stem}]({new.name})", deciders="Ann", date="2024-01-15")

    results = decisions_import(team=team, author=user, files=folder_files(folder))

    by_name = {r.filename: r for r in results}
    assert by_name["template.md"].status == "skipped"
    assert (by_name[old.name].number, by_name[new.name].number) == (1, 2)  # in date order
    rabbit, kafka = DecisionRecord.objects.for_team(team).order_by("number")
    assert (rabbit.title, rabbit.status, rabbit.date.isoformat()) == (
        "Use RabbitMQ", "superseded", "2024-01-15",
    )  # fmt: skip
    assert (kafka.status, kafka.decision_makers) == ("accepted", ["Ann", "Bob"])
    assert list(rabbit.superseded_by.all()) == [kafka]

    back = tmp_path / "back"
    back.mkdir()
    write_export(team, "log4brains", log4brains_project(back) / "exported")
    (back / ".log4brains.yml").write_text(
        "project:\n  name: back\n  tz: Etc/UTC\n  adrFolder: ./docs/adr/exported\n"
    )
    assert adr_list_raw(log4brains, back) == [
        [old.stem, "SUPERSEDED", "", "Use RabbitMQ"],
        [new.stem, "ACCEPTED", "", "Use Kafka"],
    ]
    read = {adr["slug"]: adr for adr in core_adrs(back)}
    assert read[old.stem]["supersededBy"] == new.stem
    assert read[new.stem]["deciders"] == ["Ann", "Bob"]
    assert read[new.stem]["date"].startswith("2024-03-01")
