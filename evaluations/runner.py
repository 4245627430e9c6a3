"""Running many chat calls at once: bounded concurrency on shared async clients (no Django).

A chunk of a benchmark run hands `run_calls` its prepared calls; every call of one provider goes
through the same `AsyncOpenAI` client (building a client per call costs 40-50 ms), at most
`concurrency` in flight. The client retries 429, 5xx and timeouts with backoff, honouring
`Retry-After` (`evaluations.llm_client`). Finished calls are handed to `flush` in batches so
that progress is visible while the chunk runs and a killed worker loses at most one batch;
`should_stop` (checked at each flush) ends the chunk early when the run was cancelled. A call
with a `judge` is followed, when it answered, by the judge's call grading its output (inside the
same concurrency slot); its answer is the result's `verdict`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import openai

from evaluations import conversations, llm_client

FLUSH_EVERY = 50  # calls
FLUSH_SECONDS = 0.5


@dataclass(frozen=True)
class Judge:
    """Who grades a call's output: a model on one of the shared clients, asked
    `messages(output)`."""

    client: Hashable
    model: str
    messages: Callable[[str], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class PlannedCall:
    key: Hashable  # (item id, candidate id)
    client: Hashable  # which shared client makes the call
    model: str
    messages: Sequence[Mapping[str, Any]]
    params: Mapping[str, Any] = field(default_factory=dict)
    # A conversation: `messages` are the candidate's prefix, these the user turns, played one
    # after the other with the candidate's replies threaded back (evaluations.conversations).
    turns: Sequence[str] | None = None
    judge: Judge | None = None


async def make(call: PlannedCall, client: openai.AsyncOpenAI) -> llm_client.ChatResult:
    """One planned call: a chat completion, or a whole conversation played turn by turn."""
    if call.turns is not None:
        return await conversations.play_call(
            client, model=call.model, prefix=call.messages, turns=call.turns, params=call.params
        )
    return await llm_client.achat(client, model=call.model, messages=call.messages, **call.params)


async def judged(
    call: PlannedCall, clients: Mapping[Hashable, openai.AsyncOpenAI]
) -> llm_client.ChatResult:
    """`make(call)`, then, when it answered and the call has a judge, the judge's grading."""
    result = await make(call, clients[call.client])
    if call.judge is None or not result.ok:
        return result
    judge = call.judge
    verdict = await llm_client.achat(
        clients[judge.client], model=judge.model, messages=judge.messages(result.text),
        temperature=0,
    )  # fmt: skip
    return replace(result, verdict=verdict)


Flush = Callable[[list[tuple[Hashable, llm_client.ChatResult]]], Awaitable[bool]]


async def run_calls(
    calls: Sequence[PlannedCall],
    clients: Mapping[Hashable, openai.AsyncOpenAI],
    *,
    concurrency: int,
    flush: Flush,
    flush_every: int = FLUSH_EVERY,
    flush_seconds: float = FLUSH_SECONDS,
) -> bool:
    """Make every call, `concurrency` at a time; `flush(batch)` stores finished calls and
    returns False to stop (cancelled). Returns whether every call was made and flushed."""
    semaphore = asyncio.Semaphore(concurrency)
    pending: list[tuple[Hashable, llm_client.ChatResult]] = []
    stop = asyncio.Event()
    last_flush = time.monotonic()
    flush_lock = asyncio.Lock()

    async def drain(force: bool = False) -> None:
        nonlocal pending, last_flush
        async with flush_lock:
            due = len(pending) >= flush_every or time.monotonic() - last_flush >= flush_seconds
            if not pending or not (force or due):
                return
            batch, pending = pending, []
            last_flush = time.monotonic()
            if not await flush(batch):
                stop.set()

    async def one(call: PlannedCall) -> None:
        async with semaphore:
            if stop.is_set():
                return
            result = await judged(call, clients)
        pending.append((call.key, result))
        await drain()

    tasks = [asyncio.ensure_future(one(call)) for call in calls]
    try:
        for finished in asyncio.as_completed(tasks):
            await finished
            if stop.is_set():
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if not stop.is_set():
        await drain(force=True)
    return not stop.is_set()
