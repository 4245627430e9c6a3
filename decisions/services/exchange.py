"""Decision records as MADR files: export one or all (a zip with an index), and import a zip
or loose markdown files of MADR 2/3/4, Log4brains or Nygard records.

An import validates each record with the API's schema (DecisionWriteSerializer) and imports
each file all-or-nothing in its own savepoint; what it cannot carry over (a workload or a piece
of evidence that does not exist here, a link to a missing record) is skipped and noted.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from rest_framework import serializers

from decisions import madr
from decisions.models import DecisionRecord
from decisions.selectors import decisions_with_related
from decisions.serializers import (
    DecisionSerializer,
    DecisionWriteSerializer,
    EvidenceRefSerializer,
    describe,
    error_paths,
)
from decisions.services.history import record_revision
from decisions.services.records import decision_insert
from decisions.services.status import link_supersedes
from teams.models import Team

MAX_IMPORT_FILES = 500
MAX_IMPORT_BYTES = 20 * 1024 * 1024
# What an import takes from a parsed file through the write schema; links are resolved apart.
BODY = [
    name
    for name in DecisionWriteSerializer().fields
    if name not in ("supersedes", "evidence", "note")
]


# --- export ---------------------------------------------------------------------------------


def export_data(decision: DecisionRecord) -> dict:
    """The record for a MADR file: evidence by natural key, so it resolves in another team."""
    data = dict(DecisionSerializer(decision).data)
    data["evidence"] = [{"kind": link.kind, **link.ref} for link in decision.evidence_links.all()]
    return data


def decision_export_markdown(decision: DecisionRecord) -> tuple[str, str]:
    """(file name, MADR 4 markdown) of one decision."""
    data = export_data(decision)
    return madr.filename(data), madr.export_record(data)


def decisions_export_zip(*, team: Team) -> bytes:
    """Every decision of the team as MADR 4 files plus an index.md, zipped."""
    records = [
        export_data(d)
        for d in decisions_with_related(DecisionRecord.objects.for_team(team)).order_by("number")
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(madr.filename(record), madr.export_record(record))
        archive.writestr("index.md", madr.export_index(records))
    return buffer.getvalue()


# --- import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What happened to one file of an import."""

    filename: str
    status: str  # imported | error | skipped
    number: int | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return madr.code(self.number) if self.number else ""


