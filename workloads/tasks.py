"""Background work of the workloads app: each task takes ids, re-fetches and calls one service."""

from __future__ import annotations

from celery import shared_task

from workloads.services import assessments


@shared_task(name="workloads.assess_workload")
def assess_workload(workload_id: int, reason: str) -> None:
    """Re-assess one workload (tasks published before batches existed)."""
    assessments.assessment_run(workload_id=workload_id, reason=reason)


@shared_task(name="workloads.assess_workloads")
def assess_workloads(workload_ids: list[int], reason: str) -> None:
    """Re-assess a batch of workloads (one task per batch of claimed workloads)."""
    assessments.assessments_run(workload_ids=workload_ids, reason=reason)


@shared_task(name="workloads.sweep_assessments")
def sweep_assessments() -> None:
    """Catch up on re-assessments that were missed (broker down, lost tasks, held flags)."""
    assessments.assessment_sweep()
