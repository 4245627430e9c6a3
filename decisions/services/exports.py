"""Exporting decision records as markdown files in the flavors of decisions.madr (`madr4`,
`nygard`, `log4brains`): one record, or all of a team's in a zip with an `index.md`. An imported
record keeps its source file's name, so that links written in its text still resolve."""

from __future__ import annotations

import io
import zipfile
from itertools import batched

from decisions import madr
from decisions.models import DecisionRecord
from decisions.selectors import decisions_with_related
from decisions.serializers import DecisionSerializer
from teams.models import Team

EXPORT_CHUNK = 500


def export_data(decision: DecisionRecord) -> dict:
    """The record for a markdown file: evidence by natural key (so that it resolves in another
    team), and the exporting team (so that re-importing its own export changes nothing)."""
    return export_data_many([decision])[0]


def export_data_many(decisions: list[DecisionRecord]) -> list[dict]:
    """`export_data` of several records through one serializer (its fields are built once, not
    once per record)."""
    found = []
    for decision, item in zip(
        decisions, DecisionSerializer(decisions, many=True).data, strict=True
    ):
        data = dict(item)
        links = decision.evidence_links.all()
        data["evidence"] = [{"kind": link.kind, **link.ref} for link in links]
        data["team"] = decision.team.slug
        found.append(data)
    return found


def _linked_numbers(data: dict) -> set[int]:
    numbers = {*data["supersedes"], *data["superseded_by"]}
    return numbers | {link["number"] for link in data["related"]}


def decision_export_markdown(decision: DecisionRecord, flavor: str = "madr4") -> tuple[str, str]:
    """(file name, markdown) of one decision; its link lines name the linked records' files as
    a whole export would."""
    data = export_data(decision)
    linked = DecisionRecord.objects.for_team(decision.team).filter(number__in=_linked_numbers(data))
    others = list(linked.values("number", "title", "source_name"))
    names = {record["number"]: madr.export_name(record, flavor) for record in [data, *others]}
    titles = {record["number"]: record["title"] for record in others}
    text = madr.export_record(data, flavor, names=names, titles=titles)
    return names[data["number"]], text


def decisions_export_zip(*, team: Team, flavor: str = "madr4") -> bytes:
    """Every decision of the team as markdown files of `flavor`, plus an index.md, zipped."""
    queryset = DecisionRecord.objects.for_team(team).order_by("number")
    # Prefetched a chunk at a time: bounded IN lists and memory, whatever the log's size.
    related = decisions_with_related(queryset).iterator(chunk_size=EXPORT_CHUNK)
    records = [
        data for chunk in batched(related, EXPORT_CHUNK) for data in export_data_many(list(chunk))
    ]
    names = madr.export_names(records, flavor)
    titles = {record["number"]: record["title"] for record in records}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            text = madr.export_record(record, flavor, names=names, titles=titles)
            archive.writestr(names[record["number"]], text)
        archive.writestr("index.md", madr.export_index(records, names))
    return buffer.getvalue()


def decisions_export_files(*, team: Team, flavor: str = "madr4") -> dict[str, str]:
    """{file name: markdown} of the whole export, index.md included (for a folder on disk)."""
    with zipfile.ZipFile(io.BytesIO(decisions_export_zip(team=team, flavor=flavor))) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}
