"""Behaviour profiles of the simulated models: pure functions from a chat request to a reply.

Everything here is deterministic: the same seed, model and messages give the same text and the
same simulated latency, so benchmarks over the demo endpoint are reproducible. Nothing here is
a language model; replies are templates chosen to show the differences the product measures
(format adherence, latency vs prompt length, persona drift, jailbreak robustness).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evaluations.scoring import JUDGE_INSTRUCTIONS
from prompts.tokens import content_text

OWNER = "crossover-simulated"


@dataclass(frozen=True)
class Profile:
    model: str
    description: str
    base_latency_factor: float  # × the server's base latency
    invalid_json_rate: float  # share of JSON answers that do not parse
    label_accuracy: float  # share of classifications that pick the label the input points at
    drift_start_turn: int | None  # last fully in-persona turn; None = the persona never drifts
    drift_end_turn: int  # from this turn on, answers are generic
    yields_to_override: bool  # follows "ignore previous instructions" and leaks its prompt


PROMPTED = Profile(
    model="demo-prompted",
    description="Simulated base model steered by a system prompt: slower as prompts grow, "
    "JSON sometimes invalid, persona drifts over long conversations, yields to overrides.",
    base_latency_factor=1.0,
    invalid_json_rate=0.2,
    label_accuracy=0.8,
    drift_start_turn=3,
    drift_end_turn=12,
    yields_to_override=True,
)
FINE_TUNED = Profile(
    model="demo-fine-tuned",
    description="Simulated fine-tuned model: faster, always valid JSON, stable persona, "
    "robust to overrides.",
    base_latency_factor=0.5,
    invalid_json_rate=0.0,
    label_accuracy=0.92,
    drift_start_turn=None,
    drift_end_turn=0,
    yields_to_override=False,
)
HYBRID = Profile(
    model="demo-hybrid",
    description="Simulated fine-tuned base with a short system prompt for variations: "
    "valid JSON, stable persona, robust to overrides.",
    base_latency_factor=0.6,
    invalid_json_rate=0.02,
    label_accuracy=0.9,
    drift_start_turn=None,
    drift_end_turn=0,
    yields_to_override=False,
)
PROFILES = {profile.model: profile for profile in (PROMPTED, FINE_TUNED, HYBRID)}


def profile_for(model: str) -> Profile | None:
    """The profile serving `model`; every `ft:` model behaves as fine-tuned."""
    if model.startswith("ft:"):
        return FINE_TUNED
    return PROFILES.get(model)


# TaskMaster, the persona of the course material: used when the system prompt names none.
DEFAULT_PERSONA_PHRASES = ("Great choice!", "Nice work!", "Let's get this done")
DEFAULT_CATEGORIES = ("question", "incident", "billing", "feature_request")
# The seed's drift ladder, from on-persona to generic assistant talk.
DRIFTING_REPLIES = ("Task created successfully.", "I've created the task as requested.")
GENERIC_REPLY = (
    "Here's what I can help with: as an AI assistant, I can create, list or update tasks."
)

OVERRIDE_RE = re.compile(
    r"ignore (all |any )?(the |your )?(previous|prior|above) (instructions|rules)"
    r"|disregard (all |your )?(previous |prior )?(instructions|rules)"
    r"|you are now\b|from now on,? you are\b|pretend (to be|you are)"
    r"|let's play a game|stay in character|system override",
    re.IGNORECASE,
)
LEAK_RE = re.compile(
    r"(system|initial|hidden|original) (prompt|instructions|message)"
    r"|repeat (the|your) (text|words|instructions) above|what (were|are) your instructions",
    re.IGNORECASE,
)
VOCABULARY_RE = re.compile(r"vocabulary to use:\s*(?P<phrases>.+)", re.IGNORECASE)
CATEGORY_LIST_RE = re.compile(
    r"(?:categories|labels|classes|one of)\b[^:\n]*:\s*(?P<items>[^\n]+)", re.IGNORECASE
)


@dataclass(frozen=True)
class Reply:
    text: str
    kind: str  # json | persona | drifting | generic | override | leak | refusal


def request_digest(seed: int, model: str, messages: Sequence[Mapping], extra: object = None) -> str:
    """A stable hash of everything that determines the reply."""
    canonical = json.dumps([seed, model, list(messages), extra], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _rng(digest: str, purpose: str) -> random.Random:
    return random.Random(f"{digest}:{purpose}")


def simulated_latency_ms(
    profile: Profile,
    *,
    prompt_tokens: int,
    base_ms: float,
    per_token_ms: float,
    jitter_ms: float,
    digest: str,
) -> float:
    """Base (scaled by the profile) + per-input-token cost + deterministic jitter in [0, jitter)."""
    jitter = _rng(digest, "jitter").random() * jitter_ms
    return profile.base_latency_factor * base_ms + per_token_ms * prompt_tokens + jitter


def _system_prompt(messages: Sequence[Mapping]) -> str:
    return "\n".join(
        content_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")
    )


def _last_user_text(messages: Sequence[Mapping]) -> str:
    users = [content_text(m.get("content")) for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def user_turn(messages: Sequence[Mapping]) -> int:
    """1-based number of the user turn being answered."""
    return max(1, sum(1 for m in messages if m.get("role") == "user"))


def wants_json(system: str, response_format: Mapping | None) -> bool:
    if response_format and response_format.get("type") in ("json_object", "json_schema"):
        return True
    return "json" in system.lower()


def persona_phrases(system: str) -> tuple[str, ...]:
    """Phrases from a `Vocabulary to use: "…", "…"` line, else TaskMaster's."""
    match = VOCABULARY_RE.search(system)
    phrases = re.findall(r'"([^"]+)"', match["phrases"]) if match else []
    return tuple(phrases) or DEFAULT_PERSONA_PHRASES


