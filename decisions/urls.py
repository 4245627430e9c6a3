from __future__ import annotations

from django.urls import path

from decisions import views

app_name = "decisions"

urlpatterns = [
    path("flags/<int:pk>/start-decision/", views.flag_start_decision, name="flag_start_decision"),
    path("decisions/", views.decision_list, name="decision_list"),
    path("decisions/new/", views.decision_create, name="decision_create"),
    path(
        "decisions/new/from-worksheet/<int:worksheet_id>/",
        views.decision_from_worksheet,
        name="decision_from_worksheet",
    ),
    path("decisions/import/", views.decision_import, name="decision_import"),
    path("decisions/export.zip", views.decision_export_all, name="decision_export_all"),
    path("decisions/exports/", views.export_list, name="export_list"),
    path("decisions/exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("decisions/exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("decisions/<int:number>/", views.decision_detail, name="decision_detail"),
    path("decisions/<int:number>/edit/", views.decision_edit, name="decision_edit"),
    path(
        "decisions/<int:number>/transition/",
        views.decision_transition,
        name="decision_transition",
    ),
    path("decisions/<int:number>/diff/", views.decision_diff, name="decision_diff"),
    path("decisions/<int:number>/export.md", views.decision_export, name="decision_export"),
    path(
        "decisions/<int:number>/evidence/",
        views.decision_evidence_add,
        name="decision_evidence_add",
    ),
    path(
        "decisions/<int:number>/evidence/<int:link_id>/remove/",
        views.decision_evidence_remove,
        name="decision_evidence_remove",
    ),
    path(
        "decisions/<int:number>/revisited/",
        views.decision_revisit_clear,
        name="decision_revisit_clear",
    ),
    path(
        "workloads/<slug:slug>/decisions/",
        views.workload_decisions,
        name="workload_decisions",
    ),
]
