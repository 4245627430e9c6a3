from __future__ import annotations

from django.urls import path

from decisions.api import flags, records, usage
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
    path("decisions", records.DecisionListView.as_view(), name="api-decision-list"),
    path("decisions/<int:number>", records.DecisionDetailView.as_view(), name="api-decision"),
    path(
        "decisions/<int:number>/transition",
        records.DecisionTransitionView.as_view(),
        name="api-decision-transition",
    ),
    path(
        "decisions/<int:number>/revisions",
        records.DecisionRevisionsView.as_view(),
        name="api-decision-revisions",
    ),
    path(
        "decisions/<int:number>/export.md",
        records.DecisionExportView.as_view(),
        name="api-decision-export",
    ),
]
