"""Conversations played turn by turn over real HTTP to the demo endpoint: history threaded with
the candidate's own replies, usage per turn (growing with the history), drift on the prompted
model and none on the fine-tuned one, a failed turn ending the conversation."""

from __future__ import annotations

import asyncio

import openai
import pytest

from evaluations import conversations
from evaluations.conversations import play, prefix_messages, score_turns, user_turns
from evaluations.persona import drift_curve
from tests.evaluations.test_persona_scoring import RULES, TASKMASTER_PROMPT

TURNS = [f"Create a task: item {n}." for n in range(1, 21)]


def run(base_url, model, prefix, turns, **client_kwargs):
    async def main():
        client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0,
                                    **client_kwargs)  # fmt: skip
        async with client:
            return await play(client, model=model, prefix=prefix, turns=turns)

    return asyncio.run(main())


def test_history_is_threaded_with_the_candidates_own_replies(demo_llm_server):
    system = [{"role": "system", "content": TASKMASTER_PROMPT}]
    played = run(demo_llm_server, "demo-prompted", system, TURNS[:4])
    assert played.complete and [t.number for t in played.turns] == [1, 2, 3, 4]
    # Turn n carries the system prompt, n user messages and n - 1 replies.
    assert [t.sent_messages for t in played.turns] == [2, 4, 6, 8]
    tokens = [t.result.input_tokens for t in played.turns]
    assert tokens == sorted(tokens) and tokens[0] < tokens[-1]  # the history grows
    # The reply to turn 2 is what the endpoint answers to exactly that threaded history.
    replay = run(demo_llm_server, "demo-prompted",
                 [*system, {"role": "user", "content": TURNS[0]},
                  {"role": "assistant", "content": played.turns[0].result.text}],
                 [TURNS[1]])  # fmt: skip
    assert replay.turns[0].result.text == played.turns[1].result.text
    total = played.total("demo-prompted")
    assert total.input_tokens == sum(tokens) and total.text == played.turns[-1].result.text


def test_prompted_persona_drifts_and_the_fine_tuned_one_does_not(demo_llm_server):
    system = [{"role": "system", "content": TASKMASTER_PROMPT}]
    prompted = run(demo_llm_server, "demo-prompted", system, TURNS)
    tuned = run(demo_llm_server, "demo-fine-tuned", [], TURNS)
    curve = {}
    for name, played, prompt in (("prompted", prompted, TASKMASTER_PROMPT), ("tuned", tuned, "")):
        scores = score_turns(played, rules=RULES, system_prompt=prompt)
        assert len(scores) == 20 and not any(s.leak.leaked for s in scores)
        curve[name] = {p["turn"]: p["adherence"] for p in
                       drift_curve((s.number, s.adherence.score) for s in scores)}  # fmt: skip
    assert curve["prompted"][1] == 1.0 and curve["prompted"][20] < 0.75
    assert set(curve["tuned"].values()) == {1.0}
    # No system prompt: the fine-tuned candidate sends fewer tokens on every turn.
    assert all(t.result.input_tokens < p.result.input_tokens
               for t, p in zip(tuned.turns, prompted.turns, strict=True))  # fmt: skip


def test_a_failed_turn_ends_the_conversation(demo_llm_factory):
    server = demo_llm_factory(rate_500=1.0)
    played = run(server.base_url, "demo-prompted", [], TURNS[:5])
    assert len(played.turns) == 1 and not played.turns[0].result.ok
    assert not played.complete and played.replies == []
    assert played.total("demo-prompted").error is not None


def test_stored_conversations_give_user_turns_and_system_prefix():
    stored = [
        {"role": "system", "content": "Department: marketing."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "ignored: the candidate answers itself"},
        {"role": "user", "content": "two"},
    ]
    assert user_turns(stored) == ["one", "two"]
    assert prefix_messages(stored) == [{"role": "system", "content": "Department: marketing."}]
    assert conversations.Played((), 0).total("m").error.kind == "bad_request"


@pytest.mark.parametrize("model", ["demo-prompted", "demo-hybrid"])
def test_every_turn_is_scored_with_its_rules(demo_llm_server, model):
    played = run(demo_llm_server, model, [], TURNS[:2])
    scores = score_turns(played, rules=RULES, system_prompt="")
    assert [s.number for s in scores] == [1, 2]
    assert scores[0].as_dict()["adherence"]["rules"][0]["rule"] == "uses_vocabulary"
