from __future__ import annotations

from django.urls import path

from decisions.api import flags, usage

urlpatterns = [
    path("usage", usage.UsageView.as_view(), name="api-usage"),
    path("flags", flags.FlagListView.as_view(), name="api-flags"),
]
