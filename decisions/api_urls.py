from __future__ import annotations

from django.urls import path

from decisions import api, api_exchange

urlpatterns = [
    path("decisions", api.DecisionListView.as_view(), name="api-decision-list"),
    path("decisions/import", api_exchange.DecisionImportView.as_view(), name="api-decision-import"),
    path(
        "decisions/export.zip",
        api_exchange.DecisionExportZipView.as_view(),
        name="api-decision-export-zip",
    ),
    path(
        "decisions/exports",
        api_exchange.DecisionExportListView.as_view(),
        name="api-decision-exports",
    ),
    path(
        "decisions/exports/<int:pk>",
        api_exchange.DecisionExportDetailView.as_view(),
        name="api-decision-export-detail",
    ),
    path(
        "decisions/exports/<int:pk>/download",
        api_exchange.DecisionExportDownloadView.as_view(),
        name="api-decision-export-download",
    ),
    path("decisions/<int:number>", api.DecisionDetailView.as_view(), name="api-decision"),
    path(
        "decisions/<int:number>/transition",
        api.DecisionTransitionView.as_view(),
        name="api-decision-transition",
    ),
    path(
        "decisions/<int:number>/revisions",
        api.DecisionRevisionsView.as_view(),
        name="api-decision-revisions",
    ),
    path(
        "decisions/<int:number>/export.md",
        api.DecisionExportView.as_view(),
        name="api-decision-export",
    ),
]
