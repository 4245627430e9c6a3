from __future__ import annotations

from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"

    def ready(self) -> None:
        from evaluations.signals import prices_changed

        prices_changed.connect(_reevaluate_team, dispatch_uid="decisions-prices-changed")


def _reevaluate_team(sender, *, team, **kwargs) -> None:
    from decisions.models import Evaluation
    from decisions.services.evaluations import evaluation_request_for_team

    evaluation_request_for_team(team=team, reason=Evaluation.Reason.PRICES)
