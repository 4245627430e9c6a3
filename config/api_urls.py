"""Every /api/v1/ route, one include per app."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("teams.api_urls")),
    path("", include("prompts.api_urls")),
    path("", include("evaluations.api_urls")),
    path("", include("workloads.api_urls")),
    path("", include("decisions.api_urls")),
]
