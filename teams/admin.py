"""Admin for operators. Teams and memberships are editable here; everything else is read-only,
because the app's pages and API keep invariants a raw edit would skip (re-assessments, flags,
revisions, tokens shown once, secrets never shown)."""

from __future__ import annotations

from django.contrib import admin

from teams.models import ApiToken, Membership, Team, Webhook, WebhookDelivery


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "team", "scopes", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "team__slug")
    exclude = ("token_hash",)


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ("url", "team", "events", "is_active")
    search_fields = ("url", "team__slug")
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event", "webhook", "status", "attempts", "response_status", "created_at")
    list_filter = ("status", "event")
    list_select_related = ("webhook",)
