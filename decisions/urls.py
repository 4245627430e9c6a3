from __future__ import annotations

from django.urls import path

from decisions.views import records
from teams.views import coming_later

app_name = "decisions"

urlpatterns = [
    path("", coming_later("Dashboard", "Every workload at a glance."), name="dashboard"),
    path("workloads/", coming_later("Workloads", "Workloads."), name="workload_list"),
    path("worksheets/", coming_later("Worksheets", "Worksheets."), name="worksheet_list"),
    path("flags/", coming_later("Flags", "Switch flags."), name="flag_list"),
    # Decision records
    path("decisions/", records.decision_list, name="decision_list"),
    path("decisions/new/", records.decision_create, name="decision_create"),
    path(
        "decisions/new/from-worksheet/<int:worksheet_id>/",
        records.decision_from_worksheet,
        name="decision_from_worksheet",
    ),
    path("decisions/import/", records.decision_import, name="decision_import"),
    path("decisions/export.zip", records.decision_export_all, name="decision_export_all"),
    path("decisions/<int:number>/", records.decision_detail, name="decision_detail"),
    path("decisions/<int:number>/edit/", records.decision_edit, name="decision_edit"),
    path(
        "decisions/<int:number>/transition/",
        records.decision_transition,
        name="decision_transition",
    ),
    path("decisions/<int:number>/diff/", records.decision_diff, name="decision_diff"),
    path("decisions/<int:number>/export.md", records.decision_export, name="decision_export"),
    path(
        "decisions/<int:number>/evidence/",
        records.decision_evidence_add,
        name="decision_evidence_add",
    ),
    path(
        "decisions/<int:number>/evidence/<int:link_id>/remove/",
        records.decision_evidence_remove,
        name="decision_evidence_remove",
    ),
    path(
        "decisions/<int:number>/revisited/",
        records.decision_revisit_clear,
        name="decision_revisit_clear",
    ),
    path(
        "workloads/<slug:slug>/decisions/",
        records.workload_decisions,
        name="workload_decisions",
    ),
]
