"""The one way Crossover calls a model: the official `openai` client, OpenAI-compatible endpoints.

Build a client with `make_client` / `make_async_client` (base URL, key, timeout, retries — the
client itself retries 429, 5xx and timeouts with backoff, honouring `retry-after`; it follows no
redirect, since one could lead to an address the outgoing-URL check refused), then call
`chat` / `achat` for one chat completion, or `list_models` to see what an endpoint serves.
These never raise for a failed call: the failure is described in `error`, so a benchmark can
record it next to the item. Files and fine-tuning jobs use the same client objects
(`client.files`, `client.fine_tuning.jobs`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from evaluations.demo_llm.profiles import OWNER as SIMULATED_OWNER

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
# The SDK refuses to build a client without a key; endpoints that need none (the demo endpoint,
# local servers) ignore this placeholder.
NO_KEY = "no-key"

Message = Mapping[str, Any]


@dataclass(frozen=True)
class ChatError:
    kind: str  # rate_limit | server_error | timeout | connection | auth | bad_request | ...
    message: str
    status_code: int | None = None

    def __str__(self) -> str:
        status = f" {self.status_code}" if self.status_code else ""
        return f"{self.kind}{status}: {self.message}"


@dataclass(frozen=True)
class ChatResult:
    """One chat completion: its text and usage, or what went wrong (`error`)."""

    text: str
    input_tokens: int
    output_tokens: int
    latency_ms: float  # wall time of the call, retries included
    model: str
    error: ChatError | None = None
    # What a judge model answered about this result, when the caller asked for a grade.
    verdict: ChatResult | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def make_client(
    *,
    base_url: str,
    api_key: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=base_url,
        api_key=api_key or NO_KEY,
        timeout=timeout,
        max_retries=max_retries,
        http_client=openai.DefaultHttpxClient(follow_redirects=False),
    )


def make_async_client(
    *,
    base_url: str,
    api_key: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or NO_KEY,
        timeout=timeout,
        max_retries=max_retries,
        http_client=openai.DefaultAsyncHttpxClient(follow_redirects=False),
    )


# Most specific first: RateLimitError is an APIStatusError, APITimeoutError a connection error.
_ERROR_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (openai.APITimeoutError, "timeout"),
    (openai.APIConnectionError, "connection"),
    (openai.RateLimitError, "rate_limit"),
    (openai.AuthenticationError, "auth"),
    (openai.PermissionDeniedError, "auth"),
    (openai.NotFoundError, "not_found"),
    (openai.BadRequestError, "bad_request"),
    (openai.UnprocessableEntityError, "bad_request"),
    (openai.InternalServerError, "server_error"),
    (openai.APIStatusError, "api_error"),
)


def describe_error(error: openai.OpenAIError) -> ChatError:
    kind = next((kind for cls, kind in _ERROR_KINDS if isinstance(error, cls)), "api_error")
    status = error.status_code if isinstance(error, openai.APIStatusError) else None
    # An API error's body is the `error` object of the answer; its message is the useful part.
    body = getattr(error, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    message = message or getattr(error, "message", None) or str(error)
    return ChatError(kind, message, status)


# Chat calls go through the client's own `post` (its retries, backoff, `Retry-After`, timeouts and
# typed errors) with the body as plain JSON and the answer read as JSON: the typed
# `chat.completions.create` spends about 0.6 ms of CPU per call transforming a body that is
# already plain JSON and building models of the answer, a third of a benchmark call's CPU.
CHAT_PATH = "/chat/completions"


# Keyword arguments that are about the request, not its body (as in the typed methods).
_OPTIONS = {"extra_headers": "headers", "extra_query": "params", "extra_body": "extra_json",
            "timeout": "timeout"}  # fmt: skip


def _request(model: str, messages: Sequence[Message], params: Mapping[str, Any]) -> dict:
    """`client.post` keyword arguments: the body, and the request options among `params`."""
    body = {"model": model, "messages": list(messages)}
    options = {}
    for name, value in params.items():
        if name in _OPTIONS:
            options[_OPTIONS[name]] = value
        else:
            body[name] = value
    return {"body": body, "options": options, "cast_to": object}


def _field(node: Any, name: str) -> Any:
    return node.get(name) if isinstance(node, dict) else None


def _tokens(usage: Any, name: str) -> int:
    value = _field(usage, name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _result(answer: Any, model: str, started: float) -> ChatResult:
    latency_ms = (time.perf_counter() - started) * 1000
    choices = _field(answer, "choices")
    if not isinstance(choices, list):
        error = ChatError("bad_response", "The answer is not a chat completion (no choices).")
        return ChatResult("", 0, 0, latency_ms, model, error)
    content = _field(_field(choices[0], "message"), "content") if choices else None
    usage = _field(answer, "usage")
    answered_model = _field(answer, "model")
    return ChatResult(
        text=content if isinstance(content, str) else "",
        input_tokens=_tokens(usage, "prompt_tokens"),
        output_tokens=_tokens(usage, "completion_tokens"),
        latency_ms=latency_ms,
        model=answered_model if isinstance(answered_model, str) and answered_model else model,
    )


def _failure(error: openai.OpenAIError, model: str, started: float) -> ChatResult:
    latency_ms = (time.perf_counter() - started) * 1000
    return ChatResult("", 0, 0, latency_ms, model, describe_error(error))


def chat(
    client: openai.OpenAI, *, model: str, messages: Sequence[Message], **params: Any
) -> ChatResult:
    """One chat completion; `params` are passed through (temperature, response_format, …)."""
    started = time.perf_counter()
    try:
        answer = client.post(CHAT_PATH, **_request(model, messages, params))
    except openai.OpenAIError as error:
        return _failure(error, model, started)
    return _result(answer, model, started)


async def achat(
    client: openai.AsyncOpenAI, *, model: str, messages: Sequence[Message], **params: Any
) -> ChatResult:
    """`chat` for the async client, for running many calls concurrently."""
    started = time.perf_counter()
    try:
        answer = await client.post(CHAT_PATH, **_request(model, messages, params))
    except openai.OpenAIError as error:
        return _failure(error, model, started)
    return _result(answer, model, started)


@dataclass(frozen=True)
class ModelListing:
    """What `GET /models` answered: model ids (sorted), or what went wrong (`error`)."""

    models: list[str]
    simulated: bool  # every model says it is simulated (the demo endpoint)
    latency_ms: float
    error: ChatError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def list_models(client: openai.OpenAI) -> ModelListing:
    """The models an endpoint serves (its first page, which is all that most endpoints have)."""
    started = time.perf_counter()
    try:
        data = list(client.models.list().data or [])
    except openai.OpenAIError as error:
        return ModelListing([], False, _since(started), describe_error(error))
    except (TypeError, ValueError, AttributeError):  # a 200 that is not a model list
        error = ChatError("bad_response", "The answer to GET /models is not a list of models.")
        return ModelListing([], False, _since(started), error)
    ids = sorted({model_id for m in data if isinstance(model_id := getattr(m, "id", None), str)})
    simulated = bool(data) and all(getattr(m, "owned_by", None) == SIMULATED_OWNER for m in data)
    return ModelListing(ids, simulated, _since(started))


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
