"""Shared reads of the prompt registry: lists, the one-query resolve lookup, references,
labels with their history, token figures."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import RowNumber

from prompts import content as prompt_content
from prompts import gate, rendering
from prompts.checking import DEFAULT_LABEL, Reference
from prompts.content import Resolution, Target
from prompts.models import LATEST, PromptLabel, PromptLabelMove, PromptTemplate, PromptVersion
from teams.models import Team

PRODUCTION = DEFAULT_LABEL


def template_list(*, team: Team, q: str = "", tag: str = "") -> QuerySet[PromptTemplate]:
    """The team's templates with their latest version number and labels (two queries)."""
    rows = (
        PromptTemplate.objects.for_team(team)
        .annotate(latest_number=Max("versions__number"))
        .prefetch_related(
            Prefetch("labels", queryset=PromptLabel.objects.select_related("version"))
        )
        .order_by("slug")
    )
    if q:
        rows = rows.filter(
            Q(slug__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q)
        )
    if tag:
        # Tags are slugs, so the quoted JSON string matches exactly one element of the list.
        rows = rows.filter(tags__icontains=f'"{tag}"')
    return rows


def template_tags(*, team: Team) -> list[str]:
    tags = PromptTemplate.objects.for_team(team).values_list("tags", flat=True)
    return sorted({tag for row in tags for tag in row})


def template_for(*, team: Team, slug: str) -> PromptTemplate | None:
    return PromptTemplate.objects.for_team(team).filter(slug=slug).first()


def _label_names() -> Subquery:
    names = (
        PromptLabel.objects.filter(version=OuterRef("pk"))
        .values("version")
        .annotate(names=StringAgg("label", Value(",")))
        .values("names")
    )
    return Subquery(names)


def _latest_number() -> Subquery:
    newest = PromptVersion.objects.filter(template=OuterRef("template")).order_by("-number")
    return Subquery(newest.values("number")[:1])


def _annotated(queryset: QuerySet[PromptVersion]) -> QuerySet[PromptVersion]:
    return queryset.annotate(
        template_slug=F("template__slug"),
        label_names=_label_names(),
        latest_number=_latest_number(),
    )


def version_labels(version: PromptVersion) -> list[str]:
    """The labels on a version fetched by this module (`latest` included when it is newest)."""
    labels = version.label_names.split(",") if version.label_names else []
    if version.number == version.latest_number:
        labels.append(LATEST)
    return sorted(labels)


# The resolve hot path: one hand-written query read through a plain cursor, because building
# the same query through the ORM (two subqueries, annotations), and even reading it through
# QuerySet.raw(), took most of a resolve's time.
_LOOKUP_FIELDS = ("id", "team_id", "template_id", "number", "kind", "messages", "text", "model",
                  "config", "few_shot", "content_hash", "variables", "static_tokens",
                  '"references"')  # fmt: skip
_JSON_FIELDS = {"messages", "config", "few_shot", "variables", "references"}
_LOOKUP_SQL = """
SELECT {fields}, t.slug,
       (SELECT {labels} FROM {label_table} l WHERE l.version_id = v.id),
       (SELECT MAX(n.number) FROM {version_table} n WHERE n.template_id = v.template_id)
FROM {version_table} v JOIN {template_table} t ON t.id = v.template_id
WHERE t.team_id = %s AND t.slug = %s AND {condition}
ORDER BY v.number DESC
LIMIT 1
"""
_CONDITIONS = {
    "number": "v.number = %s",
    "label": "EXISTS (SELECT 1 FROM {label_table} x WHERE x.version_id = v.id AND x.label = %s)",
    "latest": "1 = 1",
}


@functools.cache
def _lookup_sql(condition: str, vendor: str) -> str:
    tables = {
        "label_table": PromptLabel._meta.db_table,
        "version_table": PromptVersion._meta.db_table,
        "template_table": PromptTemplate._meta.db_table,
    }
    labels = "string_agg(l.label, ',')" if vendor == "postgresql" else "group_concat(l.label, ',')"
    return _LOOKUP_SQL.format(
        fields=", ".join(f"v.{name}" for name in _LOOKUP_FIELDS),
        labels=labels,
        condition=_CONDITIONS[condition].format(**tables),
        **tables,
    )


