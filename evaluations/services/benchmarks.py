"""Benchmark runs (SPEC §7.3): start (pin everything, fan out), run a chunk, aggregate once,
cancel, and the sweep that resumes chunks a dead worker left behind.

Execution: `benchmark_run_start` enqueues one `evaluations.tasks.benchmark_chunk` per chunk of
`chunk_size` items after commit. A chunk skips the (item, candidate) pairs already stored, makes
the others with bounded concurrency on one shared `AsyncOpenAI` client per provider
(`evaluations.runner`), and upserts results on (run, item, candidate) in batches. The chunk that
finds every pair stored claims the final aggregation with a conditional UPDATE, so it happens
once however many chunks finish together; `benchmark_requeue_stale` re-enqueues the chunks of a
run whose worker died (a restarted chunk re-does only what is missing).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from evaluations import llm_client, runner, scoring
from evaluations.benchmark_scoring import Scorer, judge_spec
from evaluations.models import (
    BENCHMARK_ACTIVE,
    BenchmarkCandidate,
    BenchmarkResult,
    BenchmarkRun,
    BenchmarkStatus,
    Dataset,
    DatasetItem,
    ModelPrice,
    Provider,
)
from evaluations.pricing import price_for
from evaluations.services.providers import (
    REDACTED,
    ProviderUnusable,
    provider_api_key,
    provider_base_url,
)
from evaluations.signals import benchmark_finished
from evaluations.summary import Call, summarize
from prompts import content as prompt_content
from prompts import playground, selectors
from prompts.models import PromptVersion
from prompts.rendering import TemplateInvalid
from prompts.tokens import content_text
from teams.models import Team, WebhookEvent
from teams.services import webhook_emit

logger = logging.getLogger(__name__)

RAG_CONTEXT_VARIABLE = "context"
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class CandidateSpec:
    """A candidate as asked for: its prompt by version number or by label."""

    label: str
    approach: str
    provider: Provider
    model: str
    prompt_slug: str
    prompt_number: int | None = None
    prompt_label: str | None = None
    rag: bool = False


# Start ------------------------------------------------------------------------------------------


def _resolve(team: Team, spec: CandidateSpec, index: int) -> PromptVersion:
    version = selectors.version_lookup(
        team=team, slug=spec.prompt_slug, label=spec.prompt_label, number=spec.prompt_number
    )
    if version is None:
        reason = selectors.lookup_failure(
            team=team, slug=spec.prompt_slug, label=spec.prompt_label, number=spec.prompt_number
        )
        raise ValidationError({f"candidates.{index}.prompt": [reason]})
    return version


def benchmark_run_start(
    *,
    team: Team,
    name: str,
    dataset: Dataset,
    split: str,
    candidates: Sequence[CandidateSpec],
    scorers: Sequence[Mapping[str, Any]],
    concurrency: int = 10,
    workload_id: int | None = None,
    created_by=None,
    timeout_seconds: float = 60.0,
    max_retries: int = 2,
    chunk_size: int = 100,
    seed: int = 0,
    enqueue: bool = True,
) -> BenchmarkRun:
    """Pin the items of `split` and each candidate's prompt version, store the run, and fan its
    chunks out on the `evaluations` queue after commit (unless `enqueue` is False: the caller
    runs the chunks itself, as the demo data does). Raises ValidationError naming the field
    (a prompt that does not resolve, an empty split, a schema scorer without a schema)."""
    versions = [_resolve(team, spec, i) for i, spec in enumerate(candidates)]
    for i, (spec, version) in enumerate(zip(candidates, versions, strict=True)):
        _check_model(spec, version, i)
    item_ids = list(
        DatasetItem.objects.filter(dataset=dataset).in_split(split or None)
        .order_by("position").values_list("id", flat=True)
    )  # fmt: skip
    if not item_ids:
        where = f"the {split} split of {dataset.name}" if split else dataset.name
        raise ValidationError({"split": [f"There are no items in {where}."]})
    names = [scorer["name"] for scorer in scorers]
    if "json_schema_valid" in names and dataset.output_schema is None:
        raise ValidationError({"scorers": ["json_schema_valid needs a dataset output schema."]})
    _check_judge(scorers, [spec.label for spec in candidates])
    with transaction.atomic():
        run = BenchmarkRun.objects.create(
            team=team, name=name, dataset=dataset, split=split or "", workload_id=workload_id,
            scorers=[dict(s) for s in scorers], label_field=dataset.label_field,
            output_schema=dataset.output_schema, concurrency=concurrency,
            timeout_seconds=timeout_seconds, max_retries=max_retries, chunk_size=chunk_size,
            seed=seed, item_ids=item_ids, total=len(item_ids) * len(candidates),
            created_by=created_by,
        )  # fmt: skip
        BenchmarkCandidate.objects.bulk_create(
            BenchmarkCandidate(
                team=team, run=run, position=i, label=spec.label, approach=spec.approach,
                provider=spec.provider, model=spec.model or version.model,
                prompt_version_id=version.pk,
                prompt_label="" if spec.prompt_number is not None else (spec.prompt_label or ""),
                rag=spec.rag,
            )
            for i, (spec, version) in enumerate(zip(candidates, versions, strict=True))
        )  # fmt: skip
        if enqueue:
            transaction.on_commit(lambda: _enqueue(run.pk, range(run.chunk_count)), robust=True)
    return run


def _check_model(spec: CandidateSpec, version: PromptVersion, index: int) -> None:
    """A model the provider does not serve (by its last connection test) is refused before
    any call: otherwise every call of the candidate fails."""
    model, served = spec.model or version.model, spec.provider.available_models or []
    if not model:
        raise ValidationError({f"candidates.{index}.model": [
            "Name a model: the prompt version names none."
        ]})  # fmt: skip
    if served and model not in served:
        whose = "" if spec.model else " (the prompt's model)"
        listed = ", ".join(served[:12]) + (", …" if len(served) > 12 else "")
        raise ValidationError({f"candidates.{index}.model": [
            f"{spec.provider.display_name} does not serve {model}{whose}: its last connection "
            f"test listed {listed}. Name one of those, or test the connection again."
        ]})  # fmt: skip


def _check_judge(scorers: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> None:
    judge = judge_spec(scorers)
    if judge is not None and judge.get("judge") not in labels:
        named = ", ".join(labels)
        raise ValidationError({"scorers": [
            f"llm_judge: the judge must be one of the run's candidates ({named}); "
            f"got {judge.get('judge')!r}."
        ]})  # fmt: skip


def _enqueue(run_id: int, chunks) -> None:
    from evaluations.tasks import benchmark_chunk

    for index in chunks:
        benchmark_chunk.delay(run_id, index)


# A chunk ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    calls: list[runner.PlannedCall]
    failures: list[tuple[tuple[int, int], llm_client.ChatResult]]  # not callable: render, key
    clients: dict[int, tuple[str, str | None]]  # provider id -> (base URL, key)


def _messages(version: PromptVersion, resolution, item: DatasetItem, rag: bool) -> list[dict]:
    variables = dict(item.input)
    if not rag:
        variables.pop(RAG_CONTEXT_VARIABLE, None)
    content = version.content
    placeholders = {name: item.conversation or [] for name in content.placeholders()}
    rendered = prompt_content.render(
        content, resolution, variables=variables, placeholders=placeholders
    )
    return rendered.messages or [{"role": "user", "content": rendered.text or ""}]


def _failed(model: str, kind: str, message: str) -> llm_client.ChatResult:
    return llm_client.ChatResult("", 0, 0, 0.0, model, llm_client.ChatError(kind, message))


def _prepare(run: BenchmarkRun, candidates, endpoints: Mapping[int, str]):
    """Each provider's (base URL, key), each candidate's prompt resolution, and why the
    candidates that cannot be called cannot be (their calls are stored as failures)."""
    clients, resolutions, unusable, broken = {}, {}, {}, {}
    for candidate in candidates:
        provider = candidate.provider
        if provider.pk not in clients and provider.pk not in broken:
            try:
                base_url = endpoints.get(provider.pk) or provider_base_url(provider)
                clients[provider.pk] = (base_url, provider_api_key(provider))
            except ProviderUnusable as error:
                broken[provider.pk] = str(error)
        if provider.pk in broken:
            unusable[candidate.pk] = ("provider", broken[provider.pk])
            continue
        try:
            resolutions[candidate.pk] = selectors.version_resolution(candidate.prompt_version,
                                                                     run.team)  # fmt: skip
        except (prompt_content.ContentInvalid, TemplateInvalid) as error:
            unusable[candidate.pk] = ("render", str(error))
    return clients, resolutions, unusable


def _plan(run: BenchmarkRun, candidates, items, done: set[tuple[int, int]],
          endpoints: Mapping[int, str], persona=None) -> _Plan:  # fmt: skip
    calls, failures = [], []
    clients, resolutions, unusable = _prepare(run, candidates, endpoints)
    judge = _judge(run, candidates, clients)
    for item in items:
        for candidate in candidates:
            key = (item.pk, candidate.pk)
            if key in done:
                continue
            if candidate.pk in unusable:
                failures.append((key, _failed(candidate.model, *unusable[candidate.pk])))
                continue
            try:
                call = _call(key, candidate, item, resolutions[candidate.pk], persona)
            except prompt_content.RenderErrors as error:
                failures.append((key, _failed(candidate.model, "render", str(error))))
                continue
            calls.append(_judged(call, judge, item) if judge and call.turns is None else call)
    return _Plan(calls, failures, clients)


def _judge(run: BenchmarkRun, candidates, clients) -> tuple[BenchmarkCandidate, str] | None:
    """The run's judging candidate and criteria, when it has an `llm_judge` scorer whose
    candidate's provider can be called (otherwise its outputs are not graded)."""
    spec = judge_spec(run.scorers)
    if spec is None:
        return None
    candidate = next((c for c in candidates if c.label == spec.get("judge")), None)
    if candidate is None or candidate.provider_id not in clients:
        return None
    return candidate, spec.get("criteria") or ""