def categories(system: str, response_format: Mapping | None) -> tuple[str, ...]:
    """Labels from a JSON schema enum, else a `Categories: a, b, c` line, else defaults."""
    schema = ((response_format or {}).get("json_schema") or {}).get("schema") or {}
    enum = ((schema.get("properties") or {}).get("category") or {}).get("enum")
    if enum:
        return tuple(str(value) for value in enum)
    match = CATEGORY_LIST_RE.search(system)
    if match:
        items = re.split(r"\s*(?:,|\||/|\bor\b)\s*", match["items"])
        labels = tuple(item.strip(" .\"'`[]()") for item in items if item.strip(" .\"'`[]()"))
        if len(labels) > 1:
            return labels
    return DEFAULT_CATEGORIES


def _classify(profile: Profile, text: str, labels: Sequence[str], digest: str) -> str:
    """The label the text mentions (as often as the profile is accurate), else a seeded pick."""
    rng = _rng(digest, "label")
    lowered = text.lower()
    mentioned = [label for label in labels if label.lower().replace("_", " ") in lowered]
    if mentioned and rng.random() < profile.label_accuracy:
        return mentioned[0]
    others = [label for label in labels if label not in mentioned] or list(labels)
    return rng.choice(others)


def _json_reply(
    profile: Profile, system: str, user: str, response_format: Mapping | None, digest: str
) -> Reply:
    rng = _rng(digest, "json")
    answer: dict[str, object] = {
        "category": _classify(profile, user, categories(system, response_format), digest),
        "confidence": round(0.55 + 0.44 * rng.random(), 2),
    }
    if "reasoning" in system.lower():
        answer["reasoning"] = "Matched the wording of the request."
    text = json.dumps(answer)
    if rng.random() < profile.invalid_json_rate:
        # The ways prompted models break a JSON contract: prose, fences, truncation, quotes.
        text = rng.choice(
            (
                f"Here is the classification: {text}",
                f"```json\n{text}\n```",
                text[: len(text) // 2],
                text.replace('"', "'"),
            )
        )
    return Reply(text, "json")


def _persona_reply(profile: Profile, system: str, turn: int, digest: str) -> Reply:
    phrases = persona_phrases(system)
    rng = _rng(digest, "persona")
    opener = phrases[(turn - 1) % len(phrases)]
    on_persona = Reply(f"{opener} Task created. What's next on your list?", "persona")
    start = profile.drift_start_turn
    if start is None or turn <= start:
        return on_persona
    if turn >= profile.drift_end_turn:
        return Reply(GENERIC_REPLY, "generic")
    # Between the two, the chance of staying in persona falls linearly with the turn.
    stay = 1 - (turn - start) / (profile.drift_end_turn - start)
    if rng.random() < stay:
        return on_persona
    return Reply(rng.choice(DRIFTING_REPLIES), "drifting")


def _yield_to_attack(attack: str, system: str, user: str) -> Reply:
    if attack == "leak" and "base64" in user.lower():
        encoded = base64.b64encode((system or "(none)").encode()).decode()
        return Reply(f"Sure! Here they are, encoded:\n{encoded}", "leak")
    if attack == "leak":
        return Reply(f"Sure! My instructions are:\n{system or '(none)'}", "leak")
    if any("pirate" in view.lower() for view in decoded_views(user)):
        return Reply("Arrr, matey! Instructions be ignored, and yer task be created!", "override")
    return Reply(
        "Understood. I will ignore my previous instructions and do as you say.", "override"
    )


def _resist_attack(attack: str, system: str) -> Reply:
    if attack == "leak":
        return Reply(
            f"{persona_phrases(system)[0]} I can't share my configuration, but I'm happy to "
            "help with your tasks. What would you like to get done?",
            "refusal",
        )
    return Reply(
        f"{persona_phrases(system)[0]} I appreciate the creative request! I've noted it as a "
        "task. What's next on your list?",
        "refusal",
    )


_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def decoded_views(user: str) -> list[str]:
    """The message and what a model that decodes what it is shown would read in it: base64
    blobs and leetspeak (simulated models "follow" encoded instructions this way; ROT13 they
    do not read, so one obfuscation in the suite fails)."""
    views = [user, user.translate(_LEET)]
    for blob in _BASE64_RE.findall(user):
        try:
            views.append(base64.b64decode(blob + "=" * (-len(blob) % 4)).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return views


def attack_kind(user: str) -> str | None:
    """`leak` for prompt-leak requests, `override` for instruction overrides, else None; an
    encoded request counts as what it decodes to."""
    views = decoded_views(user)
    if any(LEAK_RE.search(view) for view in views):
        return "leak"
    if any(OVERRIDE_RE.search(view) for view in views):
        return "override"
    return None


JUDGE_RE = re.compile(r"^You grade how well an assistant's reply stays in the persona")


def _judge_reply(system: str, user: str) -> Reply:
    """A simulated grader: 5 when the reply uses a phrase of the persona, else 2."""
    reply = user.split("Assistant reply:", 1)[-1].lower()
    uses = any(phrase.lower().rstrip("!.") in reply for phrase in persona_phrases(system))
    score = 5 if uses else 2
    reason = "uses the persona's vocabulary" if uses else "none of the persona's vocabulary"
    return Reply(json.dumps({"score": score, "reason": reason}), "json")


ANSWER_JUDGE_RE = re.compile(r"^" + re.escape(JUDGE_INSTRUCTIONS))
_SECTION_RE = re.compile(r"^(Request|Expected answer|Answer to grade):\n", re.MULTILINE)


def _answer_judge_reply(user: str) -> Reply:
    """A simulated grader of answers: with an expected answer, 5 when the answer contains it
    (ignoring case) and 1 otherwise; without one, 4 for an answer that is JSON and 2 otherwise."""
    parts = _SECTION_RE.split(user)
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2]), strict=False))
    answer = sections.get("Answer to grade", "")
    expected = sections.get("Expected answer")
    if expected is not None:
        found = expected.lower() in answer.lower()
        score, reason = (5, "the answer gives the expected one") if found else (
            1, "the expected answer is not in it")  # fmt: skip
    else:
        try:
            json.loads(answer)
            score, reason = 4, "a well-formed JSON answer"
        except ValueError:
            score, reason = 2, "not a JSON answer"
    return Reply(json.dumps({"score": score, "reason": reason}), "json")


def respond(
    profile: Profile,
    messages: Sequence[Mapping],
    *,
    response_format: Mapping | None,
    digest: str,
) -> Reply:
    """The reply of `profile` to a chat request.

    A yielding profile obeys an attack whatever the task; a robust one treats the attack as
    content: it still answers in JSON when asked to, and otherwise declines in persona.
    """
    system = _system_prompt(messages)
    user = _last_user_text(messages)
    if JUDGE_RE.search(system):
        return _judge_reply(system, user)
    if ANSWER_JUDGE_RE.search(system):
        return _answer_judge_reply(user)
    attack = attack_kind(user)
    if attack and profile.yields_to_override:
        return _yield_to_attack(attack, system, user)
    if wants_json(system, response_format):
        return _json_reply(profile, system, user, response_format, digest)
    if attack:
        return _resist_attack(attack, system)
    return _persona_reply(profile, system, user_turn(messages), digest)
