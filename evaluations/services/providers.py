"""Writes to providers (SPEC §7.1) and the connection test.

Input reaches these functions validated (the provider serializer or form: URL syntax, the
outgoing-address rule, the environment-variable name); the outgoing-address rule is checked
again right before each call, because a host may resolve elsewhere than when it was saved.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from evaluations import llm_client
from evaluations.crypto import UndecryptableSecret, decrypt
from evaluations.models import Provider
from teams.netguard import check_outgoing_url

CONNECTION_TIMEOUT = 10.0
REDACTED = "[redacted]"
ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_base_url(value: str) -> str:
    """The stripped URL when the server may call it (SPEC §9), else a ValidationError."""
    try:
        return check_outgoing_url(value, field="base_url")
    except ValidationError as exc:
        raise ValidationError(exc.message_dict["base_url"]) from None


def validate_key_env(value: str) -> str:
    """An environment variable name this server lets providers read their key from."""
    if value and not ENV_VAR_RE.match(value):
        raise ValidationError(
            "An environment variable name has letters, digits and underscores, and does not "
            "start with a digit."
        )
    problem = env_var_problem(value) if value else None
    if problem:
        raise ValidationError(problem)
    return value


def env_var_problem(name: str) -> str | None:
    """Why a provider may not read its key from the environment variable `name`, or None."""
    allowed = settings.PROVIDER_KEY_ENV_VARS
    if name in allowed:
        return None
    if not allowed:
        return (
            "This server lets no provider read its key from the environment: enter the key, "
            "or ask the operator to list the variable in PROVIDER_KEY_ENV_VARS."
        )
    return f"{name} is not one of the variables this server allows: {', '.join(allowed)}."


def _save(provider: Provider) -> Provider:
    provider.updated_at = timezone.now()
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError:  # a concurrent save of the same name won the race
        raise ValidationError({"name": [f"A provider named {provider.name} exists."]}) from None
    return provider


def _name_taken(team, name: str, exclude_pk: int | None = None) -> None:
    if Provider.objects.for_team(team).filter(name=name).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": [f"A provider named {name} already exists in this team."]})


# Error reports (the debug page, e-mails to admins) list local variables: keys stay out of them.
@sensitive_variables("api_key")
def provider_create(
    *,
    team,
    name: str,
    base_url: str,
    api_key: str = "",
    api_key_env: str = "",
    is_simulated: bool = False,
) -> Provider:
    """Add a provider; the key, when given, is stored encrypted."""
    _name_taken(team, name)
    provider = Provider(
        team=team, name=name, base_url=base_url, api_key_env=api_key_env, is_simulated=is_simulated
    )
    provider.set_api_key(api_key)
    return _save(provider)


@sensitive_variables("api_key")
def provider_update(
    *,
    provider: Provider,
    name: str,
    base_url: str,
    api_key: str = "",
    api_key_env: str = "",
    clear_api_key: bool = False,
) -> Provider:
    """Change a provider. An empty `api_key` keeps the stored key unless `clear_api_key`, or
    unless an environment variable now replaces it."""
    _name_taken(provider.team, name, exclude_pk=provider.pk)
    if provider.base_url != base_url:
        # What was listed belongs to the old endpoint.
        provider.available_models, provider.checked_at, provider.check_error = [], None, ""
    provider.name, provider.base_url, provider.api_key_env = name, base_url, api_key_env
    if api_key or clear_api_key or api_key_env:
        provider.set_api_key(api_key)
    return _save(provider)


def provider_delete(*, provider: Provider) -> None:
    """Delete a provider; refused (ValidationError) while benchmark runs cite it: a run keeps
    the provider it measured."""
    try:
        with transaction.atomic():
            provider.delete()
    except ProtectedError:
        raise ValidationError(
            f"{provider.name} is used by benchmark runs: it stays while they do."
        ) from None


class ProviderUnusable(Exception):
    """The provider cannot be called as configured; the message says why."""


@sensitive_variables("value")
def provider_api_key(provider: Provider) -> str | None:
    """The key to send (None for none). Raises ProviderUnusable when it cannot be had."""
    if provider.api_key_ciphertext:
        try:
            return decrypt(provider.api_key_ciphertext)
        except UndecryptableSecret as error:
            raise ProviderUnusable(str(error)) from None
    if provider.api_key_env:
        problem = env_var_problem(provider.api_key_env)
        if problem:
            raise ProviderUnusable(problem)
        value = os.environ.get(provider.api_key_env)
        if not value:
            raise ProviderUnusable(f"The environment variable {provider.api_key_env} is not set.")
        return value
    return None


def provider_base_url(provider: Provider) -> str:
    """The base URL, checked against the outgoing-address rule now."""
    try:
        return check_outgoing_url(provider.base_url, field="base_url")
    except ValidationError as error:
        raise ProviderUnusable(" ".join(error.messages)) from None


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    models: list[str]
    simulated: bool
    latency_ms: float | None
    error: str


@sensitive_variables("secret")
def _redact(text: str, secret: str | None) -> str:
    # Endpoints echo a wrong key in their error message; it must not reach a page or a log.
    return text.replace(secret, REDACTED) if secret else text


@sensitive_variables("key", "client")
def provider_test_connection(*, provider: Provider) -> ConnectionCheck:
    """List the provider's models (GET /models) and store what was found."""
    key = None
    try:
        key = provider_api_key(provider)
        client = llm_client.make_client(
            base_url=provider_base_url(provider),
            api_key=key,
            timeout=CONNECTION_TIMEOUT,
            max_retries=0,
        )
    except ProviderUnusable as error:
        check = ConnectionCheck(False, [], False, None, str(error))
    else:
        with client:
            listing = llm_client.list_models(client)
        error = _redact(str(listing.error), key) if listing.error else ""
        check = ConnectionCheck(listing.ok, listing.models, listing.simulated,
                                listing.latency_ms, error)  # fmt: skip
    provider.checked_at = timezone.now()
    provider.check_error = check.error
    if check.ok:
        provider.available_models = check.models
        provider.is_simulated = check.simulated
    Provider.objects.filter(pk=provider.pk).update(
        checked_at=provider.checked_at,
        check_error=provider.check_error,
        available_models=provider.available_models,
        is_simulated=provider.is_simulated,
    )
    return check
