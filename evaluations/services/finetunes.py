"""Fine-tuning jobs (SPEC §7.4): preview, create, launch, poll, cancel, and what success does.

The life of a job: `finetune_preview` builds the JSONL from a dataset's train (and validation)
split and a prompt version, validates it and estimates the cost, writing nothing;
`finetune_create` stores it (refusing a leaking dataset unless a reason is given) and launches
it. From then on one poller works the job: `finetune_step` uploads the files and creates the
provider's job on its first run, then polls it with exponential backoff and jitter
(`evaluations.backoff`) until a terminal state. Each step claims the job by replacing its
`poll_token` with a conditional UPDATE; a duplicate or late message holding an old token does
nothing, and `finetune_sweep` gives a job whose poller went silent (its worker died) a new one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import openai
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from evaluations import finetune_data, llm_client, selectors
from evaluations.backoff import Schedule
from evaluations.finetune_data import Estimate, Example, Report
from evaluations.finetune_models import (
    ACTIVE_STATUSES,
    REMOTE_STATUSES,
    TERMINAL_STATUSES,
    FineTuneEvent,
    FineTuneJob,
    FineTuneStatus,
    SystemPrompt,
    can_move,
)
from evaluations.models import Dataset, DatasetItem, ModelPrice, Provider, Split, TaskKind
from evaluations.pricing import DEFAULT_FT_MULTIPLIER, price_for
from evaluations.services.prices import model_price_create
from evaluations.services.providers import ProviderUnusable, provider_api_key, provider_base_url
from evaluations.signals import finetune_succeeded
from prompts import content as prompt_content
from prompts.models import PromptVersion
from prompts.selectors import version_resolution

logger = logging.getLogger(__name__)

CALL_TIMEOUT = 30.0
EVENTS_PER_POLL = 100
MAX_EVENTS_PER_POLL = 1000
PREVIEW_LINES = 5
DEFAULT_HYPERPARAMETERS = {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 1.0}
# Answers that no later poll can change: the job is failed with the provider's message.
PERMANENT_ERRORS = ("auth", "not_found", "bad_request")


def schedule() -> Schedule:
    return Schedule(
        base=settings.FINETUNE_POLL_BASE_MS / 1000,
        cap=max(settings.FINETUNE_POLL_CAP_SECONDS, settings.FINETUNE_POLL_BASE_MS / 1000),
        max_attempts=settings.FINETUNE_POLL_MAX_ATTEMPTS,
    )


# --- preparing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """Everything shown before anything is sent."""

    train: list[Example]
    validation: list[Example]
    train_report: Report
    validation_report: Report | None
    system_prompt: str
    estimate: Estimate
    leakage: selectors.LeakageReport
    guidance: list[str]

    @property
    def ok(self) -> bool:
        return self.train_report.ok and (
            self.validation_report is None or self.validation_report.ok
        )

    @property
    def preview_lines(self) -> list[str]:
        return [example.jsonl_line() for example in self.train[:PREVIEW_LINES]]

    def errors(self) -> list[dict]:
        """Every problem, as {file, position, message}."""
        found = [{"file": "training", **p.as_dict()} for p in self.train_report.errors]
        if self.validation_report:
            found += [{"file": "validation", **p.as_dict()} for p in self.validation_report.errors]
        return found


def _label_field(dataset: Dataset) -> str | None:
    # A label answers as JSON ({label_field: label}) when the task's output is a JSON object.
    schema = dataset.output_schema
    if dataset.task_kind == TaskKind.CLASSIFICATION and isinstance(schema, dict):
        return dataset.label_field
    return None


def _system_text(messages: list[dict]) -> str:
    return "\n\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))


def _example(
    item: DatasetItem,
    content: prompt_content.Content,
    resolution: prompt_content.Resolution,
    *,
    mode: str,
    label_field: str | None,
) -> tuple[Example, str]:
    placeholders = {name: [] for name in content.placeholders()}
    try:
        rendered = prompt_content.render(
            content, resolution, variables=item.input or {}, placeholders=placeholders
        )
    except prompt_content.RenderErrors as exc:
        return Example(item.position, [], f"the prompt does not render: {exc}"), ""
    rendered_messages = rendered.messages or [{"role": "user", "content": rendered.text or ""}]
    system = _system_text(rendered_messages)
    turns = [dict(m) for m in rendered_messages if m["role"] not in ("system", "developer")]
    if mode == SystemPrompt.FULL:
        head = [{"role": "system", "content": system}] if system else []
    elif mode == SystemPrompt.MINIMAL:
        system = finetune_data.minimal_prompt(system)
        head = [{"role": "system", "content": system}] if system else []
    else:
        system, head = "", []
    conversation = [
        {"role": str(m.get("role", "")), "content": m.get("content")}
        for m in (item.conversation or [])
    ]
    messages = [*head, *turns, *conversation]
    if item.expected is not None:
        answer = finetune_data.assistant_content(item.expected, label_field=label_field)
        messages.append({"role": "assistant", "content": answer})
    return Example(item.position, messages), system


def build_examples(
    *, dataset: Dataset, version: PromptVersion, split: str, mode: str
) -> tuple[list[Example], str]:
    """The examples of one split (by position) and the system prompt they start with."""
    try:
        resolution = version_resolution(version, dataset.team)
    except prompt_content.ContentInvalid as exc:
        raise ValidationError({"prompt": [f"The prompt version does not resolve: {exc}"]}) from None
    content = version.content
    if mode != SystemPrompt.FULL:
        # Few-shot examples are what fine-tuning replaces.
        content = dataclasses.replace(content, few_shot=[])
    label_field = _label_field(dataset)
    examples, system = [], ""
    items = DatasetItem.objects.filter(dataset=dataset, split=split).order_by("position")
    for item in items.only("position", "input", "expected", "conversation"):
        example, item_system = _example(
            item, content, resolution, mode=mode, label_field=label_field
        )
        examples.append(example)
        system = system or item_system
    return examples, system


def finetune_preview(
    *,
    team,
    dataset: Dataset,
    version: PromptVersion,
    base_model: str,
    n_epochs: int = DEFAULT_HYPERPARAMETERS["n_epochs"],
    system_prompt_mode: str = SystemPrompt.FULL,
) -> Preview:
    """Build and validate the training (and validation) JSONL and estimate the training cost.
    Writes nothing."""
    train, system = build_examples(
        dataset=dataset, version=version, split=Split.TRAIN, mode=system_prompt_mode
    )
    validation, _ = build_examples(
        dataset=dataset, version=version, split=Split.VALIDATION, mode=system_prompt_mode
    )
    train_report = finetune_data.validate(train, model=base_model)
    validation_report = (
        finetune_data.validate(validation, model=base_model, min_examples=1) if validation else None
    )
    price = price_for(team, base_model)
    per_1m = price.training_per_1m if price else None
    if price is None:
        source = f"no row of the price table prices {base_model}"
    elif per_1m is None:
        source = f"{price.source} has no training price"
    else:
        source = price.source
    estimate = finetune_data.estimate(
        tokens_per_epoch=train_report.tokens, epochs=n_epochs, price_per_1m=per_1m,
        price_source=source,
    )  # fmt: skip
    return Preview(
        train=train,
        validation=validation,
        train_report=train_report,
        validation_report=validation_report,
        system_prompt=system,
        estimate=estimate,
        leakage=selectors.dataset_leakage(dataset, examples=0),
        guidance=finetune_data.guidance(len(train)),
    )


def version_ref(version: PromptVersion) -> str:
    slug = getattr(version, "template_slug", None) or version.template.slug
    return f"{slug} v{version.number}"


def finetune_create(
    *,
    team,
    dataset: Dataset,
    version: PromptVersion,
    provider: Provider,
    base_model: str,
    n_epochs: int = DEFAULT_HYPERPARAMETERS["n_epochs"],
    batch_size: int = DEFAULT_HYPERPARAMETERS["batch_size"],
    learning_rate_multiplier: Decimal | float = DEFAULT_HYPERPARAMETERS["learning_rate_multiplier"],
    system_prompt_mode: str = SystemPrompt.FULL,
    workload=None,
    leakage_override_reason: str = "",
    prompt_ref: str = "",
    created_by=None,
) -> FineTuneJob:
    """Store a job from a preview that passed and launch it (after commit). Raises
    ValidationError, writing nothing, when the files do not validate, or when the dataset leaks
    between splits and no reason to go ahead anyway is given."""
    preview = finetune_preview(
        team=team, dataset=dataset, version=version, base_model=base_model, n_epochs=n_epochs,
        system_prompt_mode=system_prompt_mode,
    )  # fmt: skip
    errors: dict[str, list[str]] = {}
    if not preview.ok:
        errors["dataset"] = [
            f"{e['file']} file{f', item #{e["position"]}' if e['position'] else ''}: {e['message']}"
            for e in preview.errors()
        ]
    reason = leakage_override_reason.strip()
    if not preview.leakage.clean and not reason:
        errors["leakage_override_reason"] = [
            f"The dataset leaks: {preview.leakage.groups} text(s) appear in more than one split. "
            "Fix the splits, or give the reason to fine-tune anyway."
        ]
    if errors:
        raise ValidationError(errors)
    estimate = preview.estimate
    with transaction.atomic():
        job = FineTuneJob.objects.create(
            team=team,
            dataset=dataset,
            dataset_name=dataset.name,
            prompt_version=version,
            prompt_ref=prompt_ref or version_ref(version),
            provider=provider,
            workload=workload,
            base_model=base_model,
            system_prompt_mode=system_prompt_mode,
            system_prompt=preview.system_prompt,
            n_epochs=n_epochs,
            batch_size=batch_size,
            learning_rate_multiplier=Decimal(str(learning_rate_multiplier)),
            training_jsonl=finetune_data.jsonl(preview.train),
            validation_jsonl=finetune_data.jsonl(preview.validation),
            report={
                "training": preview.train_report.as_dict(),
                "validation": (
                    preview.validation_report.as_dict() if preview.validation_report else None
                ),
                "guidance": preview.guidance,
            },
            train_examples=len(preview.train),
            validation_examples=len(preview.validation),
            estimated_tokens=estimate.training_tokens,
            estimated_cost=estimate.cost,
            training_price_per_1m=estimate.price_per_1m,
            price_source=estimate.price_source,
            leakage=_leakage_summary(preview.leakage),
            leakage_override_reason=reason if not preview.leakage.clean else "",
            created_by=created_by,
        )
        _event(job, FineTuneEvent.Kind.STATUS, f"Prepared: {job.train_examples} training "
               f"examples, {estimate.training_tokens:,} training tokens estimated",
               data={"to": FineTuneStatus.PREPARING})  # fmt: skip
        if job.leakage_override_reason:
            message = f"Leakage check overridden: {job.leakage_override_reason}"
            _event(job, FineTuneEvent.Kind.MESSAGE, message, level="warning")
        finetune_launch(job=job)
    return job


def _leakage_summary(report: selectors.LeakageReport) -> dict:
    if report.clean:
        return {}
    return {"groups": report.groups, "items": report.items, "pairs": report.pairs}


def _event(job: FineTuneJob, kind: str, message: str, *, level: str = "info", data=None,
           remote_id: str = "", created_at: datetime | None = None) -> None:  # fmt: skip
    FineTuneEvent.objects.create(
        team_id=job.team_id, job=job, kind=kind, level=level, message=message, data=data,
        remote_id=remote_id, created_at=created_at or timezone.now(),
    )  # fmt: skip


# --- launching and polling ----------------------------------------------------------------------


def finetune_launch(*, job: FineTuneJob) -> None:
    """Give a prepared job its poller: the first step uploads the files right after commit."""
    token = uuid.uuid4()
    now = timezone.now()
    FineTuneJob.objects.filter(pk=job.pk, launched_at__isnull=True).update(
        launched_at=now, poll_token=token, next_poll_at=now, poll_attempt=0
    )
    job.launched_at, job.poll_token, job.next_poll_at = now, token, now
    _enqueue(job.pk, token, countdown=0)


def _enqueue(job_id: int, token: uuid.UUID, *, countdown: float) -> None:
    def send() -> None:
        from evaluations.tasks import poll_finetune

        try:
            poll_finetune.apply_async((job_id, str(token)), countdown=countdown, retry=False)
        except Exception:  # noqa: BLE001 - any broker failure is handled the same way
            logger.warning("Could not enqueue fine-tune %s; the sweep will.", job_id, exc_info=True)

    transaction.on_commit(send)


def _claim(job_id: int, token: str) -> tuple[FineTuneJob, uuid.UUID] | None:
    """Take the job from the poller holding `token`, or None if that is not us any more."""
    try:
        token_value = uuid.UUID(str(token))
    except ValueError:
        return None
    mine = uuid.uuid4()
    now = timezone.now()
    claimed = (
        FineTuneJob.objects.filter(pk=job_id, poll_token=token_value)
        .exclude(status__in=TERMINAL_STATUSES)
        .update(poll_token=mine, polled_at=now, next_poll_at=now)
    )
    if claimed != 1:
        return None
    return FineTuneJob.objects.select_related("provider", "team").get(pk=job_id), mine


def _write(job: FineTuneJob, token: uuid.UUID, **fields: Any) -> bool:
    """Save `fields` only while we hold the job; False when a cancel or the sweep took it."""
    updated = FineTuneJob.objects.filter(pk=job.pk, poll_token=token).update(**fields)
    if updated:
        for name, value in fields.items():
            if not isinstance(value, F):
                setattr(job, name, value)
    return bool(updated)


@dataclass(frozen=True)
class StepOutcome:
    action: str  # skipped | scheduled | finished | failed
    status: str | None = None
    delay: float | None = None


def _client(provider: Provider | None) -> openai.OpenAI:
    if provider is None:
        raise ProviderUnusable("The job's provider was deleted.")
    return llm_client.make_client(
        base_url=provider_base_url(provider), api_key=provider_api_key(provider),
        timeout=CALL_TIMEOUT, max_retries=1,
    )  # fmt: skip


def finetune_step(*, job_id: int, token: str, rng: random.Random | None = None) -> StepOutcome:
    """One run of the job's poller: launch it on the provider if not yet done, else poll it;
    then schedule the next run, or finish the job."""
    claim = _claim(job_id, token)
    if claim is None:
        return StepOutcome("skipped")
    job, mine = claim
    try:
        client = _client(job.provider)
    except ProviderUnusable as exc:
        return _fail(job, mine, "provider_unusable", str(exc))
    with client:
        try:
            if not job.remote_job_id:
                _launch_remote(job, mine, client)
            else:
                _poll_remote(job, mine, client)
        except openai.OpenAIError as exc:
            error = llm_client.describe_error(exc)
            if error.kind in PERMANENT_ERRORS:
                return _fail(job, mine, error.kind, error.message)
            _event(job, FineTuneEvent.Kind.MESSAGE, f"Provider unavailable, retrying: {error}",
                   level="warning")  # fmt: skip
    if job.status in TERMINAL_STATUSES:
        return StepOutcome("finished", job.status)
    return _schedule_next(job, mine, rng)


def _schedule_next(job: FineTuneJob, mine: uuid.UUID, rng) -> StepOutcome:
    plan = schedule()
    if plan.exhausted(job.poll_attempt):
        return _fail(job, mine, "poll_timeout", f"Still {job.status} after {job.poll_attempt} "
                     "polls; polling stopped. The provider's job may still finish.")  # fmt: skip
    delay = plan.delay(job.poll_attempt, rng)
    due = timezone.now() + timedelta(seconds=delay)
    if not _write(job, mine, poll_attempt=F("poll_attempt") + 1, next_poll_at=due):
        return StepOutcome("skipped")
    _enqueue(job.pk, mine, countdown=delay)
    return StepOutcome("scheduled", job.status, delay)


def _upload(client: openai.OpenAI, name: str, text: str) -> str:
    uploaded = client.files.create(
        file=(name, text.encode(), "application/jsonl"), purpose="fine-tune"
    )
    return uploaded.id


def _suffix(job: FineTuneJob) -> str:
    return (slugify(job.dataset_name)[:40].strip("-") or "crossover") + f"-{job.pk}"


def _launch_remote(job: FineTuneJob, mine: uuid.UUID, client: openai.OpenAI) -> None:
    # Each id is saved as soon as it exists, so a step that dies halfway resumes after it.
    if not job.training_file_id:
        _write(job, mine, training_file_id=_upload(client, "training.jsonl", job.training_jsonl))
    if job.validation_jsonl and not job.validation_file_id:
        file_id = _upload(client, "validation.jsonl", job.validation_jsonl)
        _write(job, mine, validation_file_id=file_id)
    remote = client.fine_tuning.jobs.create(
        model=job.base_model,
        training_file=job.training_file_id,
        validation_file=job.validation_file_id or openai.NOT_GIVEN,
        suffix=_suffix(job),
        method={"type": "supervised", "supervised": {"hyperparameters": job.hyperparameters}},
        metadata={"crossover_job": str(job.pk)},
    )
    if not _write(job, mine, remote_job_id=remote.id):
        # Cancelled (or taken over) while we were creating it: do not leave it running.
        try:
            client.fine_tuning.jobs.cancel(remote.id)
        except openai.OpenAIError:
            logger.warning("Could not cancel orphan fine-tuning job %s", remote.id)
        return
    _event(job, FineTuneEvent.Kind.MESSAGE, f"Files uploaded; provider job {remote.id} created")
    _apply_remote(job, mine, remote)


def _poll_remote(job: FineTuneJob, mine: uuid.UUID, client: openai.OpenAI) -> None:
    remote = client.fine_tuning.jobs.retrieve(job.remote_job_id)
    _store_events(job, client)
    _apply_remote(job, mine, remote)


def _new_remote_events(job: FineTuneJob, client: openai.OpenAI) -> list:
    """The provider's events not stored yet, oldest first: pages (newest first) are read until
    a stored one, or at most MAX_EVENTS_PER_POLL."""
    known = set(FineTuneEvent.objects.filter(job=job).exclude(remote_id="")
                .values_list("remote_id", flat=True))  # fmt: skip
    found = []
    page = client.fine_tuning.jobs.list_events(job.remote_job_id, limit=EVENTS_PER_POLL)
    for event in page:  # the SDK fetches the next page when one is needed
        if event.id in known or len(found) >= MAX_EVENTS_PER_POLL:
            break
        found.append(event)
    return list(reversed(found))


def _store_events(job: FineTuneJob, client: openai.OpenAI) -> None:
    events = [
        FineTuneEvent(
            team_id=job.team_id,
            job=job,
            remote_id=event.id,
            kind=FineTuneEvent.Kind.METRICS
            if event.type == "metrics"
            else (
                FineTuneEvent.Kind.ERROR if event.level == "error" else FineTuneEvent.Kind.MESSAGE
            ),
            level=event.level or "info",
            message=event.message or "",
            data=event.data if isinstance(event.data, dict) else None,
            created_at=datetime.fromtimestamp(event.created_at, tz=UTC),
        )  # fmt: skip
        for event in _new_remote_events(job, client)
    ]
    FineTuneEvent.objects.bulk_create(events, ignore_conflicts=True)
    metrics = [e.data for e in events if e.kind == FineTuneEvent.Kind.METRICS and e.data]
    if metrics:
        latest = max(metrics, key=lambda data: data.get("step") or 0)
        job.progress = {key: latest.get(key) for key in ("step", "total_steps", "train_loss")}
        FineTuneJob.objects.filter(pk=job.pk).update(progress=job.progress)


def _apply_remote(job: FineTuneJob, mine: uuid.UUID, remote) -> None:
    status = REMOTE_STATUSES.get(remote.status)
    if status is None or not can_move(job.status, status):
        return
    if status == FineTuneStatus.SUCCEEDED:
        _succeed(job, mine, remote)
    elif status == FineTuneStatus.FAILED:
        error = remote.error
        code = getattr(error, "code", None) or "failed"
        message = getattr(error, "message", None) or "The provider reports the job failed."
        _fail(job, mine, code, message)
    elif status == FineTuneStatus.CANCELLED:
        _finish(job, mine, FineTuneStatus.CANCELLED, "Cancelled at the provider")
    else:
        _move(job, mine, status)


def _move(job: FineTuneJob, mine: uuid.UUID, status: str, **fields: Any) -> bool:
    before = job.status
    if not _write(job, mine, status=status, **fields):
        return False
    _event(job, FineTuneEvent.Kind.STATUS, f"Status {before} → {status}",
           data={"from": before, "to": status})  # fmt: skip
    return True


def _finish(job: FineTuneJob, mine: uuid.UUID | None, status: str, message: str,
            **fields: Any) -> bool:  # fmt: skip
    now = timezone.now()
    before = job.status
    with transaction.atomic():
        query = FineTuneJob.objects.filter(pk=job.pk).exclude(status__in=TERMINAL_STATUSES)
        if mine is not None:
            query = query.filter(poll_token=mine)
        if query.update(status=status, finished_at=now, poll_token=None, **fields) != 1:
            return False
        job.status, job.finished_at, job.poll_token = status, now, None
        for name, value in fields.items():
            setattr(job, name, value)
        level = "error" if status == FineTuneStatus.FAILED else "info"
        _event(job, FineTuneEvent.Kind.STATUS, f"Status {before} → {status}: {message}",
               level=level, data={"from": before, "to": status})  # fmt: skip
        _emit_finished(job)
    return True


def _fail(job: FineTuneJob, mine: uuid.UUID, code: str, message: str) -> StepOutcome:
    _finish(job, mine, FineTuneStatus.FAILED, message, error_code=code[:100],
            error_message=message)  # fmt: skip
    return StepOutcome("failed", job.status)


def _succeed(job: FineTuneJob, mine: uuid.UUID, remote) -> None:
    trained = remote.trained_tokens
    actual = (
        finetune_data.training_cost(trained, job.training_price_per_1m)
        if trained is not None
        else None
    )
    # One transaction: nobody sees a succeeded job whose model is not yet priced and served,
    # and a worker dying in between leaves the job running for the next poll, not half done.
    with transaction.atomic():
        finished = _finish(
            job, mine, FineTuneStatus.SUCCEEDED, f"model {remote.fine_tuned_model}",
            fine_tuned_model=remote.fine_tuned_model or "", trained_tokens=trained,
            actual_cost=actual,
        )  # fmt: skip
        if finished:
            register_model(job)
            finetune_succeeded.send(sender=FineTuneJob, job=job)


def register_model(job: FineTuneJob) -> None:
    """Make the fine-tuned model a price (base × multiplier unless the table prices it) and a
    model its provider serves: a ready benchmark candidate."""
    model = job.fine_tuned_model
    rows = list(ModelPrice.objects.for_team(job.team))
    price = price_for(job.team, model, rows=rows)
    priced = price is not None and not price.source.startswith("ft: base")
    if price is not None and not priced:
        with contextlib.suppress(ValidationError):  # registered concurrently
            model_price_create(
                team=job.team, model=model, input_per_1m=price.input_per_1m,
                output_per_1m=price.output_per_1m, training_per_1m=price.training_per_1m,
                notes=f"fine-tune #{job.pk}: base price × {DEFAULT_FT_MULTIPLIER}",
            )  # fmt: skip
    provider = job.provider
    # A known model list grows by the new model; an unknown one (never tested) stays unknown
    # rather than becoming a partial list that would refuse the models it leaves out.
    if (
        provider is not None
        and provider.available_models
        and model not in provider.available_models
    ):
        provider.available_models = sorted({*provider.available_models, model})
        Provider.objects.filter(pk=provider.pk).update(available_models=provider.available_models)


def _emit_finished(job: FineTuneJob) -> None:
    from teams.models import WebhookEvent
    from teams.services import webhook_emit

    webhook_emit(team=job.team, event=WebhookEvent.FINETUNE_FINISHED, payload=finished_payload(job))


def finished_payload(job: FineTuneJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "base_model": job.base_model,
        "fine_tuned_model": job.fine_tuned_model or None,
        "trained_tokens": job.trained_tokens,
        "estimated_cost": job.estimated_cost,
        "actual_cost": job.actual_cost,
        "dataset": job.dataset_name,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
    }


# --- cancel and the sweep -----------------------------------------------------------------------


def finetune_cancel(*, job: FineTuneJob) -> FineTuneJob:
    """Cancel a job that has not finished: at the provider first when it has a job there.
    Raises ValidationError when it has finished, or when the provider refuses."""
    if job.is_terminal:
        raise ValidationError({"status": [f"The job has already {job.status}."]})
    if job.remote_job_id:
        try:
            with _client(job.provider) as client:
                client.fine_tuning.jobs.cancel(job.remote_job_id)
        except ProviderUnusable as exc:
            raise ValidationError({"provider": [str(exc)]}) from None
        except openai.OpenAIError as exc:
            raise ValidationError(
                {"status": [f"The provider refused: {llm_client.describe_error(exc)}"]}
            ) from None
    _finish(job, None, FineTuneStatus.CANCELLED, "cancelled by a member")
    job.refresh_from_db()
    return job


def finetune_sweep(*, now: datetime | None = None) -> list[int]:
    """Give a new poller to every launched job whose poller is overdue (its worker died, or its
    message was lost); returns their ids."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.FINETUNE_POLL_STALE_SECONDS)
    overdue = (
        FineTuneJob.objects.filter(launched_at__isnull=False, next_poll_at__lt=stale)
        .filter(Q(status__in=ACTIVE_STATUSES) | Q(status=FineTuneStatus.PREPARING))
        .values_list("pk", "poll_token")
    )
    taken = []
    for job_id, old in overdue:
        token = uuid.uuid4()
        # Conditional on the token it saw: a poller that woke up meanwhile keeps the job.
        if (
            FineTuneJob.objects.filter(pk=job_id, poll_token=old).update(
                poll_token=token, next_poll_at=now
            )
            == 1
        ):
            _enqueue(job_id, token, countdown=0)
            taken.append(job_id)
    return taken


