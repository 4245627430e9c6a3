"""Writes of the prompt registry: templates, immutable versions, label moves, import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from prompts import gate, selectors
from prompts.content import Content, ContentInvalid
from prompts.models import (
    LATEST,
    PromptLabel,
    PromptLabelMove,
    PromptTemplate,
    PromptVersion,
    actor_name,
)
from prompts.signals import prompt_label_moved
from teams.models import ApiToken, Team, WebhookEvent
from teams.services import webhook_emit

TEMPLATE_FIELDS = ("name", "description", "tags", "protected_labels")


def content_errors(exc: ContentInvalid) -> ValidationError:
    detail: dict[str, list[str]] = {}
    for field, message in exc.errors:
        detail.setdefault(field, []).append(message)
    return ValidationError(detail)


# Templates --------------------------------------------------------------------------------------


def prompt_template_create(
    *,
    team: Team,
    slug: str,
    name: str,
    description: str = "",
    tags: list[str] | None = None,
    protected_labels: list[str] | None = None,
    gate: dict[str, Any] | None = None,
    actor=None,
) -> PromptTemplate:
    """Create an empty template (its first version comes next)."""
    if PromptTemplate.objects.for_team(team).filter(slug=slug).exists():
        raise ValidationError({"slug": f"A prompt '{slug}' already exists in this team."})
    template = PromptTemplate(
        team=team,
        slug=slug,
        name=name,
        description=description,
        tags=tags or [],
        protected_labels=protected_labels or [],
        created_by=actor,
    )
    _apply_gate(template, gate)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:  # a concurrent create of the same slug won
        raise ValidationError({"slug": f"A prompt '{slug}' already exists in this team."}) from None
    return template


def prompt_template_update(
    *, template: PromptTemplate, changes: dict[str, Any], actor=None
) -> PromptTemplate:
    """Change name, description, tags, protected labels or the gate (the slug stays)."""
    for name in TEMPLATE_FIELDS:
        if name in changes:
            setattr(template, name, changes[name])
    if "gate" in changes:
        _apply_gate(template, changes["gate"])
    template.updated_at = timezone.now()
    template.save()
    return template


def _apply_gate(template: PromptTemplate, gate: dict[str, Any] | None) -> None:
    if gate is None:
        return
    template.gate_enabled = gate["enabled"]
    template.gate_metric = gate.get("metric", template.gate_metric)
    template.gate_margin = gate.get("margin", template.gate_margin)


# Versions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionSaved:
    version: PromptVersion
    created: bool

    @property
    def detail(self) -> str:
        number = self.version.number
        if self.created:
            return f"Saved as version {number}."
        return f"Identical to the latest version ({number}): no new version was created."


def prompt_version_create(
    *,
    template: PromptTemplate,
    content: Content,
    commit_message: str = "",
    author=None,
    token: ApiToken | None = None,
    created_at: datetime | None = None,
) -> VersionSaved:
    """Save `content` as the next version, unless it equals the latest version's content.

    Its references are resolved now and recorded with the static token count, the variables
    and the bloat warnings. Raises ValidationError for a reference that does not resolve.
    """
    try:
        figures = selectors.content_figures(team=template.team, slug=template.slug, content=content)
    except ContentInvalid as exc:
        raise content_errors(exc) from None
    with transaction.atomic():
        # One writer per template at a time: numbers are consecutive, "identical" is exact.
        PromptTemplate.objects.select_for_update().filter(pk=template.pk).first()
        latest = template.versions.order_by("-number").first()
        if latest is not None and latest.content_hash == content.hash:
            return VersionSaved(latest, created=False)
        version = PromptVersion.objects.create(
            team=template.team,
            template=template,
            number=(latest.number if latest else 0) + 1,
            kind=content.kind,
            messages=list(content.messages) if content.kind == "chat" else [],
            text=content.text if content.kind == "text" else "",
            model=content.model,
            config=dict(content.config),
            few_shot=list(content.few_shot),
            commit_message=commit_message,
            author=author,
            author_token=token,
            created_at=created_at or timezone.now(),
            content_hash=content.hash,
            variables=figures.variables,
            static_tokens=figures.static_tokens,
            warnings=figures.warnings,
            references=figures.resolution.record(),
        )
        PromptTemplate.objects.filter(pk=template.pk).update(updated_at=version.created_at)
    return VersionSaved(version, created=True)


# Labels -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelMoved:
    label: PromptLabel
    move: PromptLabelMove | None  # None when the label already pointed there
    created: bool


def prompt_label_move(
    *,
    template: PromptTemplate,
    label: str,
    number: int,
    note: str = "",
    user=None,
    token: ApiToken | None = None,
    is_admin: bool = False,
) -> LabelMoved:
    """Point `label` at version `number` (creating the label if needed), record the move,
    announce it (webhook `prompt.label_moved`, signal `prompt_label_moved` after commit).

    Rolling back is moving the label back. A protected label moves only for an admin (tokens
    have no role: they cannot); raises PermissionDenied, or ValidationError for `latest` or
    a version that does not exist.
    """
    if label == LATEST:
        raise ValidationError({"label": "latest is implicit: it is always the newest version."})
    if template.is_protected(label) and not is_admin:
        raise PermissionDenied(f"'{label}' is protected: only a team admin can move it.")
    version = template.versions.filter(number=number).first()
    if version is None:
        newest = template.versions.order_by("-number").values_list("number", flat=True).first()
        known = f"versions are 1 to {newest}" if newest else "it has no versions yet"
        raise ValidationError({"version": f"{template.slug} has no version {number} ({known})."})
    with transaction.atomic():
        PromptTemplate.objects.select_for_update().filter(pk=template.pk).first()
        row = PromptLabel.objects.filter(template=template, label=label).select_related("version")
        row = row.first()
        if row is not None and row.version_id == version.pk:
            return LabelMoved(row, None, created=False)
        note = _gate(template, label, version, row.version if row is not None else None, note)
        now = timezone.now()
        from_version = row.version if row is not None else None
        if row is None:
            row = PromptLabel.objects.create(
                team=template.team, template=template, label=label, version=version, updated_at=now
            )
        else:
            row.version, row.updated_at = version, now
            row.save(update_fields=["version", "updated_at"])
        move = PromptLabelMove.objects.create(
            team=template.team,
            template=template,
            label=label,
            from_version=from_version,
            to_version=version,
            moved_by=user,
            moved_by_token=token,
            moved_at=now,
            note=note,
        )
        webhook_emit(team=template.team, event=WebhookEvent.PROMPT_LABEL_MOVED,
                     payload=_move_payload(template, move))  # fmt: skip
        transaction.on_commit(
            lambda: prompt_label_moved.send(
                sender=PromptTemplate,
                template=template,
                label=label,
                from_version=from_version,
                to_version=version,
                move=move,
            ),
            robust=True,  # a failing receiver must not fail the move the caller already made
        )
    return LabelMoved(row, move, created=from_version is None)


def _gate(template: PromptTemplate, label: str, version: PromptVersion,
          current: PromptVersion | None, note: str) -> str:  # fmt: skip
    """Refuse a gated promotion to production the benchmarks do not support (ValidationError
    on `version`); an allowed one keeps what the evidence said in the move's note."""
    if label != selectors.PRODUCTION or not template.gate_enabled or current is None:
        return note
    verdict = gate.check(template, version, current)
    if verdict is None:
        return note
    if not verdict.allowed:
        raise ValidationError({"version": [f"The promotion gate refuses v{version.number}: "
                                           f"{verdict.reason}"]})  # fmt: skip
    return f"{note} ({verdict.reason})".strip() if note else verdict.reason


