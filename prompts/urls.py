from __future__ import annotations

from django.urls import path

from prompts.views import playground, templates, versions

app_name = "prompts"

urlpatterns = [
    path("", templates.prompt_list, name="prompt_list"),
    path("new/", templates.prompt_create, name="prompt_create"),
    path("import/", templates.prompt_import, name="prompt_import"),
    path("<slug:slug>/", templates.prompt_detail, name="prompt_detail"),
    path("<slug:slug>/settings/", templates.prompt_settings, name="prompt_settings"),
    path("<slug:slug>/export/", templates.prompt_export, name="prompt_export"),
    path("<slug:slug>/labels/move/", templates.prompt_label_move, name="prompt_label_move"),
    path("<slug:slug>/diff/", versions.prompt_diff, name="prompt_diff"),
    path("<slug:slug>/versions/new/", versions.prompt_version_new, name="prompt_version_new"),
    path(
        "<slug:slug>/versions/analyze/",
        versions.prompt_version_analyze,
        name="prompt_version_analyze",
    ),
    path("<slug:slug>/versions/<int:number>/", versions.prompt_version, name="prompt_version"),
    path(
        "<slug:slug>/versions/<int:number>/playground/",
        playground.prompt_playground,
        name="prompt_playground",
    ),
]