# --- benchmarking the fine-tuned model ------------------------------------------------------------

BENCHMARK_SPLIT = Split.TEST


def _benchmark_scorers(dataset: Dataset) -> list[dict]:
    if dataset.task_kind == TaskKind.CLASSIFICATION:
        names = ["accuracy", "macro_f1", "json_valid"]
    elif dataset.task_kind == TaskKind.EXTRACTION:
        names = ["exact_match", "json_valid"]
    else:
        names = ["exact_match"]
    if dataset.output_schema is not None and "json_valid" in names:
        names.append("json_schema_valid")
    return [{"name": name} for name in names]


def finetune_prompt(job: FineTuneJob, *, user=None) -> tuple[str, int]:
    """The prompt to call the fine-tuned model with, as (slug, version number): the trained-on
    version itself when training used its full system prompt; else a prompt of its own
    (`<slug>-ft<job id>`, created once) with the system prompt training used and the version's
    other messages, without few-shot examples, on the fine-tuned model."""
    from prompts.content import Content
    from prompts.models import PromptTemplate
    from prompts.services import prompt_template_create, prompt_version_create

    version = job.prompt_version
    slug = version.template.slug
    if job.system_prompt_mode == SystemPrompt.FULL or version.kind != "chat":
        return slug, version.number
    ft_slug = f"{slug}-ft{job.pk}"[:100]
    template = PromptTemplate.objects.for_team(job.team).filter(slug=ft_slug).first()
    if template is None:
        template = prompt_template_create(
            team=job.team, slug=ft_slug,
            name=f"{version.template.name} (fine-tune #{job.pk})"[:200],
            description=f"The {job.get_system_prompt_mode_display().lower()} prompt fine-tune "
            f"#{job.pk} was trained with: call {job.fine_tuned_model} with it.",
            tags=["fine-tune"], actor=user,
        )  # fmt: skip
    latest = template.versions.order_by("-number").first()
    if latest is not None:
        return ft_slug, latest.number
    head = [{"role": "system", "content": job.system_prompt}] if job.system_prompt else []
    rest = [dict(m) for m in version.messages if m.get("role") not in ("system", "developer")]
    content = Content("chat", [*head, *rest], "", job.fine_tuned_model, dict(version.config), [])
    saved = prompt_version_create(
        template=template, content=content, author=user,
        commit_message=f"Prompt of fine-tune #{job.pk} ({job.fine_tuned_model})",
    )  # fmt: skip
    return ft_slug, saved.version.number


