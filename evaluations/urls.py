from __future__ import annotations

from django.urls import path

from evaluations import views
from teams.views import coming_later

app_name = "evaluations"

urlpatterns = [
    path("datasets/", views.dataset_list, name="dataset_list"),
    path("datasets/new/", views.dataset_create_view, name="dataset_create"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset_detail"),
    path("datasets/<int:pk>/import/", views.dataset_import, name="dataset_import"),
    path("datasets/<int:pk>/split/", views.dataset_split_view, name="dataset_split"),
    path("datasets/<int:pk>/delete/", views.dataset_delete_view, name="dataset_delete"),
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