def _move_payload(template: PromptTemplate, move: PromptLabelMove) -> dict[str, Any]:
    return {
        "prompt": template.slug,
        "label": move.label,
        "from_version": move.from_version.number if move.from_version else None,
        "to_version": move.to_version.number,
        "hash": move.to_version.content_hash,
        "static_tokens": move.to_version.static_tokens,
        "moved_by": actor_name(move.moved_by, move.moved_by_token),
        "moved_at": move.moved_at,
        "note": move.note,
    }


# Import -----------------------------------------------------------------------------------------


def prompt_template_import(
    *, team: Team, template_data: dict[str, Any], versions: list[dict[str, Any]],
    labels: dict[str, int], actor=None,
) -> PromptTemplate:  # fmt: skip
    """Create a template from an export: every version in order (hashes checked by the
    caller), then its labels. All or nothing."""
    with transaction.atomic():
        template = prompt_template_create(team=team, actor=actor, **template_data)
        for item in versions:
            saved = prompt_version_create(
                template=template,
                content=item["content"],
                commit_message=item.get("commit_message", ""),
                author=actor,
                created_at=item.get("created_at"),
            )
            if not saved.created:
                raise ValidationError(
                    {"versions": f"version {item['version']} repeats the one before it."}
                )
        for label, number in labels.items():
            prompt_label_move(template=template, label=label, number=number, user=actor,
                              note="imported", is_admin=True)  # fmt: skip
    return template
