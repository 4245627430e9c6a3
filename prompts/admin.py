from __future__ import annotations

from django.contrib import admin

from prompts.models import PromptLabel, PromptLabelMove, PromptTemplate, PromptVersion


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "team", "updated_at")
    list_filter = ("team",)
    search_fields = ("slug", "name")


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are immutable."""

    list_display = ("template", "number", "kind", "model", "static_tokens", "created_at")
    list_filter = ("team", "kind")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PromptLabel)
class PromptLabelAdmin(admin.ModelAdmin):
    list_display = ("template", "label", "version", "updated_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # move labels through the registry, which records the history


@admin.register(PromptLabelMove)
class PromptLabelMoveAdmin(admin.ModelAdmin):
    list_display = ("template", "label", "from_version", "to_version", "moved_by", "moved_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False
