from __future__ import annotations

from django.urls import path

from teams.views import coming_later

app_name = "decisions"

urlpatterns = [
    path("", coming_later("Dashboard", "Every workload at a glance."), name="dashboard"),
    path("workloads/", coming_later("Workloads", "Workloads."), name="workload_list"),
    path("worksheets/", coming_later("Worksheets", "Worksheets."), name="worksheet_list"),
    path("decisions/", coming_later("Decisions", "Decision records."), name="decision_list"),
    path("flags/", coming_later("Flags", "Switch flags."), name="flag_list"),
]
