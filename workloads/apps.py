from __future__ import annotations

from django.apps import AppConfig


class WorkloadsConfig(AppConfig):
    name = "workloads"

    def ready(self) -> None:
        from evaluations.signals import prices_changed

        prices_changed.connect(_reassess_team, dispatch_uid="workloads-prices-changed")


def _reassess_team(sender, *, team, **kwargs) -> None:
    # Imported here: services import models, which are not ready when this module loads.
    from workloads.models import Assessment
    from workloads.services.assessments import assessment_request_for_team

    assessment_request_for_team(team=team, reason=Assessment.Reason.PRICES)
