"""evaluations.llm_client against the demo model endpoint over real HTTP."""

from __future__ import annotations

import asyncio
import socket

import pytest

from evaluations import llm_client
from evaluations.llm_client import ChatError, ChatResult
from prompts.tokens import count_message_tokens, count_tokens

MESSAGES = [
    {"role": "system", "content": "Classify the ticket. Reply in JSON."},
    {"role": "user", "content": "The checkout page returns an error."},
]


def test_make_client_applies_base_url_timeout_and_retries():
    client = llm_client.make_client(
        base_url="http://127.0.0.1:9/v1", api_key="sk-x", timeout=5.0, max_retries=4
    )
    async_client = llm_client.make_async_client(
        base_url="http://127.0.0.1:9/v1", api_key=None, timeout=7.0, max_retries=1
    )

    assert str(client.base_url) == "http://127.0.0.1:9/v1/"
    assert (client.timeout, client.max_retries, client.api_key) == (5.0, 4, "sk-x")
    assert (async_client.timeout, async_client.max_retries) == (7.0, 1)
    assert async_client.api_key == llm_client.NO_KEY


def test_chat_returns_text_usage_latency_and_model(demo_llm_factory):
    server = demo_llm_factory(latency_ms=60.0, latency_per_token_ms=0.0, jitter_ms=0.0)
    client = llm_client.make_client(base_url=server.base_url, api_key=None)

    result = llm_client.chat(
        client, model="demo-fine-tuned", messages=MESSAGES, response_format={"type": "json_object"}
    )

    assert isinstance(result, ChatResult) and result.ok
    assert result.model == "demo-fine-tuned"
    assert result.text.startswith('{"category": ')
    assert result.input_tokens == count_message_tokens(MESSAGES, "demo-fine-tuned")
    assert result.output_tokens == count_tokens(result.text, "demo-fine-tuned")
    # Fine-tuned profile: half the 60 ms base latency, measured end to end.
    assert result.latency_ms >= 30


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize(
    ("request_kwargs", "kind", "status"),
    [
        ({"extra_headers": {"X-Demo-Inject": "429"}}, "rate_limit", 429),
        ({"extra_headers": {"X-Demo-Inject": "500"}}, "server_error", 500),
        ({"extra_headers": {"X-Demo-Inject": "timeout"}}, "timeout", None),
        ({"model": "gpt-9"}, "not_found", 404),
        ({"messages": []}, "bad_request", 400),
    ],
)
def test_chat_describes_failures_instead_of_raising(demo_llm_server, request_kwargs, kind, status):
    client = llm_client.make_client(
        base_url=demo_llm_server, api_key=None, timeout=0.3, max_retries=0
    )
    call = {"model": "demo-prompted", "messages": MESSAGES, **request_kwargs}

    result = llm_client.chat(client, **call)

    assert not result.ok
    assert (result.error.kind, result.error.status_code) == (kind, status)
    assert (result.text, result.input_tokens, result.output_tokens) == ("", 0, 0)
    assert result.model == call["model"]


def test_chat_reports_auth_and_connection_failures(demo_llm_server):
    unauthorized = llm_client.chat(
        llm_client.make_client(base_url=demo_llm_server, api_key="invalid", max_retries=0),
        model="demo-prompted",
        messages=MESSAGES,
    )
    unreachable = llm_client.chat(
        llm_client.make_client(base_url=closed_port_url(), api_key=None, max_retries=0),
        model="demo-prompted",
        messages=MESSAGES,
    )

    assert unauthorized.error == ChatError("auth", unauthorized.error.message, 401)
    assert str(unauthorized.error).startswith("auth 401: Incorrect API key")
    assert unreachable.error.kind == "connection"


def test_client_retries_recover_from_probabilistic_faults(demo_llm_factory):
    server = demo_llm_factory(rate_429=0.25, rate_500=0.15, seed=3, retry_after_ms=5)
    patient = llm_client.make_client(base_url=server.base_url, api_key=None, max_retries=8)
    impatient = llm_client.make_client(base_url=server.base_url, api_key=None, max_retries=0)
    tickets = [[{"role": "user", "content": f"ticket {i}"}] for i in range(30)]

    with_retries = [llm_client.chat(patient, model="demo-prompted", messages=m) for m in tickets]
    injected = dict(server.injected)
    without = [llm_client.chat(impatient, model="demo-prompted", messages=m) for m in tickets]

    assert all(result.ok for result in with_retries)
    assert injected["429"] > 0 and injected["500"] > 0
    assert {r.error.kind for r in without if not r.ok} == {"rate_limit", "server_error"}


def test_achat_runs_calls_concurrently_through_the_async_client(demo_llm_factory):
    server = demo_llm_factory(latency_ms=250.0, latency_per_token_ms=0.0, jitter_ms=0.0)

    async def main():
        async with llm_client.make_async_client(base_url=server.base_url, api_key=None) as client:
            return await asyncio.gather(
                *(
                    llm_client.achat(
                        client,
                        model="demo-prompted",
                        messages=[{"role": "user", "content": f"task {i}"}],
                    )
                    for i in range(12)
                )
            )

    results = asyncio.run(main())

    assert all(result.ok and result.latency_ms >= 250 for result in results)
    assert len({result.text for result in results}) >= 1
    # Twelve 250 ms calls in sequence would take 3 s; concurrently each sees about 250 ms.
    assert sorted(result.latency_ms for result in results)[6] < 1500
