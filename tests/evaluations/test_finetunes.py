"""Fine-tuning jobs over real HTTP to the demo endpoint: the JSONL and each validation error, the
estimate, the leakage refusal, the poller's claim and schedule, success (model and price
registered, workload updated, webhook), failure and cancel."""

from __future__ import annotations

import json
import random
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from evaluations import finetune_data
from evaluations.backoff import Schedule
from evaluations.models import FineTuneEvent, FineTuneJob, ModelPrice, Provider
from evaluations.pricing import price_for
from evaluations.services import finetunes
from evaluations.services.datasets import dataset_items_add
from prompts.tokens import count_message_tokens
from teams.models import WebhookDelivery, WebhookEvent
from teams.services import webhook_create
from tests.evaluations.finetune_helpers import (
    MODEL,
    SYSTEM,
    demo_provider,
    ticket_dataset,
    ticket_prompt,
)
from tests.factories import WorkloadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_llm_server(demo_llm_factory):
    """A demo endpoint of this test's own: the models its fine-tunes create must not appear in
    the model lists other tests read from the shared one."""
    return demo_llm_factory().base_url


@pytest.fixture(autouse=True)
def _fast_polls(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    settings.FINETUNE_POLL_BASE_MS = 50
    settings.FINETUNE_POLL_CAP_SECONDS = 1
    settings.FINETUNE_POLL_MAX_ATTEMPTS = 200


@pytest.fixture
def version(team, make_prompt):
    return ticket_prompt(make_prompt, team)


@pytest.fixture
def dataset(team):
    return ticket_dataset(team)


def create(team, dataset, version, provider, **kwargs):
    kwargs.setdefault("base_model", MODEL)
    return finetunes.finetune_create(
        team=team, dataset=dataset, version=version, provider=provider, **kwargs
    )


def assert_timeline(statuses: list[str]) -> None:
    # Forward only; a poll may find the job past a short stage (queued), never back.
    assert statuses[:2] == ["preparing", "validating"] and statuses[-1] == "succeeded"
    order = ["preparing", "validating", "queued", "running", "succeeded"]
    assert statuses == sorted(statuses, key=order.index) and len(set(statuses)) == len(statuses)


def run_poller(job: FineTuneJob, *, limit=400) -> FineTuneJob:
    """Run the job's poller in this process, step after step, as the worker would."""
    for _ in range(limit):
        job.refresh_from_db()
        if job.is_terminal:
            return job
        outcome = finetunes.finetune_step(job_id=job.pk, token=str(job.poll_token))
        assert outcome.action != "skipped"
        if outcome.delay:
            import time

            time.sleep(min(outcome.delay, 0.2))
    raise AssertionError(f"job still {job.status}")


# The JSONL -------------------------------------------------------------------------------------


def test_preview_builds_chat_jsonl_from_the_train_split_with_the_prompt(team, dataset, version):
    preview = finetunes.finetune_preview(
        team=team, dataset=dataset, version=version, base_model=MODEL
    )
    assert len(preview.train) == 12 and len(preview.validation) == 2
    first = json.loads(preview.preview_lines[0])
    assert first == {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Ticket: train ticket 0 about question"},
            {"role": "assistant", "content": '{"category": "question"}'},
        ]
    }
    assert preview.ok and preview.train_report.errors == []
    # Tokens are billed as the API counts them: every example, framing included.
    expected = sum(count_message_tokens(e.messages, MODEL) for e in preview.train)
    assert preview.train_report.tokens == expected
    assert preview.estimate.training_tokens == expected * 3