def finetune_benchmark_start(*, job: FineTuneJob, user=None):
    """One click: a benchmark run of the fine-tuned model against the current production prompt
    (on the base model) over the dataset's test split, linked to the job and its workload.
    Raises ValidationError when the job has not succeeded or its data or prompt are gone."""
    from evaluations.services.benchmarks import CandidateSpec, benchmark_run_start

    problem = None
    if job.status != FineTuneStatus.SUCCEEDED:
        problem = "Only a fine-tune that succeeded can be benchmarked."
    elif job.dataset is None or job.prompt_version is None or job.provider is None:
        problem = "The job's dataset, prompt or provider was deleted."
    elif job.benchmark_run_id is not None:
        problem = f"Already benchmarked: run #{job.benchmark_run_id}."
    if problem:
        raise ValidationError({"benchmark": [problem]})
    slug = job.prompt_version.template.slug
    with transaction.atomic():
        ft_slug, ft_number = finetune_prompt(job, user=user)
        candidates = [
            CandidateSpec(label="production prompt", approach="prompt", provider=job.provider,
                          model=job.base_model, prompt_slug=slug, prompt_label="production"),
            CandidateSpec(label="fine-tuned", approach="fine-tune", provider=job.provider,
                          model=job.fine_tuned_model, prompt_slug=ft_slug,
                          prompt_number=ft_number),
        ]  # fmt: skip
        run = benchmark_run_start(
            team=job.team, name=f"Fine-tune #{job.pk} vs the production prompt",
            dataset=job.dataset, split=BENCHMARK_SPLIT, candidates=candidates,
            scorers=_benchmark_scorers(job.dataset), workload_id=job.workload_id,
            created_by=user,
        )  # fmt: skip
        # Conditional: two clicks at once start one run (the other rolls back).
        if not FineTuneJob.objects.filter(pk=job.pk, benchmark_run__isnull=True).update(
            benchmark_run=run
        ):
            raise ValidationError({"benchmark": ["Already benchmarked."]})
        job.benchmark_run = run
        _event(job, FineTuneEvent.Kind.MESSAGE, f"Benchmark run #{run.pk} started against the "
               "production prompt")  # fmt: skip
    return run
