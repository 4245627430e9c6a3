"""Background work of the evaluations app: each task takes ids and calls one service."""

from __future__ import annotations

from celery import shared_task

from evaluations.services import finetunes


@shared_task(acks_late=True)
def poll_finetune(job_id: int, token: str) -> None:
    """One step of a fine-tuning job's poller (launch, or poll); it schedules the next itself."""
    finetunes.finetune_step(job_id=job_id, token=token)


@shared_task(name="evaluations.sweep_finetunes")
def sweep_finetunes() -> None:
    """Give a new poller to fine-tuning jobs whose poller died with its worker."""
    finetunes.finetune_sweep()
