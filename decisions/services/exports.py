"""Exporting decision records as markdown files in the flavors of decisions.madr (`madr4`,
`nygard`, `log4brains`): one record, or all of a team's in a zip with an `index.md`. An imported
record keeps its source file's name, so that links written in its text still resolve.

A log of more than `INLINE_EXPORT_LIMIT` records is too large to zip inside a request (about
0.75 s per 1,000 records on an idle machine, several times that under load, against the web
workers' 30 s timeout): it is exported by `decision_export_start`, which a worker builds
(`decision_export_build`, progress in records) into a `DecisionExport` to download."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from itertools import batched

from django.db import transaction
from django.utils import timezone

from decisions import madr
from decisions.models import DecisionExport, DecisionRecord, ExportStatus
from decisions.selectors import decisions_with_related
from decisions.serializers import DecisionSerializer
from teams.models import Team

logger = logging.getLogger(__name__)

EXPORT_CHUNK = 500
INLINE_EXPORT_LIMIT = 2_000  # records: above it, an export is built by a worker
KEPT_EXPORTS = 5  # per team: older ones are deleted when a new one starts

Progress = Callable[[int, int], None]  # (records done, records in all)


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


def export_too_large(team: Team) -> bool:
    """Whether the team's log is past what is zipped inside a request."""
    return DecisionRecord.objects.for_team(team).count() > INLINE_EXPORT_LIMIT


def decisions_export_zip(
    *, team: Team, flavor: str = "madr4", progress: Progress | None = None
) -> bytes:
    """Every decision of the team as markdown files of `flavor`, plus an index.md, zipped;
    `progress(done, total)` is told after each chunk of records is read."""
    queryset = DecisionRecord.objects.for_team(team).order_by("number")
    total = queryset.count() if progress else 0
    if progress:
        progress(0, total)  # the size is known before the first chunk is read
    # Prefetched a chunk at a time: bounded IN lists and memory, whatever the log's size.
    related = decisions_with_related(queryset).iterator(chunk_size=EXPORT_CHUNK)
    records: list[dict] = []
    for chunk in batched(related, EXPORT_CHUNK):
        records.extend(export_data_many(list(chunk)))
        if progress:
            progress(len(records), total)
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


# Built by a worker ------------------------------------------------------------------------------


def decision_export_start(*, team: Team, flavor: str = "madr4", user=None) -> DecisionExport:
    """Queue an export of the team's whole log; a worker builds it after commit. The team's
    exports beyond the latest `KEPT_EXPORTS` are deleted (an export is a snapshot to download,
    not a record to keep)."""
    from decisions.tasks import build_decision_export

    if flavor not in madr.FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}")
    with transaction.atomic():
        export = DecisionExport.objects.create(team=team, flavor=flavor, created_by=user)
        kept = DecisionExport.objects.for_team(team).values("pk")[:KEPT_EXPORTS]
        DecisionExport.objects.for_team(team).exclude(pk__in=kept).delete()
        transaction.on_commit(lambda: build_decision_export.delay(export.pk), robust=True)
    return export


def decision_export_build(*, export_id: int) -> str:
    """Build a queued (or interrupted) export: progress as records are read, then the archive.
    Returns its status; one that is done, failed or gone is left as it is."""
    claimed = DecisionExport.objects.filter(
        pk=export_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).update(status=ExportStatus.RUNNING, done=0)
    export = DecisionExport.objects.select_related("team").filter(pk=export_id).first()
    if not claimed or export is None:
        return export.status if export else "gone"

    def progress(done: int, total: int) -> None:
        DecisionExport.objects.filter(pk=export_id).update(done=done, total=total)

    try:
        data = decisions_export_zip(team=export.team, flavor=export.flavor, progress=progress)
    except Exception as error:  # noqa: BLE001 - the export must end, and say why
        logger.exception("decision export %s failed", export_id)
        DecisionExport.objects.filter(pk=export_id).update(
            status=ExportStatus.FAILED, failure=f"The export failed: {error}",
            finished_at=timezone.now(),
        )  # fmt: skip
        return ExportStatus.FAILED
    DecisionExport.objects.filter(pk=export_id).update(
        status=ExportStatus.DONE, archive=data, size=len(data), finished_at=timezone.now()
    )
    return ExportStatus.DONE
