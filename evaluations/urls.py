from __future__ import annotations

from django.urls import path

from evaluations.views import prices
from teams.views import coming_later

app_name = "evaluations"

urlpatterns = [
    path(
        "datasets/",
        coming_later(
            "Datasets", "Datasets with splits and leakage checks arrive in a later release."
        ),
        name="dataset_list",
    ),
    path(
        "benchmarks/",
        coming_later(
            "Benchmarks", "Benchmark runs against real endpoints arrive in a later release."
        ),
        name="benchmark_list",
    ),
    path(
        "fine-tunes/",
        coming_later("Fine-tunes", "Fine-tuning jobs arrive in a later release."),
        name="finetune_list",
    ),
    path("prices/", prices.price_list, name="price_list"),
    path("prices/new/", prices.price_create, name="price_create"),
    path("prices/<int:pk>/edit/", prices.price_edit, name="price_edit"),
    path("prices/<int:pk>/delete/", prices.price_delete, name="price_delete"),
]
