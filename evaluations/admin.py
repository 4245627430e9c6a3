"""Admin pages. A provider's API key is never displayed nor editable here (it is encrypted and
changed only through the provider form or API)."""

from __future__ import annotations

from django.contrib import admin

from evaluations.models import Dataset, ModelPrice, Provider


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = ["model", "team", "input_per_1m", "output_per_1m", "training_per_1m"]
    list_filter = ["team"]
    search_fields = ["model"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "base_url", "api_key_source", "is_simulated", "checked_at"]
    list_filter = ["team", "is_simulated"]
    search_fields = ["name", "base_url"]
    fields = ["team", "name", "base_url", "api_key_env", "api_key_source", "is_simulated",
              "available_models", "checked_at", "check_error"]  # fmt: skip
    readonly_fields = ["api_key_source", "available_models", "checked_at", "check_error"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "task_kind", "created_at"]
    list_filter = ["team", "task_kind"]
    search_fields = ["name"]
