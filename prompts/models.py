from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from prompts.content import Content
from teams.models import ApiToken, TeamOwned

LATEST = "latest"  # implicit: always the newest version, never stored


class Kind(models.TextChoices):
    CHAT = "chat", "Chat (messages)"
    TEXT = "text", "Text"


class PromptTemplate(TeamOwned):
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)  # slugs
    # Labels only team admins may move (e.g. production).
    protected_labels = models.JSONField(default=list, blank=True)
    # Optional promotion gate for `production`, enforced once benchmark runs exist.
    gate_enabled = models.BooleanField(default=False)
    gate_metric = models.CharField(max_length=100, blank=True)
    gate_margin = models.FloatField(default=0.0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(fields=["team", "slug"], name="prompttemplate_unique_slug"),
            models.CheckConstraint(
                condition=models.Q(gate_margin__gte=0), name="prompttemplate_gate_margin_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("prompts:prompt_detail", args=[self.team.slug, self.slug])

    def is_protected(self, label: str) -> bool:
        return label in self.protected_labels


class PromptVersion(TeamOwned):
    """Immutable once created: a new save is a new version."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    messages = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    model = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)
    few_shot = models.JSONField(default=list, blank=True)
    commit_message = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    content_hash = models.CharField(max_length=64)
    # As computed when the version was saved, with its references resolved then.
    variables = models.JSONField(default=list, blank=True)
    static_tokens = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    references = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="promptversion_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="promptversion_gte_1"),
            models.CheckConstraint(
                condition=models.Q(kind__in=Kind.values), name="promptversion_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.slug} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Prompt versions are immutable: save the change as a new version.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "prompts:prompt_version", args=[self.team.slug, self.template.slug, self.number]
        )

    @property
    def content(self) -> Content:
        return Content(
            kind=self.kind,
            messages=self.messages,
            text=self.text,
            model=self.model,
            config=self.config,
            few_shot=self.few_shot,
        )

    @property
    def author_name(self) -> str:
        return actor_name(self.author, self.author_token)


class PromptLabel(TeamOwned):
    """A named pointer (production, staging, any slug) at one version of a template."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="labels")
    label = models.SlugField(max_length=50)
    version = models.ForeignKey(PromptVersion, on_delete=models.CASCADE, related_name="labels")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["template", "label"], name="promptlabel_unique"),
            models.CheckConstraint(
                condition=~models.Q(label=LATEST), name="promptlabel_latest_is_implicit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.slug}@{self.label}"


class PromptLabelMove(TeamOwned):
    """One move of a label, kept forever: the label's history and the way to roll back."""

    template = models.ForeignKey(
        PromptTemplate, on_delete=models.CASCADE, related_name="label_moves"
    )
    label = models.SlugField(max_length=50)
    from_version = models.ForeignKey(
        PromptVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_version = models.ForeignKey(PromptVersion, on_delete=models.CASCADE, related_name="+")
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_by_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-moved_at", "-id"]
        indexes = [models.Index(fields=["template", "label", "-moved_at"])]

    def __str__(self) -> str:
        return f"{self.template.slug}@{self.label} → v{self.to_version.number}"

    @property
    def moved_by_name(self) -> str:
        return actor_name(self.moved_by, self.moved_by_token)


def actor_name(user, token) -> str:
    if user is not None:
        return user.username
    if token is not None:
        return f"token {token.name}"
    return "Crossover"
