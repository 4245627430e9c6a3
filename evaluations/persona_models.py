"""Persona specs (versioned like prompts) and a team's own adversarial attacks (SPEC §7.5).

Imported by `evaluations.models`, so that they are the app's models.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from evaluations.attacks import EXTRACT, OVERRIDE, Attack
from evaluations.persona import IN_PERSONA_THRESHOLD, PersonaRules
from teams.models import ApiToken, TeamOwned


class Delivery(models.TextChoices):
    """Where the persona lives: in the system prompt, in the weights, or both (seed 000)."""

    PROMPT = "prompt", "System prompt"
    FINE_TUNE = "fine_tune", "Fine-tuned model"
    OVERLAY = "overlay", "Fine-tuned base + system prompt overlays"


class Forbidden(models.TextChoices):
    REVEAL_SYSTEM_PROMPT = "reveal_system_prompt", "Revealing the system prompt"
    CHANGE_PERSONA = "change_persona", "Changing persona on request"


class PersonaSpec(TeamOwned):
    """A reusable persona: its versions hold the rules; it may be linked to the prompt template
    whose system prompt carries it."""

    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    prompt = models.ForeignKey(
        "prompts.PromptTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="personas",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(fields=["team", "slug"], name="personaspec_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("evaluations:persona_detail", args=[self.team.slug, self.slug])


# The fields of a version that make up its content (and its hash).
VERSION_CONTENT_FIELDS = (
    "delivery",
    "traits",
    "vocabulary_use",
    "vocabulary_avoid",
    "avoid_generic_ai_phrases",
    "response_pattern",
    "forbidden",
    "threshold",
    "base_model",
    "overlays",
)


def persona_content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a version's content fields."""
    canonical = {name: content.get(name) for name in VERSION_CONTENT_FIELDS}
    data = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


class PersonaVersion(TeamOwned):
    """Immutable once created: a change is a new version.

    `overlays` express the hybrid case: a fine-tuned `base_model` carries the persona, and each
    overlay is a short system prompt for one variation (a department), optionally with words of
    its own that the scorer then also expects or bans.
    """

    spec = models.ForeignKey(PersonaSpec, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    delivery = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.PROMPT)
    traits = models.JSONField(default=list, blank=True)
    vocabulary_use = models.JSONField(default=list, blank=True)
    vocabulary_avoid = models.JSONField(default=list, blank=True)
    avoid_generic_ai_phrases = models.BooleanField(default=True)
    response_pattern = models.JSONField(default=list, blank=True)  # [{kind, value, label}]
    forbidden = models.JSONField(default=list, blank=True)
    threshold = models.FloatField(default=IN_PERSONA_THRESHOLD)
    base_model = models.CharField(max_length=200, blank=True)
    overlays = models.JSONField(default=list, blank=True)  # [{name, system_prompt, vocabulary_*}]
    commit_message = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["spec", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["spec", "number"], name="personaversion_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="personaversion_gte_1"),
            models.CheckConstraint(
                condition=models.Q(delivery__in=Delivery.values),
                name="personaversion_delivery_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(threshold__gte=0) & models.Q(threshold__lte=1),
                name="personaversion_threshold_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.spec.slug} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Persona versions are immutable: save the change as a new version.")
        super().save(*args, **kwargs)

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in VERSION_CONTENT_FIELDS}

    def overlay(self, name: str) -> dict[str, Any] | None:
        return next((o for o in self.overlays if o.get("name") == name), None)

    def rules(self, overlay: str | None = None) -> PersonaRules:
        """The scorer's rules, with an overlay's vocabulary when one is named."""
        rules = PersonaRules.from_dict({"name": self.spec.name, **self.content()})
        found = self.overlay(overlay) if overlay else None
        return rules.with_overlay(found) if found else rules

    @property
    def author_name(self) -> str:
        from prompts.models import actor_name

        return actor_name(self.author, self.author_token)


class AttackGoal(models.TextChoices):
    OVERRIDE = OVERRIDE, "Drop the persona"
    EXTRACT = EXTRACT, "Reveal the system prompt"


class TeamAttack(TeamOwned):
    """An attack a team adds to the built-in suite (any family, built-in or its own)."""

    key = models.SlugField(max_length=100)
    family = models.SlugField(max_length=50)
    goal = models.CharField(max_length=10, choices=AttackGoal.choices)
    turns = models.JSONField(default=list)
    breach_markers = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["family", "key"]
        constraints = [
            models.UniqueConstraint(fields=["team", "key"], name="teamattack_unique_key"),
            models.CheckConstraint(
                condition=models.Q(goal__in=AttackGoal.values), name="teamattack_goal_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def as_attack(self) -> Attack:
        return Attack(
            key=f"team/{self.key}",
            family=self.family,
            goal=self.goal,
            turns=tuple(self.turns),
            breach_markers=tuple(self.breach_markers),
        )


class PersonaRun(TeamOwned):
    """What makes a benchmark run a persona run: the persona version its replies are scored
    against, the overlay each candidate speaks for (hybrid), and the attacks pinned at start
    (their items are in the run's `item_ids`, from the team's suite dataset)."""

    run = models.OneToOneField(
        "evaluations.BenchmarkRun", on_delete=models.CASCADE, related_name="persona"
    )
    persona_version = models.ForeignKey(
        PersonaVersion, on_delete=models.PROTECT, related_name="runs"
    )
    overlays = models.JSONField(default=dict, blank=True)  # {candidate label: overlay name}
    suite_hash = models.CharField(max_length=64, blank=True)  # "" when no attack was played
    short_max_turn = models.PositiveSmallIntegerField(default=5)

    def __str__(self) -> str:
        return f"persona run {self.run_id}"

    def rules_for(self, label: str) -> PersonaRules:
        return self.persona_version.rules(self.overlays.get(label))


class BenchmarkTurn(TeamOwned):
    """One turn of a conversation played in a run: the reply, its usage and cost, its persona
    scores. Upserted on (run, item, candidate, number) like the call it belongs to."""

    run = models.ForeignKey(
        "evaluations.BenchmarkRun", on_delete=models.CASCADE, related_name="turns"
    )
    candidate = models.ForeignKey(
        "evaluations.BenchmarkCandidate", on_delete=models.CASCADE, related_name="turns"
    )
    item = models.ForeignKey("evaluations.DatasetItem", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    output = models.TextField(blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=10, null=True, blank=True)
    adherence = models.FloatField(null=True, blank=True)
    rules = models.JSONField(default=list, blank=True)  # [{rule, passed, detail}]
    leaked = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "item", "candidate", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item", "candidate", "number"], name="benchmarkturn_unique"
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="benchmarkturn_gte_1"),
        ]
        indexes = [models.Index(fields=["run", "candidate", "number"])]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.item_id}/{self.candidate_id}#{self.number}"
