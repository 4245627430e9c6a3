"""Fine-tuning jobs polled by a real Celery worker over real HTTP to the demo endpoint: a job
launched through the API completes; a worker killed mid-poll is replaced, the sweep gives the
job a new poller and it still completes with one provider job and no event twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from evaluations.models import FineTuneEvent, FineTuneJob, ModelPrice
from evaluations.services import finetunes
from tests.evaluations.finetune_helpers import (
    MODEL,
    demo_provider,
    job_status,
    ticket_dataset,
    ticket_prompt,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_worker_env():
    return {"ALLOW_PRIVATE_NETWORK_TARGETS": "1", "FINETUNE_POLL_BASE_MS": "200",
            "FINETUNE_POLL_CAP_SECONDS": "1"}  # fmt: skip


@pytest.fixture(autouse=True)
def _private_targets(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def launch(api_client_factory, team, make_prompt, base_url) -> FineTuneJob:
    ticket_prompt(make_prompt, team)
    dataset, provider = ticket_dataset(team), demo_provider(team, base_url)
    api = api_client_factory(team, "evaluations:read", "evaluations:write")
    body = {"dataset": dataset.pk, "prompt": {"slug": "triage"}, "base_model": MODEL,
            "provider": provider.pk}  # fmt: skip
    response = api.post("/api/v1/finetunes", body, format="json")
    assert response.status_code == 201, response.content
    return FineTuneJob.objects.get(pk=response.json()["id"])


def assert_completed_once(job: FineTuneJob) -> None:
    job.refresh_from_db()
    assert job.status == "succeeded" and job.poll_token is None
    events = FineTuneEvent.objects.filter(job=job)
    assert events.filter(message__contains="provider job").count() == 1
    statuses = [e.data["to"] for e in events.filter(kind="status").order_by("created_at", "pk")]
    # Forward only, each once; a poll may find the job past a short stage.
    order = ["preparing", "validating", "queued", "running", "succeeded"]
    assert statuses[:2] == ["preparing", "validating"] and statuses[-1] == "succeeded"
    assert statuses == sorted(set(statuses), key=order.index)
    remote = [e.remote_id for e in events.exclude(remote_id="")]
    assert len(remote) == len(set(remote)) and len(remote) >= 9
    assert ModelPrice.objects.filter(team=job.team, model=job.fine_tuned_model).exists()


def test_the_worker_polls_a_launched_job_to_completion(
    live_worker, api_client_factory, team, make_prompt, demo_llm_factory
):
    server = demo_llm_factory(finetune_seconds=2)
    job = launch(api_client_factory, team, make_prompt, server.base_url)
    wait_for(lambda: job_status(job.pk) == "succeeded", timeout=60)
    assert_completed_once(job)
    log = "".join(live_worker.output)
    assert "evaluations.tasks.poll_finetune" in log


def test_a_worker_killed_while_polling_is_replaced_and_the_job_still_completes(
    live_worker_factory, api_client_factory, team, make_prompt, demo_llm_factory
):
    server = demo_llm_factory(finetune_seconds=8)
    first = live_worker_factory()
    job = launch(api_client_factory, team, make_prompt, server.base_url)
    # Polling has begun: the provider job exists and the poller has come back at least twice.
    wait_for(lambda: FineTuneJob.objects.filter(pk=job.pk, poll_attempt__gte=2).exists(),
             timeout=60)  # fmt: skip
    first.kill()  # SIGKILL, as when its machine dies: its scheduled poll dies with it
    first.wait(timeout=15)
    token_before = FineTuneJob.objects.values_list("poll_token", flat=True).get(pk=job.pk)
    second = live_worker_factory()
    # What the periodic sweep does once the poller is overdue.
    overdue = timezone.now() + timedelta(seconds=settings.FINETUNE_POLL_STALE_SECONDS + 5)
    assert finetunes.finetune_sweep(now=overdue) == [job.pk]
    assert finetunes.finetune_sweep(now=overdue) == []  # one new poller, not two
    wait_for(lambda: job_status(job.pk) == "succeeded", timeout=60)
    assert_completed_once(job)
    # The dead worker's message, were it ever redelivered, holds a token nobody accepts.
    assert finetunes.finetune_step(job_id=job.pk, token=str(token_before)).action == "skipped"
    assert "evaluations.tasks.poll_finetune" in "".join(second.output)
