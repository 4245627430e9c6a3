from __future__ import annotations

from django.urls import path

from prompts import views

app_name = "prompts"

urlpatterns = [
    path("", views.prompt_list, name="prompt_list"),
    path("new/", views.prompt_create, name="prompt_create"),
    path("import/", views.prompt_import, name="prompt_import"),
    path("<slug:slug>/", views.prompt_detail, name="prompt_detail"),
    path("<slug:slug>/settings/", views.prompt_settings, name="prompt_settings"),
    path("<slug:slug>/export/", views.prompt_export, name="prompt_export"),
    path("<slug:slug>/labels/move/", views.prompt_label_move, name="prompt_label_move"),
    path("<slug:slug>/diff/", views.prompt_diff, name="prompt_diff"),
    path("<slug:slug>/versions/new/", views.prompt_version_new, name="prompt_version_new"),
    path(
        "<slug:slug>/versions/analyze/",
        views.prompt_version_analyze,
        name="prompt_version_analyze",
    ),
    path("<slug:slug>/versions/<int:number>/", views.prompt_version, name="prompt_version"),
    path(
        "<slug:slug>/versions/<int:number>/playground/",
        views.prompt_playground,
        name="prompt_playground",
    ),
]
