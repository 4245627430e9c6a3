from __future__ import annotations

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"

    def ready(self) -> None:
        from teams.api import schema  # noqa: F401 - registers the bearer scheme for OpenAPI
