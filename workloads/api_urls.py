from __future__ import annotations

from django.urls import path

from workloads.api import flags, roi, usage, workloads

urlpatterns = [
    path("roi/evaluate", roi.RoiEvaluateView.as_view(), name="api-roi-evaluate"),
    path("workloads", workloads.WorkloadListView.as_view(), name="api-workload-list"),
    path(
        "workloads/<slug:slug>",
        workloads.WorkloadDetailView.as_view(),
        name="api-workload-detail",
    ),
    path("usage", usage.UsageView.as_view(), name="api-usage"),
    path("flags", flags.FlagListView.as_view(), name="api-flags"),
]
