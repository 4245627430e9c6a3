"""Celery tasks of the teams app: thin wrappers that call one service each."""

from __future__ import annotations

from celery import shared_task

from teams import services


@shared_task(bind=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    # The service owns the attempt count and gives up on its own; Celery only schedules the
    # next attempt, with the exponential backoff the service computed.
    outcome = services.webhook_deliver(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task
def requeue_stale_webhook_deliveries() -> int:
    return services.webhook_requeue_stale()
