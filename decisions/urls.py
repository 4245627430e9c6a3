from __future__ import annotations

from django.urls import path

from decisions.views import dashboard, flags, records, workloads, worksheets

app_name = "decisions"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("workloads/", workloads.workload_list, name="workload_list"),
    path("workloads/new/", workloads.workload_create_view, name="workload_create"),
    path("workloads/<slug:slug>/", workloads.workload_detail, name="workload_detail"),
    path("workloads/<slug:slug>/edit/", workloads.workload_edit, name="workload_edit"),
    path(
        "workloads/<slug:slug>/worksheets/<int:version>/",
        worksheets.worksheet_detail,
        name="worksheet_detail",
    ),
    path("worksheets/", worksheets.worksheet_list, name="worksheet_list"),
    path("worksheets/new/", worksheets.worksheet_new, name="worksheet_new"),
    path("flags/", flags.flag_list, name="flag_list"),
    path("flags/<int:pk>/", flags.flag_detail, name="flag_detail"),
    path("flags/<int:pk>/acknowledge/", flags.flag_acknowledge, name="flag_acknowledge"),
    path("flags/<int:pk>/dismiss/", flags.flag_dismiss, name="flag_dismiss"),
    path("flags/<int:pk>/start-decision/", flags.flag_start_decision, name="flag_start_decision"),
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
