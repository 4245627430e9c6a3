from __future__ import annotations

from django.urls import path

from evaluations.api import (
    benchmarks,
    datasets,
    finetunes,
    persona_runs,
    personas,
    prices,
    providers,
)

urlpatterns = [
    path("prices", prices.PriceListView.as_view(), name="api-price-list"),
    path("prices/resolve", prices.PriceResolveView.as_view(), name="api-price-resolve"),
    path("prices/<int:pk>", prices.PriceDetailView.as_view(), name="api-price-detail"),
    path("providers", providers.ProviderListView.as_view(), name="api-provider-list"),
    path("providers/<int:pk>", providers.ProviderDetailView.as_view(), name="api-provider-detail"),
    path("providers/<int:pk>/test", providers.ProviderTestView.as_view(), name="api-provider-test"),
    path("datasets", datasets.DatasetListView.as_view(), name="api-dataset-list"),
    path("datasets/<int:pk>", datasets.DatasetDetailView.as_view(), name="api-dataset-detail"),
    path("datasets/<int:pk>/items", datasets.DatasetItemsView.as_view(), name="api-dataset-items"),
    path("datasets/<int:pk>/split", datasets.DatasetSplitView.as_view(), name="api-dataset-split"),
    path("benchmarks", benchmarks.BenchmarkListView.as_view(), name="api-benchmark-list"),
    path(
        "benchmarks/<int:pk>", benchmarks.BenchmarkDetailView.as_view(), name="api-benchmark-detail"
    ),
    path(
        "benchmarks/<int:pk>/results",
        benchmarks.BenchmarkResultsView.as_view(),
        name="api-benchmark-results",
    ),
    path(
        "benchmarks/<int:pk>/cancel",
        benchmarks.BenchmarkCancelView.as_view(),
        name="api-benchmark-cancel",
    ),
    path("finetunes", finetunes.FineTuneListView.as_view(), name="api-finetune-list"),
    path("finetunes/<int:pk>", finetunes.FineTuneDetailView.as_view(), name="api-finetune-detail"),
    path(
        "finetunes/<int:pk>/cancel",
        finetunes.FineTuneCancelView.as_view(),
        name="api-finetune-cancel",
    ),
]

# Persona specs and the adversarial suite (SPEC §7.5).
urlpatterns += [
    path("personas", personas.PersonaListView.as_view(), name="api-persona-list"),
    path("personas/<slug:slug>", personas.PersonaDetailView.as_view(), name="api-persona-detail"),
    path(
        "personas/<slug:slug>/versions",
        personas.PersonaVersionListView.as_view(),
        name="api-persona-versions",
    ),
    path(
        "personas/<slug:slug>/versions/<int:number>",
        personas.PersonaVersionDetailView.as_view(),
        name="api-persona-version",
    ),
    path(
        "personas/<slug:slug>/score", personas.PersonaScoreView.as_view(), name="api-persona-score"
    ),
    path(
        "personas/<slug:slug>/runs",
        persona_runs.PersonaRunListView.as_view(),
        name="api-persona-runs",
    ),
    path(
        "personas/<slug:slug>/runs/<int:run>",
        persona_runs.PersonaRunDetailView.as_view(),
        name="api-persona-run",
    ),
    path("attacks", personas.AttackSuiteView.as_view(), name="api-attack-list"),
    path("attacks/<int:pk>", personas.AttackDetailView.as_view(), name="api-attack-detail"),
]