def _judged(call: runner.PlannedCall, judge, item: DatasetItem) -> runner.PlannedCall:
    candidate, criteria = judge
    user_turns = [m for m in call.messages if m.get("role") == "user"]
    request = content_text(user_turns[-1].get("content")) if user_turns else ""

    def messages(output: str) -> list[dict[str, str]]:
        return scoring.judge_messages(
            criteria=criteria, request=request, expected=item.expected, output=output
        )

    return replace(call, judge=runner.Judge(candidate.provider_id, candidate.model, messages))


def _call(key, candidate, item, resolution, persona) -> runner.PlannedCall:
    """The call of `item` for `candidate`; a persona run plays a conversation turn by turn."""
    params = playground.call_params(candidate.prompt_version.config)
    version, rag = candidate.prompt_version, candidate.rag
    if persona is not None:
        call = persona.conversation_call(
            key=key, candidate=candidate, item=item,
            render=lambda like: _messages(version, resolution, like, rag),
        )  # fmt: skip
        if call is not None:
            return replace(call, params=params)
    messages = _messages(version, resolution, item, rag)
    if persona is not None:
        persona.note(key, messages)
    return runner.PlannedCall(key=key, client=candidate.provider_id, model=candidate.model,
                              messages=messages, params=params)  # fmt: skip


