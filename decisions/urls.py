from __future__ import annotations

from django.urls import path

from decisions.views import dashboard, flags
from teams.views import coming_later

app_name = "decisions"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("workloads/", coming_later("Workloads", "Workloads."), name="workload_list"),
    path("worksheets/", coming_later("Worksheets", "Worksheets."), name="worksheet_list"),
    path("decisions/", coming_later("Decisions", "Decision records."), name="decision_list"),
    path("workloads/<slug:slug>/live/", dashboard.workload_live, name="workload_live"),
    path("flags/", flags.flag_list, name="flag_list"),
    path("flags/<int:pk>/", flags.flag_detail, name="flag_detail"),
    path("flags/<int:pk>/acknowledge/", flags.flag_acknowledge, name="flag_acknowledge"),
    path("flags/<int:pk>/dismiss/", flags.flag_dismiss, name="flag_dismiss"),
    path("flags/<int:pk>/start-decision/", flags.flag_start_decision, name="flag_start_decision"),
]
