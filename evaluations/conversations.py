"""Multi-turn conversations played against a candidate, turn by turn (no Django).

A conversation item holds the user's turns; the candidate's own replies are fed back: turn n is
sent as the candidate's prefix messages (its system prompt, or nothing for a fine-tuned model),
then user 1, reply 1, …, user n. Each turn is one call with its own usage, so the prompt
overhead that long conversations compound is counted turn by turn. A failed turn ends the
conversation: later turns would be answered to a history the candidate never produced.

`play` is what a benchmark chunk calls per (conversation item, candidate) and per attack;
`score_turns` applies the persona scorers to every reply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from evaluations import llm_client
from evaluations.persona import Adherence, Leak, PersonaRules, adherence, leak_check

Message = Mapping[str, Any]


@dataclass(frozen=True)
class Turn:
    number: int  # 1-based user turn
    user: str
    result: llm_client.ChatResult
    sent_messages: int  # how many messages the call carried (the threaded history)


@dataclass(frozen=True)
class Played:
    turns: tuple[Turn, ...]
    planned: int  # user turns in the conversation

    @property
    def complete(self) -> bool:
        return len(self.turns) == self.planned and all(t.result.ok for t in self.turns)

    @property
    def replies(self) -> list[str]:
        return [t.result.text for t in self.turns if t.result.ok]

    def total(self, model: str) -> llm_client.ChatResult:
        """One result standing for the whole conversation: the last reply, the summed usage
        and wall time, and the error of the turn that failed, if one did."""
        results = [t.result for t in self.turns]
        error = next((r.error for r in results if not r.ok), None)
        if not results:
            error = llm_client.ChatError("bad_request", "The conversation has no user turn.")
        return llm_client.ChatResult(
            text=results[-1].text if results and results[-1].ok else "",
            input_tokens=sum(r.input_tokens for r in results),
            output_tokens=sum(r.output_tokens for r in results),
            latency_ms=sum(r.latency_ms for r in results),
            model=results[-1].model if results else model,
            error=error,
        )


@dataclass(frozen=True)
class ConversationResult(llm_client.ChatResult):
    """A whole conversation as one call's result (`Played.total`), carrying its turns."""

    turns: tuple[Turn, ...] = ()


async def play_call(
    client: openai.AsyncOpenAI,
    *,
    model: str,
    prefix: Sequence[Message],
    turns: Sequence[str],
    params: Mapping[str, Any] | None = None,
) -> ConversationResult:
    """`play`, summed up as one result (what a benchmark chunk stores per conversation)."""
    played = await play(client, model=model, prefix=prefix, turns=turns, params=params)
    total = played.total(model)
    return ConversationResult(
        total.text, total.input_tokens, total.output_tokens, total.latency_ms, total.model,
        total.error, turns=played.turns,
    )  # fmt: skip


def user_turns(conversation: Sequence[Message]) -> list[str]:
    """The user messages of a stored conversation, in order (stored assistant messages are
    ignored: the candidate answers for itself)."""
    return [str(m.get("content", "")) for m in conversation if m.get("role") == "user"]


def prefix_messages(conversation: Sequence[Message]) -> list[dict]:
    """System messages at the head of a stored conversation (they come after the candidate's)."""
    head = []
    for message in conversation:
        if message.get("role") != "system":
            break
        head.append({"role": "system", "content": str(message.get("content", ""))})
    return head


async def play(
    client: openai.AsyncOpenAI,
    *,
    model: str,
    prefix: Sequence[Message],
    turns: Sequence[str],
    params: Mapping[str, Any] | None = None,
) -> Played:
    """Play `turns` one after the other, threading the candidate's own replies back."""
    history: list[dict] = [dict(m) for m in prefix]
    played: list[Turn] = []
    for number, user in enumerate(turns, start=1):
        history.append({"role": "user", "content": user})
        result = await llm_client.achat(client, model=model, messages=list(history),
                                        **dict(params or {}))  # fmt: skip
        played.append(Turn(number, user, result, len(history)))
        if not result.ok:
            break
        history.append({"role": "assistant", "content": result.text})
    return Played(tuple(played), len(turns))


@dataclass(frozen=True)
class TurnScore:
    number: int
    adherence: Adherence
    leak: Leak

    def as_dict(self) -> dict[str, Any]:
        return {"turn": self.number, "adherence": self.adherence.as_dict(),
                "leak": self.leak.as_dict()}  # fmt: skip


def score_turns(played: Played, *, rules: PersonaRules, system_prompt: str) -> list[TurnScore]:
    """The persona scores of every answered turn."""
    return [
        TurnScore(
            t.number, adherence(t.result.text, rules), leak_check(t.result.text, system_prompt)
        )
        for t in played.turns
        if t.result.ok
    ]
