"""Writes for teams, memberships and API tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from teams.models import ApiToken, Membership, Role, Scope, Team, hash_token

User = get_user_model()


def team_create(*, slug: str, name: str = "", admin=None) -> Team:
    """Create a team (its default prices included), optionally with a first admin."""
    from evaluations.pricing import seed_default_prices

    slug = slug.strip().lower()
    if not slug or slugify(slug) != slug:
        raise ValidationError({"slug": "Use lowercase letters, digits and hyphens only."})
    if Team.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A team with slug '{slug}' already exists."})
    with transaction.atomic():
        team = Team.objects.create(slug=slug, name=name or slug.replace("-", " ").title())
        if admin is not None:
            Membership.objects.create(team=team, user=admin, role=Role.ADMIN)
        seed_default_prices(team)
    return team


def validate_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ValidationError(
            {"scopes": f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(Scope.values)}."}
        )
    if not scopes:
        raise ValidationError({"scopes": "Choose at least one scope."})
    return sorted(set(scopes))


def api_token_create(*, team: Team, name: str, scopes: list[str], created_by=None):
    """Create a token; returns (token, raw). The raw token is never stored and shown once."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name."})
    scopes = validate_scopes(scopes)
    raw, prefix = ApiToken.generate()
    token = ApiToken.objects.create(
        team=team,
        name=name,
        prefix=prefix,
        token_hash=hash_token(raw),
        scopes=scopes,
        created_by=created_by,
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def describe(exc: ValidationError) -> str:
    """One line for a command-line error: `field: message; field: message`."""
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