def test_minimal_system_prompt_keeps_the_task_statement_and_drops_few_shot(
    team, dataset, make_prompt
):
    few = [{"input": "Ticket: my card failed", "output": '{"category": "billing"}'}]
    version = ticket_prompt(make_prompt, team, slug="fewshot", few_shot=few)
    full = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                      base_model=MODEL)  # fmt: skip
    minimal = finetunes.finetune_preview(
        team=team, dataset=dataset, version=version, base_model=MODEL,
        system_prompt_mode="minimal",
    )  # fmt: skip
    assert len(full.train[0].messages) == 5  # system, the few-shot pair, user, assistant
    assert minimal.train[0].messages[0] == {
        "role": "system", "content": "You classify support tickets."
    }  # fmt: skip
    assert [m["role"] for m in minimal.train[0].messages] == ["system", "user", "assistant"]
    assert minimal.train_report.tokens < full.train_report.tokens
    none = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                      base_model=MODEL, system_prompt_mode="none")  # fmt: skip
    assert [m["role"] for m in none.train[0].messages] == ["user", "assistant"]


def test_a_conversation_item_becomes_the_turns_of_its_example(team, version):
    dataset = ticket_dataset(team, extra=[{
        "input": {"ticket": "chat"}, "split": "train",
        "conversation": [{"role": "user", "content": "hello"},
                         {"role": "assistant", "content": "Great choice!"}],
    }])  # fmt: skip
    preview = finetunes.finetune_preview(
        team=team, dataset=dataset, version=version, base_model=MODEL
    )
    last = preview.train[-1].messages
    assert [m["role"] for m in last] == ["system", "user", "user", "assistant"]
    assert last[-1]["content"] == "Great choice!"


# Validation errors ------------------------------------------------------------------------------


def errors_of(preview) -> list[str]:
    return [f"{e['position']}: {e['message']}" for e in preview.errors()]


def test_an_item_without_expected_output_has_no_assistant_message(team, version):
    dataset = ticket_dataset(team, extra=[{"input": {"ticket": "no label"}, "split": "train"}])
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL)  # fmt: skip
    assert not preview.ok
    assert errors_of(preview) == ["18: no assistant message: there is nothing to learn"]


def test_empty_content_is_an_error_naming_the_message(team, version):
    dataset = ticket_dataset(team, extra=[{"input": {"ticket": "x"}, "expected": "   ",
                                           "split": "train"}])  # fmt: skip
    # A bare label answers JSON here, so use a free-text dataset to get an empty answer.
    dataset.output_schema = None
    dataset.save()
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL)  # fmt: skip
    assert errors_of(preview) == ["18: message 3 (assistant): empty content"]


def test_a_conversation_with_an_unknown_role_or_ending_with_the_user_is_refused(team, version):
    dataset = ticket_dataset(team, extra=[
        {"input": {"ticket": "a"}, "split": "train",
         "conversation": [{"role": "tool", "content": "x"}, {"role": "assistant", "content": "y"}]},
        {"input": {"ticket": "b"}, "split": "train",
         "conversation": [{"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]},
    ])  # fmt: skip
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL)  # fmt: skip
    assert errors_of(preview) == [
        "18: message 3: role 'tool' is not one of system, user, assistant",
        "19: the last message must be the assistant's",
    ]


def test_an_example_longer_than_the_models_training_context_is_refused(team, version):
    long_ticket = "word " * 17_000
    dataset = ticket_dataset(team, extra=[{"input": {"ticket": long_ticket}, "expected": "billing",
                                           "split": "train"}])  # fmt: skip
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL)  # fmt: skip
    (error,) = errors_of(preview)
    assert error.startswith("18: 17,") and "more than the 16,385 of one demo-prompted" in error
    assert finetune_data.training_context("gpt-4o-mini-2024-07-18") == 65_536


def test_too_few_examples_is_an_error_and_the_seeds_guidance_is_shown(team, version):
    dataset = ticket_dataset(team, train=9)
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL)  # fmt: skip
    assert errors_of(preview) == ["None: 9 examples: the fine-tuning API needs at least 10"]
    assert "50–100 curated" in preview.guidance[0]
    assert "500+ labeled examples" in preview.guidance[1]
    assert finetune_data.guidance(500) == []
    assert len(finetune_data.guidance(120)) == 1


def test_a_variable_the_item_lacks_is_an_error_of_that_item(team, version):
    dataset = ticket_dataset(team, extra=[{"input": {"subject": "x"}, "expected": "billing",
                                           "split": "train"}])  # fmt: skip
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL)  # fmt: skip
    (error,) = errors_of(preview)
    assert error.startswith("18: the prompt does not render") and "ticket" in error


