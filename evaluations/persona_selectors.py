"""Shared reads of persona specs, their versions and the attacks that mention them."""

from __future__ import annotations

from django.db.models import Max, QuerySet

from evaluations.persona_models import PersonaSpec, PersonaVersion


def personas_with_latest(team) -> QuerySet[PersonaSpec]:
    """The team's persona specs, each annotated with `latest_version` (its newest number)."""
    return (
        PersonaSpec.objects.for_team(team)
        .select_related("prompt", "team")
        .annotate(latest_version=Max("versions__number"))
    )


def versions_of(spec: PersonaSpec) -> QuerySet[PersonaVersion]:
    """A spec's versions, newest first, with what their authors' names need."""
    return spec.versions.order_by("-number").select_related("spec", "author", "author_token")
