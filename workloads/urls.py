from __future__ import annotations

from django.urls import path

from workloads.views import dashboard, flags, workloads, worksheets

app_name = "workloads"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("workloads/", workloads.workload_list, name="workload_list"),
    path("workloads/new/", workloads.workload_create_view, name="workload_create"),
    path("workloads/<slug:slug>/", workloads.workload_detail, name="workload_detail"),
    path(
        "workloads/<slug:slug>/figures/",
        workloads.workload_detail,
        {"tab": "figures"},
        name="workload_figures",
    ),
    path(
        "workloads/<slug:slug>/usage/",
        workloads.workload_detail,
        {"tab": "usage"},
        name="workload_usage",
    ),
    path(
        "workloads/<slug:slug>/setup/",
        workloads.workload_detail,
        {"tab": "setup"},
        name="workload_setup",
    ),
    path("workloads/<slug:slug>/edit/", workloads.workload_edit, name="workload_edit"),
    path(
        "workloads/<slug:slug>/worksheets/<int:version>/",
        worksheets.worksheet_detail,
        name="worksheet_detail",
    ),
    path(
        "workloads/<slug:slug>/worksheets/<int:version>/apply/",
        worksheets.worksheet_apply,
        name="worksheet_apply",
    ),
    path("worksheets/", worksheets.worksheet_list, name="worksheet_list"),
    path("worksheets/new/", worksheets.worksheet_new, name="worksheet_new"),
    path("flags/", flags.flag_list, name="flag_list"),
    path("flags/<int:pk>/", flags.flag_detail, name="flag_detail"),
    path("flags/<int:pk>/acknowledge/", flags.flag_acknowledge, name="flag_acknowledge"),
    path("flags/<int:pk>/dismiss/", flags.flag_dismiss, name="flag_dismiss"),
]
