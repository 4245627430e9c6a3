"""Background work of the decisions app: each task takes ids, re-fetches and calls one service."""

from __future__ import annotations

from celery import shared_task

from decisions.services import evaluations


@shared_task(name="decisions.evaluate_workload")
def evaluate_workload(workload_id: int, reason: str) -> None:
    """Re-evaluate one workload (enqueued after commit, coalesced per workload)."""
    evaluations.evaluation_run(workload_id=workload_id, reason=reason)


@shared_task(name="decisions.sweep_evaluations")
def sweep_evaluations() -> None:
    """Catch up on re-evaluations that were missed (broker down, lost tasks, held flags)."""
    evaluations.evaluation_sweep()


@shared_task(name="decisions.check_review_dates")
def check_review_dates() -> None:
    """Mark accepted decisions whose review-by date has passed as needing a revisit."""
    evaluations.decisions_check_review_dates()
