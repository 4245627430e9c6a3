"""Writes for teams, memberships, API tokens and webhooks."""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from teams.models import (
    ApiToken,
    Membership,
    Role,
    Scope,
    Team,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    hash_token,
)
from teams.netguard import RefusedURL, check_outgoing_url
from teams.signals import team_created
from teams.webhooks import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)
User = get_user_model()


def team_create(*, slug: str, name: str = "", admin=None) -> Team:
    """Create a team, optionally with a first admin; apps add their defaults (the price table)
    through `team_created`."""
    slug = slug.strip().lower()
    if not slug or slugify(slug) != slug:
        raise ValidationError({"slug": "Use lowercase letters, digits and hyphens only."})
    if Team.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A team with slug '{slug}' already exists."})
    with transaction.atomic():
        team = Team.objects.create(slug=slug, name=name or slug.replace("-", " ").title())
        if admin is not None:
            Membership.objects.create(team=team, user=admin, role=Role.ADMIN)
        team_created.send(sender=Team, team=team)
    return team


# Memberships ------------------------------------------------------------------------------------


def membership_add(*, team: Team, identifier: str, role: str) -> Membership:
    """Add an existing user, found by username or e-mail address, to `team` with `role`."""
    identifier = identifier.strip()
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    if not identifier:
        raise ValidationError({"user": "Enter a username or an e-mail address."})
    users = list(
        User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))[:2]
    )
    if not users:
        raise ValidationError({"user": f"No user with username or e-mail '{identifier}'."})
    if len(users) > 1:
        raise ValidationError({"user": f"Several users match '{identifier}': use the username."})
    if Membership.objects.filter(team=team, user=users[0]).exists():
        raise ValidationError({"user": f"{users[0].username} is already a member of {team.name}."})
    return Membership.objects.create(team=team, user=users[0], role=role)


def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    with transaction.atomic():
        if membership.role == Role.ADMIN and role != Role.ADMIN:
            _ensure_another_admin(membership)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership) -> None:
    with transaction.atomic():
        if membership.role == Role.ADMIN:
            _ensure_another_admin(membership)
        membership.delete()


def _ensure_another_admin(membership: Membership) -> None:
    # Lock the team's admin rows so that two admins cannot demote each other at the same time.
    admins = Membership.objects.select_for_update().filter(team=membership.team, role=Role.ADMIN)
    if not admins.exclude(pk=membership.pk).exists():
        raise ValidationError({"role": "A team needs at least one admin: promote someone first."})


# API tokens -------------------------------------------------------------------------------------


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
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValidationError({"name": "Use at most 100 characters."})
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


# Webhooks ---------------------------------------------------------------------------------------


def validate_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown:
        raise ValidationError({"events": f"Unknown event(s): {', '.join(unknown)}."})
    if not events:
        raise ValidationError({"events": "Choose at least one event."})
    return sorted(set(events))


def webhook_create(*, team: Team, url: str, events: list[str]) -> Webhook:
    """Create a webhook with a fresh secret (shown to the admin once, needed to verify)."""
    return Webhook.objects.create(
        team=team,
        url=check_outgoing_url(url),
        events=validate_events(events),
        secret=_new_webhook_secret(),
    )


def webhook_update(*, webhook: Webhook, url: str, events: list[str], is_active: bool) -> Webhook:
    webhook.url = check_outgoing_url(url)
    webhook.events = validate_events(events)
    webhook.is_active = is_active
    webhook.save(update_fields=["url", "events", "is_active"])
    return webhook


