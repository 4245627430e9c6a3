from __future__ import annotations

from django.urls import path

from evaluations.api import benchmarks, datasets, finetunes, prices, providers

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
