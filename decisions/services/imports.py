"""Importing ADR folders: markdown files of MADR 2/3/4, Log4brains or Nygard records, loose or
zipped (decisions.services.archives reads the upload).

The rule, whatever the way in (the import page, the API, `manage.py import_decisions`): an
upload that cannot be read as a whole is refused and nothing is stored; otherwise each file is
atomic. It is imported, updated, reported unchanged, or reported with the reason it was not
(an error, or a conflict with a frozen record), and then nothing of it is stored; the other
files go on. Each record is validated by the API's write schema.

Identity comes from the source: a file whose name matches a record imported before is that
record again (unchanged when its text hash matches; a draft is updated; an accepted record
whose body would change is a conflict), and a team's own export maps back to its records.
Numbers are kept when free, else the next free one; files without a number are numbered in
date order. Links between files resolve by file name, then by number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from decisions import madr
from decisions.models import BODY_FIELDS, DecisionRecord, DecisionStatus
from decisions.serializers import (
    DecisionWriteSerializer,
    EvidenceRefSerializer,
    describe_error,
    error_paths,
)
from decisions.services.archives import MAX_FILE_BYTES, SourceFile
from decisions.services.history import record_revision
from decisions.services.links import link_related
from decisions.services.records import apply_field, decision_insert, field_differs
from decisions.services.status import link_supersedes
from teams.models import Team

# What an import takes from a parsed file through the write schema; links are resolved apart.
BODY = [name for name in DecisionWriteSerializer().fields if name not in ("supersedes", "note")]
OUTCOMES = ("imported", "updated", "unchanged", "conflict", "error", "skipped")


@dataclass
class ImportResult:
    """What happened to one file of an import."""

    filename: str
    status: str = "error"  # one of OUTCOMES
    number: int | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return madr.code(self.number) if self.number else ""


@dataclass
class _File:
    result: ImportResult
    record: dict
    base: str
    digest: str
    decision: DecisionRecord | None = None
    wrote: str = ""  # "Imported" | "Re-imported" once stored


def decisions_import(
    *, team: Team, author, files: list[SourceFile], default_status: str = DecisionStatus.ACCEPTED
) -> list[ImportResult]:
    """Import the files of an upload; one result per file, in upload order. A file without a
    status gets `default_status` (Log4brains reads such files as accepted), and says so."""
    results = [ImportResult(filename=file.name) for file in files]
    parsed: list[_File] = []
    names: set[str] = set()
    for result, file in zip(results, files, strict=True):
        item = _parse(result, file, names)
        if item is not None:
            parsed.append(item)
            names.add(item.base.lower())
    parsed.sort(key=_order)
    with transaction.atomic():
        for item in parsed:
            _store(team, author, item, default_status)
        index = _Index(team, parsed)
        for item in parsed:
            if item.wrote:
                _link(item, index)
        for item in parsed:
            if item.wrote:
                record_revision(item.decision, author, f"{item.wrote} from {item.result.filename}")
    return results


def _order(item: _File) -> tuple:
    # Numbered files by number, then the others in date order (Log4brains' date slugs).
    number, date = item.record["number"], item.record["date"] or "9999-12-31"
    return (number is None, number or 0, date, item.base)


def _parse(result: ImportResult, file: SourceFile, names: set[str]) -> _File | None:
    base = madr.base_name(file.name)
    if not madr.is_record_filename(file.name):
        result.status, result.message = (
            "skipped",
            "not a decision record (index, template or non-.md)",
        )
        return None
    if len(file.content) > MAX_FILE_BYTES:
        result.message = f"larger than {MAX_FILE_BYTES // 2**20} MiB"
        return None
    if len(base) > 255 or base.lower() in names:
        result.message = (
            "another file of this upload has the same name" if len(base) <= 255 else "name too long"
        )
        return None
    try:
        text = file.content.decode("utf-8")
    except UnicodeDecodeError:
        result.message = "not UTF-8 text"
        return None
    if "\x00" in text:
        result.message = "the file holds NUL characters (\\u0000): it is not a text file"
        return None
    try:
        record = madr.parse_record(text, base)
    except madr.MadrError as exc:
        result.message = str(exc)
        return None
    result.notes += record.pop("notes")
    normalised = text.replace("\r\n", "\n").lstrip("\ufeff").encode()
    return _File(result, record, base, hashlib.sha256(normalised).hexdigest())


# --- storing one file -----------------------------------------------------------------------


def _store(team: Team, author, item: _File, default_status: str) -> None:
    result = item.result
    notes_before = list(result.notes)
    try:
        with transaction.atomic():  # a savepoint: a file that fails leaves nothing
            _store_one(team, author, item, default_status)
    except ValidationError as exc:
        result.status, result.message, result.notes = "error", describe_error(exc), notes_before
        item.decision, item.wrote = None, ""


def _store_one(team: Team, author, item: _File, default_status: str) -> None:
    record, result = item.record, item.result
    status = record["status"]
    if status is None:
        status = default_status
        result.notes.append(f"no status in the file: imported as {status}")
    fields = _fields(team, record, result.notes)
    fields.update(status_text=record["status_text"][:100], source_hash=item.digest)
    existing = _existing(team, item)
    if existing is None:
        number = record["number"]
        fields["source_name"] = item.base
        decision = decision_insert(
            team=team, author=author, fields=fields, number=number, status=status
        )
        if number and decision.number != number:
            result.notes.append(f"{madr.code(number)} was taken: imported as {decision.code}")
        elif not number:
            result.notes.append(f"the file has no number: imported as {decision.code}")
        item.decision, item.wrote = decision, "Imported"
        result.status, result.number = "imported", decision.number
        result.message = f"imported as {decision.code}"
        return
    item.decision, result.number = existing, existing.number
    if existing.source_hash == item.digest:
        result.status, result.message = "unchanged", f"unchanged: {existing.code}"
        return
    _update(existing, item, fields, status)


def _update(decision: DecisionRecord, item: _File, fields: dict, status: str) -> None:
    """A changed file of a record imported before: a draft takes the file's text; a frozen
    record takes what may still change (status along the machine, triggers, links)."""
    result = item.result
    changed = [
        name
        for name, value in fields.items()
        if name != "source_hash" and field_differs(decision, name, value)
    ]
    if not changed and status == decision.status:  # e.g. the team's own export
        result.status, result.message = "unchanged", f"unchanged: {decision.code}"
        return
    frozen = [name for name in changed if name in BODY_FIELDS] if decision.is_frozen else []
    moves = status != decision.status
    if frozen or (moves and decision.is_frozen and status not in decision.allowed_transitions):
        what = ", ".join(frozen) or f"its status ({decision.status} → {status})"
        result.status = "conflict"
        result.message = (
            f"{decision.code} is {decision.status}, its body frozen, and the file changes "
            f"{what}: nothing imported. Record the change as a new decision that supersedes it."
        )
        return
    for name in changed:
        apply_field(decision, name, fields[name])
    decision.status, decision.source_hash = status, fields["source_hash"]
    decision.updated_at = timezone.now()
    decision.save()
    item.wrote = "Re-imported"
    result.status, result.message = "updated", f"updated {decision.code}"


def _existing(team: Team, item: _File) -> DecisionRecord | None:
    """The record this file was imported as before, or (for the team's own export) the record
    it was exported from."""
    records = DecisionRecord.objects.for_team(team)
    found = records.filter(source_name=item.base).first()
    number = item.record["number"]
    if found is None and item.record["exported_by"] == team.slug and number:
        found = records.filter(number=number).first()
    return found


def _fields(team: Team, record: dict, notes: list[str]) -> dict:
    """The record's fields through the write schema; a workload or evidence missing here is
    dropped and noted; a date the file did not give stays unknown."""
    body = {key: record[key] for key in BODY if key in record and key != "evidence"}
    body["workload"] = body.get("workload") or None  # a file without one
    context = {"team": team, "imported": True}
    serializer = DecisionWriteSerializer(data=body, context=context)
    serializer.is_valid()
    missing = {error.code for error in serializer.errors.get("workload", [])}
    if "does_not_exist" in missing:
        notes.append(f"workload '{body['workload']}' does not exist here: imported without it")
        serializer = DecisionWriteSerializer(data={**body, "workload": None}, context=context)
    if not serializer.is_valid():
        raise ValidationError(error_paths(serializer.errors))
    fields = dict(serializer.validated_data)
    if not record["date"]:
        fields["date"] = None
    fields["evidence"] = _evidence(team, record.get("evidence") or [], notes)
    return fields


def _evidence(team: Team, refs: object, notes: list[str]) -> list[models.Model]:
    if not isinstance(refs, list):
        raise ValidationError({"evidence": ["Expected a list of evidence references."]})
    found = []
    for ref in refs:
        serializer = EvidenceRefSerializer(data=ref, context={"team": team})
        if serializer.is_valid():
            found.append(serializer.validated_data)
        else:
            notes.append(f"evidence {str(ref)[:200]} not found here: link skipped")
    return found


# --- links between files --------------------------------------------------------------------


class _Index:
    """Resolves a file's references: a file of this upload by name, then by its number as
    written; else a record of the team by source name, then by number."""

    def __init__(self, team: Team, parsed: list[_File]):
        self.records = DecisionRecord.objects.for_team(team)
        self.by_name = {item.base.lower(): item for item in parsed}
        self.by_number: dict[int, _File] = {}
        for item in parsed:
            if item.record["number"] is not None:
                self.by_number.setdefault(item.record["number"], item)

    def find(self, ref: madr.Ref) -> tuple[DecisionRecord | None, str]:
        item = self.by_name.get(ref.name.lower()) if ref.name else None
        if item is None and ref.number is not None and not ref.name:
            item = self.by_number.get(ref.number)
        if item is not None:
            return item.decision, "" if item.decision else "that file was not imported"
        found = self.records.filter(source_name=ref.name).first() if ref.name else None
        if found is None and ref.number is not None:
            found = self.records.filter(number=ref.number).first()
        return found, "" if found else "not found here"


def _link(item: _File, index: _Index) -> None:
    decision, record = item.decision, item.record
    wanted = [("Supersedes", ref, None) for ref in record["supersedes"]]
    wanted += [("Superseded by", ref, None) for ref in record["superseded_by"]]
    wanted += [(link["label"], link["ref"], link["label"]) for link in record["related"]]
    for label, ref, related in wanted:
        other, why = index.find(ref)
        target = ref.name or madr.code(ref.number)
        if other is None or other.pk == decision.pk:
            item.result.notes.append(f"{label} {target}: {why or 'itself'}, link skipped")
            continue
        try:
            with transaction.atomic():
                if related:
                    link_related(source=decision, target=other, label=related)
                elif label == "Supersedes":
                    _supersede(decision, other)
                else:
                    _supersede(other, decision)
        except ValidationError as exc:
            item.result.notes.append(f"{label} {target}: {describe_error(exc)} Link skipped.")


def _supersede(newer: DecisionRecord, older: DecisionRecord) -> None:
    if not newer.supersedes.filter(pk=older.pk).exists():
        link_supersedes(newer, older)
