"""Celery tasks of the evaluations app (queue `evaluations`): thin wrappers, one service each."""

from __future__ import annotations

from celery import shared_task

from evaluations.services import benchmarks, finetunes

# A chunk's calls may each wait for timeouts and retries: far longer than the default limits.
CHUNK_SOFT_TIME_LIMIT = 1800
CHUNK_TIME_LIMIT = 1900


@shared_task(acks_late=True, soft_time_limit=CHUNK_SOFT_TIME_LIMIT, time_limit=CHUNK_TIME_LIMIT)
def benchmark_chunk(run_id: int, index: int) -> str:
    return benchmarks.benchmark_chunk_run(run_id=run_id, index=index).status


@shared_task
def requeue_stale_benchmarks() -> int:
    return benchmarks.benchmark_requeue_stale()


@shared_task(acks_late=True)
def poll_finetune(job_id: int, token: str) -> None:
    """One step of a fine-tuning job's poller (launch, or poll); it schedules the next itself."""
    finetunes.finetune_step(job_id=job_id, token=token)


@shared_task
def sweep_finetunes() -> None:
    """Give a new poller to fine-tuning jobs whose poller died with its worker."""
    finetunes.finetune_sweep()
