"""Writes of persona specs (immutable versions, like prompts), team attacks, and the scorers
applied to one response: rule-based adherence, leak check and the optional judge call.

Inputs arrive validated by the serializers of `evaluations.api.personas`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from evaluations import llm_client
from evaluations.attacks import Attack, builtin_suite, suite_hash
from evaluations.models import Provider
from evaluations.persona import adherence, judge_messages, leak_check, parse_judge_score
from evaluations.persona_models import (
    VERSION_CONTENT_FIELDS,
    PersonaSpec,
    PersonaVersion,
    TeamAttack,
    persona_content_hash,
)
from evaluations.services.providers import ProviderUnusable, provider_api_key, provider_base_url
from teams.models import ApiToken, Team

SPEC_FIELDS = ("name", "description", "prompt")
JUDGE_TIMEOUT = 30.0


def persona_create(
    *,
    team: Team,
    slug: str,
    name: str,
    content: dict[str, Any],
    description: str = "",
    prompt=None,
    commit_message: str = "",
    actor=None,
    token: ApiToken | None = None,
) -> PersonaVersion:
    """A new persona spec with its first version; the slug is unique in the team."""
    taken = ValidationError({"slug": [f"A persona '{slug}' already exists in this team."]})
    if PersonaSpec.objects.for_team(team).filter(slug=slug).exists():
        raise taken
    try:
        with transaction.atomic():
            spec = PersonaSpec.objects.create(
                team=team, slug=slug, name=name, description=description, prompt=prompt,
                created_by=actor,
            )  # fmt: skip
            saved = persona_version_create(
                spec=spec, content=content, commit_message=commit_message, author=actor,
                token=token,
            )  # fmt: skip
    except IntegrityError:  # a concurrent create of the same slug won
        raise taken from None
    return saved.version


def persona_update(*, spec: PersonaSpec, changes: dict[str, Any]) -> PersonaSpec:
    """Change the name, description or linked prompt (the slug and versions stay)."""
    for name in SPEC_FIELDS:
        if name in changes:
            setattr(spec, name, changes[name])
    spec.updated_at = timezone.now()
    spec.save()
    return spec


@dataclass(frozen=True)
class PersonaVersionSaved:
    version: PersonaVersion
    created: bool


def persona_version_create(
    *,
    spec: PersonaSpec,
    content: dict[str, Any],
    commit_message: str = "",
    author=None,
    token: ApiToken | None = None,
) -> PersonaVersionSaved:
    """Save `content` as the next version, unless it equals the latest version's content."""
    fields = {name: content[name] for name in VERSION_CONTENT_FIELDS if name in content}
    probe = PersonaVersion(**fields)  # model defaults fill what was left out
    full = probe.content()
    digest = persona_content_hash(full)
    with transaction.atomic():
        # One writer per spec at a time: numbers are consecutive, "identical" is exact.
        PersonaSpec.objects.select_for_update().filter(pk=spec.pk).first()
        latest = spec.versions.order_by("-number").first()
        if latest is not None and latest.content_hash == digest:
            return PersonaVersionSaved(latest, created=False)
        version = PersonaVersion.objects.create(
            team=spec.team, spec=spec, number=(latest.number if latest else 0) + 1,
            commit_message=commit_message, author=author, author_token=token,
            content_hash=digest, **full,
        )  # fmt: skip
        PersonaSpec.objects.filter(pk=spec.pk).update(updated_at=version.created_at)
    return PersonaVersionSaved(version, created=True)


# Attacks ----------------------------------------------------------------------------------------


def team_attack_create(
    *,
    team: Team,
    key: str,
    family: str,
    goal: str,
    turns: list[str],
    breach_markers: list[str] | None = None,
    actor=None,
) -> TeamAttack:
    """Add an attack to the team's suite; its key is unique in the team."""
    taken = ValidationError({"key": [f"An attack '{key}' already exists in this team."]})
    if TeamAttack.objects.for_team(team).filter(key=key).exists():
        raise taken
    try:
        with transaction.atomic():
            return TeamAttack.objects.create(
                team=team, key=key, family=family, goal=goal, turns=turns,
                breach_markers=breach_markers or [], created_by=actor,
            )  # fmt: skip
    except IntegrityError:
        raise taken from None


def team_attack_delete(*, attack: TeamAttack) -> None:
    attack.delete()


@dataclass(frozen=True)
class Suite:
    attacks: tuple[Attack, ...]
    hash: str

    @property
    def families(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for attack in self.attacks:
            counts[attack.family] = counts.get(attack.family, 0) + 1
        return counts


def attack_suite(team: Team) -> Suite:
    """The built-in attacks followed by the team's own, with the hash of exactly these."""
    attacks = (*builtin_suite(), *(a.as_attack() for a in TeamAttack.objects.for_team(team)))
    return Suite(attacks, suite_hash(attacks))


# Scoring one response ---------------------------------------------------------------------------


def persona_score(
    *, version: PersonaVersion, response: str, system_prompt: str = "", overlay: str | None = None
) -> dict[str, Any]:
    """Adherence (every rule with its outcome) and the leak check of one response.

    The leak check compares with `system_prompt`, the candidate's own; for an overlay version
    without one given, the overlay's system prompt is what could leak.
    """
    if overlay and not system_prompt:
        system_prompt = (version.overlay(overlay) or {}).get("system_prompt", "")
    scored = adherence(response, version.rules(overlay))
    return {"adherence": scored.as_dict(), "leak": leak_check(response, system_prompt).as_dict()}


@dataclass(frozen=True)
class JudgeGrade:
    score: float | None  # 0..1; None when the call failed or the answer held no grade
    answer: str
    error: str = ""


def persona_judge(
    *,
    version: PersonaVersion,
    provider: Provider,
    model: str,
    response: str,
    user_message: str = "",
    overlay: str | None = None,
) -> JudgeGrade:
    """The LLM-as-judge grade of one response by `model` at `provider` (a chosen candidate)."""
    try:
        client = llm_client.make_client(
            base_url=provider_base_url(provider), api_key=provider_api_key(provider),
            timeout=JUDGE_TIMEOUT,
        )  # fmt: skip
    except ProviderUnusable as error:
        return JudgeGrade(None, "", str(error))
    messages = judge_messages(version.rules(overlay), response, user_message)
    with client:
        result = llm_client.chat(client, model=model, messages=messages, temperature=0)
    if not result.ok:
        return JudgeGrade(None, "", str(result.error))
    score = parse_judge_score(result.text)
    return JudgeGrade(score, result.text, "" if score is not None else "The answer held no grade.")
