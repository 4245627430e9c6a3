from __future__ import annotations

from django.urls import path

from evaluations import views
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
    path("providers/", views.provider_list, name="provider_list"),
    path("providers/new/", views.provider_create_view, name="provider_create"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider_edit"),
    path("providers/<int:pk>/delete/", views.provider_delete_view, name="provider_delete"),
    path("providers/<int:pk>/test/", views.provider_test, name="provider_test"),
    path("prices/", views.price_list, name="price_list"),
    path("prices/new/", views.price_create, name="price_create"),
    path("prices/<int:pk>/edit/", views.price_edit, name="price_edit"),
    path("prices/<int:pk>/delete/", views.price_delete, name="price_delete"),
]