def version_lookup(
    *, team: Team, slug: str, label: str | None = None, number: int | None = None
) -> PromptVersion | None:
    """The version `slug` resolves to by number, or label (default production; `latest` is the
    newest), with its labels and the newest number: one query. Fields the resolve does not
    need (author, commit message, created_at, warnings) load on access."""
    label = label or PRODUCTION
    if number is not None:
        condition, params = "number", [number]
    elif label == LATEST:
        condition, params = "latest", []
    else:
        condition, params = "label", [label]
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(condition, connection.vendor), [team.pk, slug, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    *values, template_slug, label_names, latest_number = row
    names = [name.strip('"') for name in _LOOKUP_FIELDS]
    values = [
        json.loads(value) if name in _JSON_FIELDS and isinstance(value, str) else value
        for name, value in zip(names, values, strict=True)
    ]
    version = PromptVersion.from_db(connection.alias, names, values)
    version.template_slug = template_slug
    version.label_names = label_names
    version.latest_number = latest_number
    return version


def recent_versions(*, team: Team, per_template: int = 10) -> list[PromptVersion]:
    """The newest `per_template` versions of each of the team's templates, with their template,
    by template slug: what a picker offers."""
    rank = Window(RowNumber(), partition_by=[F("template_id")], order_by=F("number").desc())
    return list(
        PromptVersion.objects.for_team(team)
        .annotate(rank=rank)
        .filter(rank__lte=per_template)
        .select_related("template")
        .only("number", "static_tokens", "template__slug", "template__name")
        .order_by("template__slug", "-number")
    )


def versions_of(template: PromptTemplate) -> QuerySet[PromptVersion]:
    return _annotated(
        template.versions.select_related("author", "author_token", "template")
    ).order_by("-number")


def lookup_failure(*, team: Team, slug: str, label: str | None, number: int | None) -> str:
    """Why version_lookup found nothing, for the 404 message (only on that path)."""
    template = template_for(team=team, slug=slug)
    if template is None:
        return "No prompt with this slug in this team."  # never echo: no existence leak
    if number is not None:
        return f"{slug} has no version {number}."
    if not template.versions.exists():
        return f"{slug} has no versions yet."
    return f"{slug} has no '{label or PRODUCTION}' label."


# References -------------------------------------------------------------------------------------


def reference_fetcher(team: Team) -> prompt_content.Fetch:
    """Looks up a set of references of `team` in one query (one call per level of nesting)."""

    def fetch(refs: set[Reference]) -> Mapping[Reference, Target]:
        condition = Q(pk__in=[])
        for ref in refs:
            if ref.version is not None:
                condition |= Q(template__slug=ref.slug, number=ref.version)
            elif ref.label == LATEST:
                condition |= Q(template__slug=ref.slug, number=F("latest_number"))
            else:
                labelled = PromptLabel.objects.filter(version=OuterRef("pk"), label=ref.label)
                condition |= Q(Exists(labelled), template__slug=ref.slug)
        rows = list(_annotated(PromptVersion.objects.for_team(team)).filter(condition))
        found = {}
        for ref in refs:
            for row in rows:
                labels = version_labels(row)
                if row.template_slug == ref.slug and (
                    row.number == ref.version if ref.version is not None else ref.label in labels
                ):
                    found[ref] = Target(
                        row.template_slug, row.number, row.content_hash, row.kind, row.text
                    )
        return found

    return fetch


def version_resolution(version: PromptVersion, team: Team) -> Resolution:
    """The version's templates with their references resolved now; raises ContentInvalid
    (or TemplateInvalid for a stored template that the checks refuse)."""
    content = version.content
    analyses = prompt_content.analyze(content)
    if not any(analysis.references for analysis in analyses):
        return Resolution([rendering.plain(source) for _, source in content.sources()], {})
    # Versions read through this module carry their template's slug; others fetch it.
    slug = getattr(version, "template_slug", None) or version.template.slug
    return prompt_content.resolve(slug, content, analyses, reference_fetcher(team))


@dataclass(frozen=True)
class Figures:
    """What a version's content amounts to with its references resolved now."""

    resolution: Resolution
    static_tokens: int
    variables: list[str]
    warnings: list[str]


def content_figures(*, team: Team, slug: str, content: prompt_content.Content) -> Figures:
    """Variables, static tokens and bloat warnings of `content` as a version of `slug`; raises
    ContentInvalid when a reference does not resolve. Saving and the editor's live panel both
    use this, so the editor shows what the saved version will say."""
    analyses = prompt_content.analyze(content)
    resolution = prompt_content.resolve(slug, content, analyses, reference_fetcher(team))
    static = prompt_content.static_tokens(content, resolution)
    inlined = [rendering.analyze_inlined(text) for text in resolution.inlined]
    return Figures(
        resolution=resolution,
        static_tokens=static,
        variables=sorted({name for analysis in inlined for name in analysis.variables}),
        warnings=prompt_content.warnings(static_tokens=static, few_shot=len(content.few_shot)),
    )


def label_static_tokens(*, template: PromptTemplate, label: str = PRODUCTION) -> int | None:
    """Static tokens of the version `label` points at, references resolved now; None when the
    label points nowhere. The prompt-overhead figure of a workload linked to `template`."""
    version = version_lookup(team=template.team, slug=template.slug, label=label)
    if version is None:
        return None
    if not version.references:
        return version.static_tokens
    resolution = version_resolution(version, template.team)
    return prompt_content.static_tokens(version.content, resolution)


# Labels -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelState:
    label: str
    version: int
    protected: bool
    implicit: bool
    updated_at: object
    history: list[PromptLabelMove]


def labels_with_history(template: PromptTemplate) -> list[LabelState]:
    """Every label of `template` (and the implicit `latest`) with its moves, newest first."""
    rows = list(template.labels.select_related("version"))
    moves = PromptLabelMove.objects.filter(template=template).select_related(
        "from_version", "to_version", "moved_by", "moved_by_token"
    )
    history: dict[str, list[PromptLabelMove]] = {}
    for move in moves:
        history.setdefault(move.label, []).append(move)
    states = [
        LabelState(
            row.label,
            row.version.number,
            template.is_protected(row.label),
            False,
            row.updated_at,
            history.get(row.label, []),
        )  # fmt: skip
        for row in rows
    ]
    newest = template.versions.order_by("-number").values_list("number", flat=True).first()
    if newest is not None:
        states.append(LabelState(LATEST, newest, False, True, None, []))
    return states


def template_export(template: PromptTemplate) -> dict:
    """The template with every version and its labels, as the import reads it back."""
    versions = template.versions.select_related("author", "author_token").order_by("number")
    return {
        "format": "crossover-prompt/1",
        "slug": template.slug,
        "name": template.name,
        "description": template.description,
        "tags": template.tags,
        "protected_labels": template.protected_labels,
        "gate": gate_data(template),
        "versions": [
            {
                "version": v.number,
                "hash": v.content_hash,
                **v.content.canonical(),
                "commit_message": v.commit_message,
                "author": v.author_name,
                "created_at": v.created_at.isoformat(),
            }
            for v in versions
        ],
        "labels": {
            row.label: row.version.number for row in template.labels.select_related("version")
        },
    }


def gate_data(template: PromptTemplate) -> dict:
    metric = template.gate_metric or "accuracy"
    enforced = template.gate_enabled and gate.is_enforced()
    if not template.gate_enabled:
        explanation = (
            "No promotion gate: editors move production freely (admins only if protected)."
        )
    else:
        explanation = (
            f"Moving production requires a finished benchmark run that compares the version "
            f"with the production version and whose {metric} is not worse than production's "
            f"by more than {template.gate_margin:g}."
        )
        if not enforced:
            explanation += " No benchmark runner is installed, so the gate is not enforced."
    return {
        "enabled": template.gate_enabled,
        "metric": template.gate_metric,
        "margin": template.gate_margin,
        "enforced": enforced,
        "explanation": explanation,
    }
