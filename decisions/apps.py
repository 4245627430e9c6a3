from __future__ import annotations

from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"

    def ready(self) -> None:
        from workloads.signals import workload_assessed

        workload_assessed.connect(_check_revisit, dispatch_uid="decisions-workload-assessed")


def _check_revisit(sender, *, assessment, **kwargs) -> None:
    # Imported here: services import models, which are not ready when this module loads.
    from decisions.services.revisit import decision_revisit_check

    decision_revisit_check(workload=assessment.workload, metrics=assessment.metrics())
