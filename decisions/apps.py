from __future__ import annotations

from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"

    def ready(self) -> None:
        from workloads.signals import workloads_assessed

        workloads_assessed.connect(_check_revisit, dispatch_uid="decisions-workloads-assessed")


def _check_revisit(sender, *, assessments, **kwargs) -> None:
    # Imported here: services import models, which are not ready when this module loads.
    from decisions.services.revisit import decisions_revisit_check

    decisions_revisit_check(
        checks=[(assessment.workload, assessment.metrics()) for assessment in assessments]
    )