def decisions_import_zip(*, team: Team, author, data: bytes) -> list[ImportResult]:
    """Import the markdown files of a zip (e.g. an exported folder or an adr-tools `doc/adr`)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationError({"file": ["This is not a zip archive."]}) from None
    members = [info for info in archive.infolist() if _is_member(info)]
    if len(members) > MAX_IMPORT_FILES:
        raise ValidationError({"file": [f"At most {MAX_IMPORT_FILES} files per archive."]})
    if sum(info.file_size for info in members) > MAX_IMPORT_BYTES:
        raise ValidationError({"file": ["The archive unpacks to more than 20 MB."]})
    files = [(info.filename, archive.read(info)) for info in members]
    return decisions_import(team=team, author=author, files=files)


def _is_member(info: zipfile.ZipInfo) -> bool:
    hidden = info.filename.rsplit("/", 1)[-1].startswith(".")
    return not info.is_dir() and "__MACOSX/" not in info.filename and not hidden


@dataclass
class _Parsed:
    result: ImportResult
    record: dict
    original: int | None
    decision: DecisionRecord | None = None
    done: bool = False
    # Links declared by earlier files towards this one: (their record, "supersedes" | …).
    waiting: list[tuple[DecisionRecord, str]] = field(default_factory=list)


def decisions_import(*, team: Team, author, files: list[tuple[str, bytes]]) -> list[ImportResult]:
    """Import MADR 2/3/4 or Nygard markdown files, each all-or-nothing in its own savepoint.

    Numbers are kept when free (else the next free one, and the result says so); statuses are
    taken as written (an import records history, it does not re-decide, so it does not change
    any workload's approach); supersession links between files follow the renumbering.
    """
    results = [ImportResult(filename=name, status="error") for name, _ in files]
    parsed = [
        item
        for result, (_, content) in zip(results, files, strict=True)
        if (item := _parse(result, content)) is not None
    ]
    parsed.sort(key=lambda p: (p.original is None, p.original or 0, p.result.filename))
    by_original: dict[int, _Parsed] = {}
    for item in parsed:
        if item.original is not None:
            by_original.setdefault(item.original, item)
    for item in parsed:
        _import_file(team, author, item, by_original)
    return results


def _parse(result: ImportResult, content: bytes) -> _Parsed | None:
    if not madr.is_record_filename(result.filename):
        result.status, result.message = "skipped", "not a decision record (index or non-.md)"
        return None
    try:
        record = madr.parse_record(content.decode("utf-8"), result.filename)
    except UnicodeDecodeError:
        result.message = "not UTF-8 text"
        return None
    except madr.MadrError as exc:
        result.message = str(exc)
        return None
    return _Parsed(result, record, record.get("number"))


def _import_file(team: Team, author, item: _Parsed, by_original: dict[int, _Parsed]) -> None:
    result = item.result
    try:
        with transaction.atomic():
            item.decision = _import_one(team, author, item, by_original)
    except ValidationError as exc:
        result.status, result.message, result.notes = "error", describe_error(exc), []
        return
    finally:
        item.done = True
    result.status, result.number = "imported", item.decision.number
    result.message = f"imported as {item.decision.code}"


def _import_one(team: Team, author, item: _Parsed, by_original: dict) -> DecisionRecord:
    record, notes = item.record, item.result.notes
    fields = _validated(_body(team, record, notes))
    fields["evidence"] = _evidence(team, record.get("evidence") or [], notes)
    decision = decision_insert(
        team=team, author=author, fields=fields, number=item.original, status=record["status"]
    )
    if item.original and decision.number != item.original:
        notes.append(f"{madr.code(item.original)} was taken: imported as {decision.code}")
    elif not item.original:
        notes.append(f"the file has no number: imported as {decision.code}")
    for newer, older in _links(team, item, decision, by_original):
        if not newer.supersedes.filter(pk=older.pk).exists():
            link_supersedes(newer, older)
    record_revision(decision, author, f"Imported from {item.result.filename}")
    return decision


def _body(team: Team, record: dict, notes: list[str]) -> DecisionWriteSerializer:
    """The record's fields through the write schema; a workload missing here is dropped."""
    body = {key: record[key] for key in BODY if key in record}
    serializer = DecisionWriteSerializer(data=body, context={"team": team})
    serializer.is_valid()
    missing = {error.code for error in serializer.errors.get("workload", [])}
    if "does_not_exist" in missing:
        notes.append(f"workload '{body['workload']}' does not exist here: imported without it")
        serializer = DecisionWriteSerializer(
            data={**body, "workload": None}, context={"team": team}
        )
    return serializer


def _validated(serializer: serializers.Serializer) -> dict:
    if not serializer.is_valid():
        raise ValidationError(error_paths(serializer.errors))
    return dict(serializer.validated_data)


def _evidence(team: Team, refs: list, notes: list[str]) -> list[models.Model]:
    found = []
    for ref in refs:
        serializer = EvidenceRefSerializer(data=ref, context={"team": team})
        if serializer.is_valid():
            found.append(serializer.validated_data)
        else:
            notes.append(f"evidence {ref} not found here: link skipped")
    return found


def _links(team: Team, item: _Parsed, decision: DecisionRecord, by_original: dict) -> list:
    """(newer, older) pairs: this file's own references, then earlier files' references to it.
    A reference to a file not imported yet waits on that file."""
    pairs = []
    for relation in ("supersedes", "superseded_by"):
        for number in item.record.get(relation) or []:
            source = by_original.get(number)
            if source is not None and source is not item and not source.done:
                source.waiting.append((decision, relation))
                continue
            other = _linked_record(team, source, number)
            if other is None or other == decision:
                notes = item.result.notes
                notes.append(f"{relation.replace('_', ' ')} {madr.code(number)}: not found here, "
                             "link skipped")  # fmt: skip
                continue
            pairs.append((decision, other) if relation == "supersedes" else (other, decision))
    for earlier, relation in item.waiting:
        pairs.append((earlier, decision) if relation == "supersedes" else (decision, earlier))
    return pairs


def _linked_record(team: Team, source: _Parsed | None, number: int) -> DecisionRecord | None:
    if source is not None:
        return source.decision
    return DecisionRecord.objects.for_team(team).filter(number=number).first()


def describe_error(exc: ValidationError) -> str:
    """One line naming each field and its problem, for a message or an import report."""
    return describe(exc.message_dict) if hasattr(exc, "error_dict") else " ".join(exc.messages)