def test_create_refuses_invalid_files_and_writes_nothing(team, version, demo_llm_server):
    dataset = ticket_dataset(team, train=3)
    provider = demo_provider(team, demo_llm_server)
    with pytest.raises(ValidationError) as caught:
        create(team, dataset, version, provider)
    assert "needs at least 10" in caught.value.message_dict["dataset"][0]
    assert not FineTuneJob.objects.exists()


# Estimate and leakage ----------------------------------------------------------------------------


def test_estimate_is_training_tokens_times_epochs_times_the_training_price(team, dataset, version):
    ModelPrice.objects.for_team(team).filter(model="demo-*").update(training_per_1m=Decimal(8))
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL, n_epochs=4)  # fmt: skip
    tokens = preview.train_report.tokens
    assert preview.estimate.training_tokens == tokens * 4
    assert preview.estimate.cost == (Decimal(tokens * 4) * 8 / 1_000_000).quantize(
        Decimal("0.000001")
    )
    assert preview.estimate.price_source == "demo-*"


def test_estimate_without_a_training_price_says_so(team, dataset, version):
    ModelPrice.objects.for_team(team).filter(model="demo-*").update(training_per_1m=None)
    preview = finetunes.finetune_preview(team=team, dataset=dataset, version=version,
                                         base_model=MODEL)  # fmt: skip
    assert preview.estimate.cost is None
    assert preview.estimate.price_source == "demo-* has no training price"


def test_a_leaking_dataset_is_refused_unless_a_reason_is_recorded(team, version, demo_llm_server):
    dup = {"input": {"ticket": "test ticket 0 about question"}, "expected": "question",
           "split": "train"}  # fmt: skip
    dataset = ticket_dataset(team, extra=[dup])
    provider = demo_provider(team, demo_llm_server)
    with pytest.raises(ValidationError) as caught:
        create(team, dataset, version, provider)
    assert "leaks" in caught.value.message_dict["leakage_override_reason"][0]
    assert not FineTuneJob.objects.exists()
    job = create(team, dataset, version, provider,
                 leakage_override_reason="  The duplicate is a known FAQ.  ")  # fmt: skip
    assert job.leakage_override_reason == "The duplicate is a known FAQ."
    assert job.leakage["groups"] == 1
    assert job.events.filter(message__contains="Leakage check overridden").exists()


# The schedule -----------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half():
    plan = Schedule(base=5, factor=2, cap=60, max_attempts=10)
    assert [plan.ceiling(n) for n in range(6)] == [5, 10, 20, 40, 60, 60]
    rng = random.Random(1)
    delays = [plan.delay(n, rng) for n in range(6) for _ in range(50)]
    for n in range(6):
        chunk = delays[n * 50 : (n + 1) * 50]
        assert all(plan.ceiling(n) / 2 <= d <= plan.ceiling(n) for d in chunk)
        assert len(set(chunk)) == 50  # jittered: never in step
    assert plan.ceiling(10_000) == 60  # no overflow
    assert not plan.exhausted(9) and plan.exhausted(10)
    with pytest.raises(ValueError):
        Schedule(base=0)


def test_each_step_schedules_the_next_by_the_backoff(team, dataset, version, demo_llm_factory,
                                                      settings):  # fmt: skip
    settings.FINETUNE_POLL_BASE_MS = 1000
    settings.FINETUNE_POLL_CAP_SECONDS = 4
    server = demo_llm_factory(finetune_seconds=60)
    job = create(team, dataset, version, demo_provider(team, server.base_url))
    delays = []
    for _ in range(5):
        job.refresh_from_db()
        outcome = finetunes.finetune_step(job_id=job.pk, token=str(job.poll_token),
                                          rng=random.Random(0))  # fmt: skip
        delays.append(outcome.delay)
    ceilings = [1, 2, 4, 4, 4]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays
    job.refresh_from_db()
    assert job.poll_attempt == 5 and job.remote_job_id.startswith("ftjob-")


