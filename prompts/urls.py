from __future__ import annotations

from django.urls import path

from teams.views import coming_later

app_name = "prompts"

urlpatterns = [
    path(
        "",
        coming_later(
            "Prompts",
            "The prompt registry (versioned templates, labels, diffs) arrives in the next release.",
        ),
        name="prompt_list",
    ),
]
