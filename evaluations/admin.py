"""Read-only admin for operators (teams/admin.py says why; the app's pages edit prices, providers
and datasets). A provider's API key is never shown here, not even encrypted."""

from __future__ import annotations

from django.contrib import admin

from evaluations.models import BenchmarkRun, Dataset, ModelPrice, Provider
from teams.admin import ReadOnlyAdmin


@admin.register(ModelPrice)
class ModelPriceAdmin(ReadOnlyAdmin):
    list_display = ("model", "team", "input_per_1m", "output_per_1m", "training_per_1m")
    search_fields = ("model", "team__slug")
    list_select_related = ("team",)


@admin.register(Provider)
class ProviderAdmin(ReadOnlyAdmin):
    list_display = ("name", "team", "base_url", "api_key_source", "is_simulated", "checked_at")
    list_filter = ("is_simulated",)
    search_fields = ("name", "base_url", "team__slug")
    list_select_related = ("team",)
    exclude = ("api_key_ciphertext",)


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ("name", "team", "task_kind", "created_at")
    list_filter = ("task_kind",)
    search_fields = ("name", "team__slug")
    list_select_related = ("team",)


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "team", "status", "done", "total", "errors", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "team__slug")
    list_select_related = ("team",)
    exclude = ("item_ids",)