class _Store:
    """Turns finished calls into result rows and upserts them; one per chunk."""

    def __init__(self, run: BenchmarkRun, candidates, items, persona=None) -> None:
        self.run = run
        self.persona = persona  # evaluations.services.persona_runs.PersonaChunk, or None
        self.items = {item.pk: item for item in items}
        self.candidates = {candidate.pk: candidate for candidate in candidates}
        self.scorer = Scorer.build(
            run.scorers, label_field=run.label_field, output_schema=run.output_schema
        )
        rows = list(ModelPrice.objects.for_team(run.team))
        self.prices = {c.model: price_for(run.team, c.model, rows=rows) for c in candidates}

    def _row(self, key: tuple[int, int], result: llm_client.ChatResult) -> BenchmarkResult:
        item_id, candidate_id = key
        row = BenchmarkResult(
            team_id=self.run.team_id, run_id=self.run.pk, item_id=item_id,
            candidate_id=candidate_id, latency_ms=result.latency_ms,
            input_tokens=result.input_tokens, output_tokens=result.output_tokens,
        )  # fmt: skip
        if result.error is not None:
            row.error, row.error_kind = str(result.error)[:2000], result.error.kind
            row.latency_ms = result.latency_ms or None
            return row
        row.output = result.text
        if self.persona is not None:
            self.persona.score(row, result, self.items[item_id], self.candidates[candidate_id])
            return self._priced(row, result, candidate_id)
        verdict, graded = result.verdict, None
        if verdict is not None:
            graded = verdict.text if verdict.ok else None
            row.judge_output = verdict.text if verdict.ok else f"The judge failed: {verdict.error}"
        scored = self.scorer.score(result.text, self.items[item_id].expected, graded)
        row.scores = scored.scores
        row.expected_label = _short(scored.expected_label)
        row.predicted_label = _short(scored.predicted_label)
        return self._priced(row, result, candidate_id)

    def _priced(self, row: BenchmarkResult, result, candidate_id: int) -> BenchmarkResult:
        price = self.prices.get(self.candidates[candidate_id].model)
        if price is not None:
            row.cost = (
                result.input_tokens * price.input_per_1m
                + result.output_tokens * price.output_per_1m
            ) / MILLION
        return row

    def store(self, batch: list[tuple[tuple[int, int], llm_client.ChatResult]]) -> bool:
        """Upsert the batch and refresh the counters; False when the run is no longer active."""
        rows = [self._row(key, result) for key, result in batch]
        with transaction.atomic():
            BenchmarkResult.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["run", "item", "candidate"],
                update_fields=["output", "scores", "expected_label", "predicted_label",
                               "latency_ms", "input_tokens", "output_tokens", "cost", "error",
                               "error_kind", "judge_output"],
            )  # fmt: skip
            if self.persona is not None:
                self.persona.flush()
            return _refresh_counters(self.run.pk) == 1


