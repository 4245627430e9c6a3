from __future__ import annotations

from django.urls import path

from prompts import api

urlpatterns = [
    path("prompts", api.PromptListView.as_view(), name="api-prompt-list"),
    path("prompts/<slug:slug>", api.PromptDetailView.as_view(), name="api-prompt-detail"),
    path("prompts/<slug:slug>/versions", api.VersionListView.as_view(), name="api-prompt-versions"),
    path(
        "prompts/<slug:slug>/versions/<int:number>",
        api.VersionDetailView.as_view(),
        name="api-prompt-version",
    ),
    path("prompts/<slug:slug>/resolve", api.ResolveView.as_view(), name="api-prompt-resolve"),
    path("prompts/<slug:slug>/render", api.RenderView.as_view(), name="api-prompt-render"),
    path("prompts/<slug:slug>/labels", api.LabelListView.as_view(), name="api-prompt-labels"),
    path(
        "prompts/<slug:slug>/labels/<slug:label>",
        api.LabelDetailView.as_view(),
        name="api-prompt-label",
    ),
]