def test_polling_is_bounded(team, dataset, version, demo_llm_factory, settings):
    settings.FINETUNE_POLL_MAX_ATTEMPTS = 3
    server = demo_llm_factory(finetune_seconds=60)
    job = create(team, dataset, version, demo_provider(team, server.base_url))
    job = run_poller(job)
    assert job.status == "failed" and job.error_code == "poll_timeout"
    assert job.poll_attempt == 3


# The claim ----------------------------------------------------------------------------------------


def test_a_stale_or_duplicate_message_does_nothing(team, dataset, version, demo_llm_server):
    job = create(team, dataset, version, demo_provider(team, demo_llm_server))
    token = str(job.poll_token)
    first = finetunes.finetune_step(job_id=job.pk, token=token)
    assert first.action == "scheduled"
    # The same message delivered twice (a redelivery after a worker restart): skipped.
    assert finetunes.finetune_step(job_id=job.pk, token=token).action == "skipped"
    assert finetunes.finetune_step(job_id=job.pk, token=str(uuid.uuid4())).action == "skipped"
    assert finetunes.finetune_step(job_id=job.pk, token="not-a-uuid").action == "skipped"
    job.refresh_from_db()
    assert job.poll_attempt == 1
    # One provider job, however many messages arrived.
    assert job.events.filter(message__contains="provider job").count() == 1


def test_the_sweep_replaces_a_silent_poller_only(team, dataset, version, demo_llm_server,
                                                 settings):  # fmt: skip
    from datetime import timedelta

    from django.utils import timezone

    job = create(team, dataset, version, demo_provider(team, demo_llm_server))
    assert finetunes.finetune_sweep() == []  # due now: its poller is alive
    later = timezone.now() + timedelta(seconds=settings.FINETUNE_POLL_STALE_SECONDS + 1)
    old = str(job.poll_token)
    assert finetunes.finetune_sweep(now=later) == [job.pk]
    job.refresh_from_db()
    assert str(job.poll_token) != old
    assert finetunes.finetune_step(job_id=job.pk, token=old).action == "skipped"
    assert run_poller(job).status == "succeeded"


# Success, failure, cancel ---------------------------------------------------------------------


def test_success_registers_the_model_price_candidate_workload_and_webhook(
    team, dataset, version, demo_llm_server, http_receiver
):
    ModelPrice.objects.for_team(team).filter(model="demo-*").update(training_per_1m=Decimal(3))
    webhook_create(team=team, url=f"{http_receiver.url}/hooks",
                   events=[WebhookEvent.FINETUNE_FINISHED])  # fmt: skip
    workload = WorkloadFactory(team=team, model=MODEL,
                               parameters={"training_cost": 999})  # fmt: skip
    provider = demo_provider(team, demo_llm_server)
    Provider.objects.filter(pk=provider.pk).update(available_models=[MODEL])  # as tested
    job = create(team, dataset, version, provider, workload=workload, n_epochs=2)
    job = run_poller(job)
    assert job.status == "succeeded"
    assert job.fine_tuned_model.startswith(f"ft:{MODEL}:crossover-demo:tickets-{job.pk}:")
    # The demo bills the file's tokens × epochs, exactly what was estimated.
    assert job.trained_tokens == job.estimated_tokens
    assert job.actual_cost == (Decimal(job.trained_tokens) * 3 / 1_000_000).quantize(
        Decimal("0.000001")
    )
    row = ModelPrice.objects.for_team(team).get(model=job.fine_tuned_model)
    assert (row.input_per_1m, row.output_per_1m) == (Decimal("0.30"), Decimal("1.20"))
    assert Provider.objects.get(pk=provider.pk).available_models == sorted(
        [MODEL, job.fine_tuned_model]
    )
    workload.refresh_from_db()
    assert workload.ft_model == job.fine_tuned_model
    assert workload.parameters["training_cost"] == float(job.actual_cost)
    delivery = WebhookDelivery.objects.get(event="finetune.finished")
    assert delivery.payload["status"] == "succeeded"
    assert delivery.payload["fine_tuned_model"] == job.fine_tuned_model
    statuses = [e.data["to"] for e in job.events.filter(kind="status").order_by("pk")]
    assert_timeline(statuses)
    # The provider's events are stored once each, metrics with their data.
    metrics = job.events.filter(kind="metrics")
    assert metrics.count() == 5 and metrics.last().data["step"] == metrics.last().data[
        "total_steps"]  # fmt: skip
    assert job.progress_percent == 100