def _short(label: str | None) -> str | None:
    return None if label is None else label[:200]


def _count(condition: Q) -> Subquery:
    counted = (
        BenchmarkResult.objects.filter(condition, run=OuterRef("pk"))
        .order_by().values("run").annotate(n=Count("*")).values("n")
    )  # fmt: skip
    return Coalesce(Subquery(counted), Value(0))


def _refresh_counters(run_id: int) -> int:
    """Recount the stored calls (never incremented: a re-stored call must not count twice);
    returns 1 when the run is still active."""
    return BenchmarkRun.objects.filter(pk=run_id, status__in=BENCHMARK_ACTIVE).update(
        done=_count(Q()), errors=_count(~Q(error="")), heartbeat_at=timezone.now()
    )


@dataclass(frozen=True)
class ChunkOutcome:
    status: str  # skipped | stopped | done
    made: int = 0


def benchmark_chunk_run(
    *, run_id: int, index: int, endpoints: Mapping[int, str] | None = None
) -> ChunkOutcome:
    """Make the missing calls of chunk `index` of the run, then aggregate if it was the last.

    `endpoints` (provider id → base URL) replaces providers' URLs, unchecked: only for code
    that starts its own simulated endpoint (the demo data), never for input."""
    run = BenchmarkRun.objects.select_related("team").filter(pk=run_id).first()
    if run is None or not run.is_active:
        return ChunkOutcome("skipped")
    now = timezone.now()
    BenchmarkRun.objects.filter(pk=run.pk, status=BenchmarkStatus.QUEUED).update(
        status=BenchmarkStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    item_ids = run.chunk_item_ids(index)
    items = list(DatasetItem.objects.filter(pk__in=item_ids).order_by("position"))
    candidates = list(
        run.candidates.select_related("provider", "prompt_version__template").order_by("position")
    )
    done = set(
        BenchmarkResult.objects.filter(run=run, item_id__in=item_ids)
        .values_list("item_id", "candidate_id")
    )  # fmt: skip
    from evaluations.services.persona_runs import chunk_hook

    persona = chunk_hook(run)
    plan = _plan(run, candidates, items, done, endpoints or {}, persona)
    store = _Store(run, candidates, items, persona)
    active = True
    if plan.failures:
        active = store.store(plan.failures)
    if plan.calls and active:
        active = _execute(run, plan, store)
    if active:
        benchmark_run_finish_if_complete(run_id=run.pk)
    return ChunkOutcome("done" if active else "stopped", len(plan.calls))


_DONE = object()


def _execute(run: BenchmarkRun, plan: _Plan, store: _Store) -> bool:
    """Make the planned calls on an event loop in a helper thread while this thread stores the
    finished batches (the ORM is synchronous, and this keeps the caller's connection and
    transaction). Returns False when the run stopped being active (cancelled)."""
    batches: queue.Queue = queue.Queue()
    stop = threading.Event()

    async def calls() -> None:
        clients = {
            provider_id: llm_client.make_async_client(
                base_url=base_url, api_key=key, timeout=run.timeout_seconds,
                max_retries=run.max_retries,
            )
            for provider_id, (base_url, key) in plan.clients.items()
        }  # fmt: skip

        async def flush(batch) -> bool:
            batches.put([(k, _redacted(r, plan.clients[_provider_of(store, k)][1]))
                         for k, r in batch])  # fmt: skip
            return not stop.is_set()

        try:
            await runner.run_calls(plan.calls, clients, concurrency=run.concurrency, flush=flush)
        finally:
            for client in clients.values():
                await client.close()

    def loop() -> None:
        try:
            asyncio.run(calls())
        except BaseException as error:  # noqa: BLE001 - handed to the storing thread
            batches.put(error)
        finally:
            batches.put(_DONE)

    thread = threading.Thread(target=loop, name=f"benchmark-{run.pk}-calls", daemon=True)
    thread.start()
    active = True
    try:
        while (batch := batches.get()) is not _DONE:
            if isinstance(batch, BaseException):
                raise batch
            if active and not store.store(batch):
                active = False
                stop.set()
    finally:
        stop.set()  # e.g. the task's soft time limit: the calls stop at their next batch
        thread.join(timeout=30)
    return active


def _provider_of(store: _Store, key: tuple[int, int]) -> int:
    return store.candidates[key[1]].provider_id


def _redacted(result: llm_client.ChatResult, key: str | None) -> llm_client.ChatResult:
    # Endpoints echo a wrong key in their error message: it must not be stored.
    if result.error is None or not key or key not in result.error.message:
        return result
    error = llm_client.ChatError(
        result.error.kind, result.error.message.replace(key, REDACTED), result.error.status_code
    )
    return llm_client.ChatResult(
        result.text, result.input_tokens, result.output_tokens, result.latency_ms, result.model,
        error,
    )  # fmt: skip


# Aggregation, cancel, sweep ---------------------------------------------------------------------


def _calls(run: BenchmarkRun, labels: Mapping[int, str]) -> list[Call]:
    rows = BenchmarkResult.objects.filter(run=run).values_list(
        "candidate_id", "error", "latency_ms", "input_tokens", "cost", "scores",
        "expected_label", "predicted_label",
    )  # fmt: skip
    return [
        Call(labels[cid], not error, latency, tokens, cost, scores or {}, want, got)
        for cid, error, latency, tokens, cost, scores, want, got in rows.iterator(chunk_size=5000)
    ]


def benchmark_summary_compute(run: BenchmarkRun) -> dict:
    """The run's summary from its stored rows (what the aggregation stores)."""
    from evaluations.services.persona_runs import extend_summary

    labels = dict(run.candidates.order_by("position").values_list("pk", "label"))
    summary = summarize(list(labels.values()), _calls(run, labels), run.scorer_names, seed=run.seed)
    return extend_summary(run, summary)


def benchmark_run_finish_if_complete(*, run_id: int) -> bool:
    """Aggregate the run if every (item, candidate) is stored; the one caller whose conditional
    UPDATE claims it does the work. Returns whether this call aggregated."""
    complete = BenchmarkRun.objects.filter(
        pk=run_id, status__in=BENCHMARK_ACTIVE, aggregated_at__isnull=True, done=F("total")
    )
    if complete.update(aggregated_at=timezone.now()) != 1:
        return False
    run = BenchmarkRun.objects.select_related("team").get(pk=run_id)
    try:
        summary = benchmark_summary_compute(run)
    except Exception as error:  # noqa: BLE001 - the run must end, and say why
        logger.exception("benchmark %s: aggregation failed", run_id)
        _end(run, BenchmarkStatus.FAILED, failure=f"Aggregation failed: {error}")
        return True
    _end(run, BenchmarkStatus.FINISHED, summary=summary)
    return True


def _end(run: BenchmarkRun, status: str, *, summary: dict | None = None, failure: str = "") -> bool:
    with transaction.atomic():
        fields = {"status": status, "finished_at": timezone.now(), "failure": failure}
        if summary is not None:
            fields["summary"] = summary
        ended = BenchmarkRun.objects.filter(pk=run.pk, status__in=BENCHMARK_ACTIVE).update(**fields)
        if ended != 1:
            return False
        run.refresh_from_db()
        webhook_emit(team=run.team, event=WebhookEvent.BENCHMARK_FINISHED,
                     payload=benchmark_payload(run))  # fmt: skip
        transaction.on_commit(
            lambda: benchmark_finished.send(sender=BenchmarkRun, run=run), robust=True
        )
    return True


def benchmark_payload(run: BenchmarkRun) -> dict[str, Any]:
    """What the `benchmark.finished` webhook says."""
    return {
        "id": run.pk,
        "name": run.name,
        "status": run.status,
        "dataset": run.dataset_id,
        "split": run.split,
        "workload": run.workload_id,
        "progress": run.progress,
        "summary": run.summary,
        "failure": run.failure,
        "finished_at": run.finished_at,
    }


def benchmark_run_cancel(*, run: BenchmarkRun) -> bool:
    """Stop an active run: chunks stop at their next batch; stored results stay. Returns False
    when the run had already ended."""
    return _end(run, BenchmarkStatus.CANCELLED)


def benchmark_requeue_stale(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Re-enqueue the chunks with missing results of active runs nothing has stored results
    for since `older_than` (a worker died, or the broker was down at start); claims each run
    by moving its heartbeat so that two sweeps do not both requeue it. Returns the chunks sent."""
    cutoff = timezone.now() - older_than
    sent = 0
    stale = (
        BenchmarkRun.objects.active()
        .annotate(seen=Coalesce("heartbeat_at", "created_at"))
        .filter(seen__lte=cutoff)
    )
    for run in stale.only("pk", "item_ids", "chunk_size", "heartbeat_at", "created_at"):
        claimed = BenchmarkRun.objects.filter(pk=run.pk, status__in=BENCHMARK_ACTIVE).filter(
            Q(heartbeat_at=run.heartbeat_at) if run.heartbeat_at else Q(heartbeat_at__isnull=True)
        )
        if claimed.update(heartbeat_at=timezone.now()) != 1:
            continue
        missing = _missing_chunks(run)
        if missing:
            _enqueue(run.pk, missing)
            sent += len(missing)
        else:
            benchmark_run_finish_if_complete(run_id=run.pk)
    return sent


def _missing_chunks(run: BenchmarkRun) -> list[int]:
    candidates = run.candidates.count()
    stored = dict(
        BenchmarkResult.objects.filter(run=run).values("item_id").annotate(n=Count("*"))
        .values_list("item_id", "n")
    )  # fmt: skip
    return [
        index
        for index in range(run.chunk_count)
        if any(stored.get(pk, 0) < candidates for pk in run.chunk_item_ids(index))
    ]
