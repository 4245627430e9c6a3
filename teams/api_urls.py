from __future__ import annotations

from django.urls import path

from teams.api.me import MeView

urlpatterns = [
    path("me", MeView.as_view(), name="api-me"),
]
