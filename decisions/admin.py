"""Read-mostly admin for operators (teams/admin.py says why)."""

from __future__ import annotations

from django.contrib import admin

from decisions.models import DecisionRecord, DecisionRevision, EvidenceLink, RevisitReason
from teams.admin import ReadOnlyAdmin


@admin.register(DecisionRecord)
class DecisionRecordAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "team", "status", "approach", "workload", "date")
    list_filter = ("status", "approach", "needs_revisit")
    search_fields = ("title", "team__slug")
    list_select_related = ("team", "workload")


@admin.register(DecisionRevision)
class DecisionRevisionAdmin(ReadOnlyAdmin):
    list_display = ("decision", "number", "author", "note", "created_at")
    search_fields = ("decision__title", "note")
    list_select_related = ("decision", "author")


@admin.register(EvidenceLink)
class EvidenceLinkAdmin(ReadOnlyAdmin):
    list_display = ("decision", "kind", "created_at")
    list_filter = ("kind",)
    list_select_related = ("decision",)


@admin.register(RevisitReason)
class RevisitReasonAdmin(ReadOnlyAdmin):
    list_display = ("decision", "key", "text", "updated_at")
    search_fields = ("decision__title", "key")
    list_select_related = ("decision",)
