from __future__ import annotations

from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"

    def ready(self) -> None:
        from evaluations import gate as benchmark_gate
        from evaluations.playground import team_providers
        from prompts import gate, playground
        from teams.signals import team_created

        team_created.connect(_seed_prices, dispatch_uid="evaluations-team-created")
        # The prompt playground calls models through the team's providers.
        playground.register(team_providers)
        # Promotions to production of gated prompts need a benchmark run that supports them.
        gate.register(benchmark_gate.check)


def _seed_prices(sender, *, team, **kwargs) -> None:
    # Imported here: pricing imports models, which are not ready when this module loads.
    from evaluations.pricing import seed_default_prices

    seed_default_prices(team)
