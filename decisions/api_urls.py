from __future__ import annotations

from django.urls import path

from decisions.api import records

urlpatterns = [
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
