from __future__ import annotations

from django.urls import path

from decisions.views import workloads, worksheets
from teams.views import coming_later

app_name = "decisions"

urlpatterns = [
    path("", coming_later("Dashboard", "Every workload at a glance."), name="dashboard"),
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
    path("decisions/", coming_later("Decisions", "Decision records."), name="decision_list"),
    path("flags/", coming_later("Flags", "Switch flags."), name="flag_list"),
]