def test_success_is_stored_with_the_model_registration_or_not_at_all(
    team, dataset, version, demo_llm_server, monkeypatch
):
    # A job is never seen succeeded without its model priced: if registering it fails, the
    # success is not stored either, and the next poll completes both.
    job = create(team, dataset, version, demo_provider(team, demo_llm_server))
    register = finetunes.register_model

    def broken(job):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(finetunes, "register_model", broken)
    with pytest.raises(RuntimeError):
        run_poller(job)
    job.refresh_from_db()
    assert job.status != "succeeded" and not job.fine_tuned_model
    assert not job.events.filter(kind="status", data__to="succeeded").exists()
    monkeypatch.setattr(finetunes, "register_model", register)
    job = run_poller(job)
    assert job.status == "succeeded"
    assert ModelPrice.objects.for_team(team).filter(model=job.fine_tuned_model).exists()


def test_a_model_already_priced_keeps_its_price(team, dataset, version, demo_llm_server):
    ModelPrice.objects.create(team=team, model="ft:demo-prompted:*", input_per_1m=Decimal(1),
                              output_per_1m=Decimal(2))  # fmt: skip
    job = run_poller(create(team, dataset, version, demo_provider(team, demo_llm_server)))
    assert not ModelPrice.objects.for_team(team).filter(model=job.fine_tuned_model).exists()
    assert price_for(team, job.fine_tuned_model).source == "ft:demo-prompted:*"


def test_a_file_the_provider_refuses_fails_the_job_with_its_error(team, version, demo_llm_server):
    dataset = ticket_dataset(team)
    job = create(team, dataset, version, demo_provider(team, demo_llm_server))
    # What the provider checks is the stored file: make it one the provider refuses.
    FineTuneJob.objects.filter(pk=job.pk).update(training_jsonl='{"messages": "x"}\n')
    job = run_poller(job)
    assert job.status == "failed" and job.error_code == "invalid_training_file"
    assert "missing 'messages'" in job.error_message
    assert job.events.filter(kind="error").exists()
    assert WebhookDelivery.objects.count() == 0  # no webhook subscribed


def test_an_unknown_base_model_fails_the_job(team, dataset, version, demo_llm_server):
    job = create(team, dataset, version, demo_provider(team, demo_llm_server),
                 base_model="gpt-unknown")  # fmt: skip
    job = run_poller(job)
    assert job.status == "failed" and job.error_code == "bad_request"
    assert "not available for fine-tuning" in job.error_message


def test_cancel_stops_the_provider_job_and_the_poller(team, dataset, version, demo_llm_factory):
    server = demo_llm_factory(finetune_seconds=60)
    job = create(team, dataset, version, demo_provider(team, server.base_url))
    token = str(job.poll_token)
    finetunes.finetune_step(job_id=job.pk, token=token)
    job.refresh_from_db()
    job = finetunes.finetune_cancel(job=job)
    assert job.status == "cancelled" and job.poll_token is None
    assert finetunes.finetune_step(job_id=job.pk, token=token).action == "skipped"
    with pytest.raises(ValidationError):
        finetunes.finetune_cancel(job=job)


def test_cancel_before_launch_needs_no_provider(team, dataset, version, demo_llm_server):
    job = create(team, dataset, version, demo_provider(team, demo_llm_server))
    job = finetunes.finetune_cancel(job=job)
    assert job.status == "cancelled"
    assert not job.remote_job_id
    assert FineTuneEvent.objects.filter(job=job, data__to="cancelled").count() == 1


