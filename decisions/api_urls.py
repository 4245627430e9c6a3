from __future__ import annotations

from django.urls import path

from decisions.api import flags, usage
from decisions.api import roi as roi_api
from decisions.api import workloads as workloads_api

urlpatterns = [
    path("roi/evaluate", roi_api.RoiEvaluateView.as_view(), name="api-roi-evaluate"),
    path("workloads", workloads_api.WorkloadListView.as_view(), name="api-workload-list"),
    path(
        "workloads/<slug:slug>",
        workloads_api.WorkloadDetailView.as_view(),
        name="api-workload-detail",
    ),
    path("usage", usage.UsageView.as_view(), name="api-usage"),
    path("flags", flags.FlagListView.as_view(), name="api-flags"),
]