def webhook_rotate_secret(*, webhook: Webhook) -> Webhook:
    webhook.secret = _new_webhook_secret()
    webhook.save(update_fields=["secret"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def _new_webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def webhook_emit(*, team: Team, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Record a delivery for every active webhook of `team` that wants `event`, and deliver each
    through Celery once the surrounding transaction commits. Safe to call inside any transaction.
    """
    from teams.tasks import deliver_webhook

    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    # Store exactly what will be sent: Decimals, dates and UUIDs become JSON strings now.
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    deliveries = [
        WebhookDelivery.objects.create(team=team, webhook=hook, event=event, payload=data)
        for hook in Webhook.objects.for_team(team).filter(is_active=True)
        if hook.wants(event)
    ]
    for delivery in deliveries:
        # robust: a broker that is down must not break the request that emitted; the periodic
        # sweep (webhook_requeue_stale) enqueues what was missed.
        transaction.on_commit(lambda pk=delivery.pk: deliver_webhook.delay(pk), robust=True)
    return deliveries


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed) for a delivery: the same on every attempt."""
    envelope = {
        "id": delivery.pk,
        "event": delivery.event,
        "team": delivery.team.slug,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    retry_in: int | None = None  # seconds until the next attempt, when one is due


def webhook_deliver(*, delivery_id: int) -> DeliveryOutcome:
    """Make one delivery attempt; says when to retry. Idempotent under duplicate messages."""
    delivery = WebhookDelivery.objects.select_related("webhook", "team").get(pk=delivery_id)
    done = (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED)
    if delivery.status in done:
        return DeliveryOutcome(delivery.status)
    # Claim this attempt: of two workers holding the same message, only one sends it.
    attempt = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, attempts=delivery.attempts, status=delivery.status
    ).update(attempts=attempt)
    if claimed != 1:
        return DeliveryOutcome("skipped")
    # final: no later attempt can succeed, so the delivery fails now instead of retrying.
    final = True
    if not delivery.webhook.is_active:
        status_code, error = None, "The webhook was disabled before this delivery was sent."
    else:
        try:
            # Checked again now: the host may resolve elsewhere than when it was saved.
            url = check_outgoing_url(delivery.webhook.url)
        except RefusedURL as exc:
            status_code, error = None, f"Refused by the outgoing address rule: {_reason(exc)}"
        except ValidationError as exc:  # the host does not resolve (yet)
            status_code, error, final = None, _reason(exc), False
        else:
            (status_code, error), final = _post(delivery, url), False
    now = timezone.now()
    if error is None:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED,
            response_status=status_code,
            last_error="",
            delivered_at=now,
            next_attempt_at=None,
        )
        return DeliveryOutcome(WebhookDelivery.Status.DELIVERED)
    if attempt >= settings.WEBHOOK_MAX_ATTEMPTS or final:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED,
            response_status=status_code,
            last_error=error,
            next_attempt_at=None,
        )
        return DeliveryOutcome(WebhookDelivery.Status.FAILED)
    retry_in = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.RETRYING,
        response_status=status_code,
        last_error=error,
        next_attempt_at=now + timedelta(seconds=retry_in),
    )
    return DeliveryOutcome(WebhookDelivery.Status.RETRYING, retry_in)


def _reason(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _post(delivery: WebhookDelivery, url: str) -> tuple[int | None, str | None]:
    """POST the signed body to the checked `url`; returns (HTTP status or None, error or None)."""
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Crossover-Webhooks/1",
        "X-Crossover-Event": delivery.event,
        "X-Crossover-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature_header(delivery.webhook.secret, body, int(time.time())),
    }
    try:
        # No redirects: a redirect could point at an address the check above refused.
        response = httpx2.post(
            url, content=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
    except httpx2.HTTPError as exc:
        return None, f"{exc.__class__.__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:300]}"


def webhook_requeue_stale(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Enqueue deliveries whose message was lost (broker down, worker killed); returns how many."""
    from teams.tasks import deliver_webhook

    cutoff = timezone.now() - older_than
    stale = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.PENDING, created_at__lt=cutoff)
        | Q(status=WebhookDelivery.Status.RETRYING, next_attempt_at__lt=cutoff)
    ).values_list("pk", flat=True)
    ids = list(stale[:1000])
    for pk in ids:
        deliver_webhook.delay(pk)
    return len(ids)


def describe(exc: ValidationError) -> str:
    """One line for a command-line error: `field: message; field: message`."""
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
