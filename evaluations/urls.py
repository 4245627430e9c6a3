from __future__ import annotations

from django.urls import path

from evaluations.views import benchmarks, datasets, finetunes, personas, prices, providers

app_name = "evaluations"

urlpatterns = [
    path("datasets/", datasets.dataset_list, name="dataset_list"),
    path("datasets/new/", datasets.dataset_create_view, name="dataset_create"),
    path("datasets/<int:pk>/", datasets.dataset_detail, name="dataset_detail"),
    path("datasets/<int:pk>/import/", datasets.dataset_import, name="dataset_import"),
    path("datasets/<int:pk>/split/", datasets.dataset_split_view, name="dataset_split"),
    path("datasets/<int:pk>/delete/", datasets.dataset_delete_view, name="dataset_delete"),
    path("benchmarks/", benchmarks.benchmark_list, name="benchmark_list"),
    path("benchmarks/new/", benchmarks.benchmark_create_view, name="benchmark_create"),
    path("benchmarks/<int:pk>/", benchmarks.benchmark_detail, name="benchmark_detail"),
    path("benchmarks/<int:pk>/items/", benchmarks.benchmark_items, name="benchmark_items"),
    path(
        "benchmarks/<int:pk>/export.<str:fmt>",
        benchmarks.benchmark_export,
        name="benchmark_export",
    ),
    path("benchmarks/<int:pk>/cancel/", benchmarks.benchmark_cancel, name="benchmark_cancel"),
    path("fine-tunes/", finetunes.finetune_list, name="finetune_list"),
    path("fine-tunes/new/", finetunes.finetune_prepare, name="finetune_prepare"),
    path("fine-tunes/<int:pk>/", finetunes.finetune_detail, name="finetune_detail"),
    path("fine-tunes/<int:pk>/cancel/", finetunes.finetune_cancel_view, name="finetune_cancel"),
    path("fine-tunes/<int:pk>/benchmark/", finetunes.finetune_benchmark, name="finetune_benchmark"),
    path("providers/", providers.provider_list, name="provider_list"),
    path("providers/new/", providers.provider_create_view, name="provider_create"),
    path("providers/<int:pk>/edit/", providers.provider_edit, name="provider_edit"),
    path("providers/<int:pk>/delete/", providers.provider_delete_view, name="provider_delete"),
    path("providers/<int:pk>/test/", providers.provider_test, name="provider_test"),
    path("prices/", prices.price_list, name="price_list"),
    path("prices/new/", prices.price_create, name="price_create"),
    path("prices/<int:pk>/edit/", prices.price_edit, name="price_edit"),
    path("prices/<int:pk>/delete/", prices.price_delete, name="price_delete"),
    # Persona specs and the adversarial suite (SPEC §7.5).
    path("personas/", personas.persona_list, name="persona_list"),
    path("personas/new/", personas.persona_create_view, name="persona_create"),
    path("personas/attacks/", personas.attack_list, name="persona_attack_list"),
    path("personas/<slug:slug>/", personas.persona_detail, name="persona_detail"),
    path("personas/<slug:slug>/score/", personas.persona_score_view, name="persona_score"),
    path(
        "personas/<slug:slug>/versions/new/",
        personas.persona_version_new,
        name="persona_version_new",
    ),
    path(
        "personas/<slug:slug>/runs/<int:run>/",
        personas.persona_run_detail,
        name="persona_run_detail",
    ),
]
