"""The team's providers, offered to the prompt playground (registered with prompts.playground in
EvaluationsConfig.ready): one chat completion through the one model client."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from django.views.decorators.debug import sensitive_variables

from evaluations import llm_client
from evaluations.models import Provider
from evaluations.services.providers import (
    REDACTED,
    ProviderUnusable,
    provider_api_key,
    provider_base_url,
)
from prompts import playground

CALL_TIMEOUT = 60.0


def team_providers(team) -> list[playground.Provider]:
    return [
        playground.Provider(
            id=str(provider.pk),
            name=provider.display_name,
            call=functools.partial(_call, provider),
            models=tuple(provider.available_models),
        )
        for provider in Provider.objects.for_team(team)
    ]


@sensitive_variables("key", "client")
def _call(
    provider: Provider, model: str, messages: Sequence[Mapping[str, str]], params: Mapping[str, Any]
) -> playground.Reply:
    key = None
    try:
        key = provider_api_key(provider)
        client = llm_client.make_client(
            base_url=provider_base_url(provider), api_key=key, timeout=CALL_TIMEOUT, max_retries=1
        )
    except ProviderUnusable as error:
        return playground.Reply("", 0, 0, 0.0, model, str(error))
    with client:
        result = llm_client.chat(client, model=model, messages=messages, **params)
    # Endpoints echo a wrong key in their error message: it must not reach the page.
    error = str(result.error).replace(key, REDACTED) if result.error and key else result.error
    error = str(error) if error else None
    return playground.Reply(
        result.text, result.input_tokens, result.output_tokens, result.latency_ms, result.model,
        error,
    )  # fmt: skip
