"""Model providers the playground can call, registered by the app that owns providers.

The prompts app sits left of `evaluations` and never imports it: `evaluations` (which holds the
providers and the one model client) calls `register(lister)` in its `AppConfig.ready()`, where
`lister(team)` returns the team's providers. Until one is registered the playground renders only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Config keys passed on to a chat completion; other keys stay with the version only.
CALL_PARAMS = ("temperature", "top_p", "max_tokens", "response_format", "seed", "stop",
               "presence_penalty", "frequency_penalty")  # fmt: skip


@dataclass(frozen=True)
class Reply:
    text: str
    input_tokens: int
    output_tokens: int
    latency_ms: float
    model: str
    error: str | None = None


Call = Callable[[str, Sequence[Mapping[str, str]], Mapping[str, Any]], Reply]


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    call: Call  # (model, messages, params) -> Reply; never raises for a failed call
    models: tuple[str, ...] = ()  # what the endpoint is known to serve, for suggestions


_listers: list[Callable[[Any], list[Provider]]] = []


def register(lister: Callable[[Any], list[Provider]]) -> None:
    if lister not in _listers:
        _listers.append(lister)


def unregister(lister: Callable[[Any], list[Provider]]) -> None:
    if lister in _listers:
        _listers.remove(lister)


def providers_for(team) -> list[Provider]:
    return [provider for lister in _listers for provider in lister(team)]


def call_params(config: Mapping[str, Any]) -> dict[str, Any]:
    return {key: config[key] for key in CALL_PARAMS if key in config}