def test_items_added_later_do_not_change_a_prepared_job(team, dataset, version, demo_llm_server):
    job = create(team, dataset, version, demo_provider(team, demo_llm_server))
    dataset_items_add(dataset=dataset, items=[{"input": {"ticket": "new"}, "expected": "billing",
                                               "split": "train"}])  # fmt: skip
    assert job.training_jsonl.count("\n") == 12


def test_a_succeeded_fine_tune_is_a_ready_candidate_with_its_prompt(
    team, dataset, version, demo_llm_server
):
    from evaluations.selectors import finetune_candidates

    provider = demo_provider(team, demo_llm_server)
    job = create(team, dataset, version, provider, system_prompt_mode="minimal")
    assert list(finetune_candidates(team)) == []
    run_poller(job)
    (candidate,) = finetune_candidates(team)
    assert candidate.fine_tuned_model == job.fine_tuned_model
    assert candidate.provider == provider
    assert candidate.system_prompt == "You classify support tickets."


def test_a_job_cancelled_at_the_provider_ends_cancelled_with_a_webhook(
    team, dataset, version, demo_llm_factory, http_receiver
):
    from evaluations import llm_client

    webhook_create(team=team, url=f"{http_receiver.url}/hooks",
                   events=[WebhookEvent.FINETUNE_FINISHED])  # fmt: skip
    server = demo_llm_factory(finetune_seconds=60)
    job = create(team, dataset, version, demo_provider(team, server.base_url))
    finetunes.finetune_step(job_id=job.pk, token=str(job.poll_token))
    job.refresh_from_db()
    # Someone cancels it in the provider's own console.
    with llm_client.make_client(base_url=server.base_url, api_key=None) as client:
        client.fine_tuning.jobs.cancel(job.remote_job_id)
    job = run_poller(job)
    assert job.status == "cancelled" and job.poll_token is None and job.finished_at
    delivery = WebhookDelivery.objects.get(event="finetune.finished")
    assert delivery.payload["status"] == "cancelled"
    assert delivery.payload["fine_tuned_model"] is None
    assert not ModelPrice.objects.for_team(team).filter(model__startswith="ft:").exists()


def test_a_failed_job_sends_its_error_in_the_webhook(team, dataset, version, demo_llm_server,
                                                     http_receiver):  # fmt: skip
    webhook_create(team=team, url=f"{http_receiver.url}/hooks",
                   events=[WebhookEvent.FINETUNE_FINISHED])  # fmt: skip
    job = create(team, dataset, version, demo_provider(team, demo_llm_server),
                 base_model="gpt-unknown")  # fmt: skip
    run_poller(job)
    payload = WebhookDelivery.objects.get(event="finetune.finished").payload
    assert payload["status"] == "failed" and payload["error"]["code"] == "bad_request"


def test_an_unreachable_provider_is_retried_not_failed(team, dataset, version, settings):
    provider = demo_provider(team, "http://127.0.0.1:9/v1")  # nothing listens on port 9
    job = create(team, dataset, version, provider)
    outcome = finetunes.finetune_step(job_id=job.pk, token=str(job.poll_token))
    assert outcome.action == "scheduled"
    job.refresh_from_db()
    assert job.status == "preparing" and job.poll_attempt == 1
    assert job.events.filter(message__startswith="Provider unavailable, retrying").exists()


def test_events_are_read_page_by_page_until_a_stored_one(team, dataset, version,
                                                         demo_llm_server, monkeypatch):  # fmt: skip
    monkeypatch.setattr(finetunes, "EVENTS_PER_POLL", 2)
    job = run_poller(create(team, dataset, version, demo_provider(team, demo_llm_server)))
    remote = list(job.events.exclude(remote_id="").order_by("created_at", "pk"))
    # Every event of the simulated job, each once, in the provider's order.
    assert len(remote) == 11
    assert [e.remote_id for e in remote] == sorted(e.remote_id for e in remote)
    assert remote[0].message.startswith("Created fine-tuning job")
    assert remote[-1].message == "The job has successfully completed"
