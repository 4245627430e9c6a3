from __future__ import annotations

from django.urls import path

from decisions.api import roi as roi_api

urlpatterns: list = [
    path("roi/evaluate", roi_api.RoiEvaluateView.as_view(), name="api-roi-evaluate"),
]
