from __future__ import annotations

from django.urls import path

from prompts.api import labels, resolve, templates, versions

urlpatterns = [
    path("prompts", templates.PromptListView.as_view(), name="api-prompt-list"),
    path("prompts/<slug:slug>", templates.PromptDetailView.as_view(), name="api-prompt-detail"),
    path(
        "prompts/<slug:slug>/versions",
        versions.VersionListView.as_view(),
        name="api-prompt-versions",
    ),
    path(
        "prompts/<slug:slug>/versions/<int:number>",
        versions.VersionDetailView.as_view(),
        name="api-prompt-version",
    ),
    path("prompts/<slug:slug>/resolve", resolve.ResolveView.as_view(), name="api-prompt-resolve"),
    path("prompts/<slug:slug>/render", resolve.RenderView.as_view(), name="api-prompt-render"),
    path("prompts/<slug:slug>/labels", labels.LabelListView.as_view(), name="api-prompt-labels"),
    path(
        "prompts/<slug:slug>/labels/<slug:label>",
        labels.LabelDetailView.as_view(),
        name="api-prompt-label",
    ),
]
