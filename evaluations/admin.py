"""Read-only admin for operators (teams/admin.py says why; the Prices page edits prices)."""

from __future__ import annotations

from django.contrib import admin

from evaluations.models import ModelPrice
from teams.admin import ReadOnlyAdmin


@admin.register(ModelPrice)
class ModelPriceAdmin(ReadOnlyAdmin):
    list_display = ("model", "team", "input_per_1m", "output_per_1m", "training_per_1m")
    search_fields = ("model", "team__slug")
    list_select_related = ("team",)
