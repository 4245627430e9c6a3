"""Read-only admin for operators (teams/admin.py says why)."""

from __future__ import annotations

from django.contrib import admin

from teams.admin import ReadOnlyAdmin
from workloads.models import Assessment, SwitchFlag, UsageRecord, Workload, Worksheet


@admin.register(Workload)
class WorkloadAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "team", "current_approach", "policy", "model", "updated_at")
    list_filter = ("current_approach", "policy")
    search_fields = ("name", "slug", "team__slug")
    list_select_related = ("team",)


@admin.register(Worksheet)
class WorksheetAdmin(ReadOnlyAdmin):
    list_display = ("workload", "version", "title", "recommendation", "author", "created_at")
    list_filter = ("recommendation",)
    search_fields = ("workload__name", "title")
    list_select_related = ("workload", "author")


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ("workload", "period_start", "period_end", "requests", "client_id")
    search_fields = ("client_id", "workload__slug")
    list_select_related = ("workload",)
    date_hierarchy = "period_start"
    show_full_result_count = False  # counting millions of rows on every page is not worth it


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("workload", "created_at", "reason", "current_approach", "recommendation")
    list_filter = ("reason", "recommendation")
    search_fields = ("workload__slug",)
    list_select_related = ("workload",)


@admin.register(SwitchFlag)
class SwitchFlagAdmin(ReadOnlyAdmin):
    list_display = ("workload", "from_approach", "to_approach", "status", "created_at")
    list_filter = ("status", "to_approach")
    search_fields = ("workload__slug",)
    list_select_related = ("workload",)
