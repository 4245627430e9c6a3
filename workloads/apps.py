from __future__ import annotations

from django.apps import AppConfig


class WorkloadsConfig(AppConfig):
    name = "workloads"

    def ready(self) -> None:
        from evaluations.signals import benchmark_finished, finetune_succeeded, prices_changed
        from prompts.signals import prompt_label_moved

        prices_changed.connect(_reassess_team, dispatch_uid="workloads-prices-changed")
        benchmark_finished.connect(_reassess_benchmarked, dispatch_uid="workloads-benchmark")
        prompt_label_moved.connect(_reassess_prompted, dispatch_uid="workloads-prompt-moved")
        finetune_succeeded.connect(_record_finetune, dispatch_uid="workloads-finetune-succeeded")


def _reassess_team(sender, *, team, **kwargs) -> None:
    # Imported here: services import models, which are not ready when this module loads.
    from workloads.models import Assessment
    from workloads.services.assessments import assessment_request_for_team

    assessment_request_for_team(team=team, reason=Assessment.Reason.PRICES)


def _reassess_prompted(sender, *, template, label, **kwargs) -> None:
    from prompts.selectors import PRODUCTION
    from workloads.services.assessments import assessment_request_for_prompt

    if label == PRODUCTION:
        assessment_request_for_prompt(template=template)


def _reassess_benchmarked(sender, *, run, **kwargs) -> None:
    # A finished run linked to a workload brings measured figures to its next assessment.
    from workloads.models import Assessment, Workload
    from workloads.services.assessments import assessment_request

    if run.workload_id is None or run.status != "finished":
        return
    workload = Workload.objects.filter(pk=run.workload_id).first()
    if workload is not None:
        assessment_request(workload=workload, reason=Assessment.Reason.BENCHMARK)


def _record_finetune(sender, *, job, **kwargs) -> None:
    from workloads.models import Workload
    from workloads.services.workloads import workload_record_finetune

    workload = Workload.objects.filter(pk=job.workload_id, team_id=job.team_id).first()
    if workload is not None:
        workload_record_finetune(
            workload=workload, fine_tuned_model=job.fine_tuned_model, training_cost=job.actual_cost
        )
