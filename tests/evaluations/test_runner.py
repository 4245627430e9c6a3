"""Benchmark runs executed by a real Celery worker over real HTTP to the demo endpoint."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from evaluations import stats
from evaluations.models import BenchmarkResult, BenchmarkStatus
from evaluations.services import benchmarks
from evaluations.services.benchmarks import benchmark_requeue_stale, benchmark_run_cancel
from teams.models import WebhookDelivery, WebhookEvent
from teams.services import webhook_create
from tests.evaluations.benchmark_helpers import scenario, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_worker_env():
    return {"ALLOW_PRIVATE_NETWORK_TARGETS": "1"}


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def ended(run):
    return not run.is_active


def test_a_run_executes_on_a_worker_and_every_figure_comes_from_the_rows(
    team, user, demo_llm_server, live_worker
):
    webhook_create(team=team, url="https://hooks.example.com/x",
                   events=[WebhookEvent.BENCHMARK_FINISHED])  # fmt: skip
    sc = scenario(team, user, demo_llm_server, items=24)
    run = start(team, sc, concurrency=4, chunk_size=7)  # 4 chunks, the last one short
    run = wait_for(run, ended, worker=live_worker)

    assert run.status == BenchmarkStatus.FINISHED, run.failure
    assert run.progress == {"done": 48, "total": 48}
    rows = list(BenchmarkResult.objects.filter(run=run).select_related("candidate", "item"))
    assert len({(r.item_id, r.candidate_id) for r in rows}) == 48
    assert all(r.ok and r.input_tokens > 0 and r.output_tokens > 0 for r in rows)
    summaries = {c["label"]: c for c in run.summary["candidates"]}
    assert list(summaries) == ["demo-prompted", "demo-fine-tuned"]
    for label, summary in summaries.items():
        mine = [r for r in rows if r.candidate.label == label]
        accuracy = [r.scores["accuracy"] for r in mine]
        assert summary["calls"] == 24 and summary["errors"] == 0
        assert summary["scores"]["accuracy"]["value"] == pytest.approx(sum(accuracy) / 24)
        expected = stats.bootstrap(accuracy, seed=run.seed)
        assert summary["scores"]["accuracy"]["ci_low"] == pytest.approx(expected.ci_low)
        assert summary["scores"]["accuracy"]["ci_high"] == pytest.approx(expected.ci_high)
        latencies = sorted(r.latency_ms for r in mine)
        assert summary["latency_ms"]["p99"] == pytest.approx(stats.percentile(latencies, 99))
        # demo-* is priced 0.15 / 0.60 USD per 1M tokens in the default price table.
        costs = [(r.input_tokens * Decimal("0.15") + r.output_tokens * Decimal("0.60")) / 10**6
                 for r in mine]  # fmt: skip
        assert all(r.cost == c for r, c in zip(mine, costs, strict=True))
        assert summary["cost_per_request"] == pytest.approx(float(sum(costs) / 24))
        per_1m = sum(costs) * 10**6 / sum(r.input_tokens for r in mine)
        assert summary["cost_per_1m_input_tokens"] == pytest.approx(float(per_1m))
        assert {r.expected_label for r in mine} == {"billing", "incident", "question",
                                                    "feature_request"}  # fmt: skip
    # The prompted profile sometimes breaks its JSON; the fine-tuned one never does.
    assert summaries["demo-fine-tuned"]["scores"]["json_valid"]["value"] == 1.0
    deliveries = WebhookDelivery.objects.filter(team=team, event="benchmark.finished")
    assert deliveries.count() == 1
    assert deliveries.get().payload["status"] == "finished"
    assert deliveries.get().payload["summary"]["candidates"][0]["calls"] == 24


def test_a_worker_killed_mid_run_and_restarted_leaves_every_call_exactly_once(
    team, user, demo_llm_factory, live_worker_factory
):
    server = demo_llm_factory(latency_ms=60.0, jitter_ms=0.0)
    sc = scenario(team, user, server.base_url, items=60)
    worker = live_worker_factory()
    run = start(team, sc, concurrency=3, chunk_size=10)  # 12 chunks of 20 calls
    wait_for(run, lambda r: r.done >= 30, worker=worker)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == BenchmarkStatus.RUNNING and 30 <= run.done < run.total

    live_worker_factory()
    # The killed chunk's message stays unacknowledged until the broker's visibility timeout;
    # the sweep re-sends every chunk that still misses results.
    assert benchmark_requeue_stale(older_than=timedelta(0)) >= 1
    run = wait_for(run, ended, timeout=90)

    assert run.status == BenchmarkStatus.FINISHED, run.failure
    pairs = list(BenchmarkResult.objects.filter(run=run).values_list("item_id", "candidate_id"))
    assert len(pairs) == len(set(pairs)) == run.total == 120
    assert run.summary["candidates"][0]["calls"] == 60


def test_injected_faults_give_honest_error_rates_and_retries_recover(
    team, user, demo_llm_factory, live_worker
):
    # 20% 429/500 and 5% timeouts (hangs longer than the run's timeout).
    faults = {"rate_429": 0.1, "rate_500": 0.1, "timeout_rate": 0.05, "hang_seconds": 5.0}
    sc = scenario(team, user, demo_llm_factory(seed=3, **faults).base_url, items=40)
    no_retry_server = demo_llm_factory(seed=4, **faults)
    no_retry = scenario(team, user, no_retry_server.base_url, items=40, name="Second")

    bare = start(team, no_retry, concurrency=10, max_retries=0, timeout_seconds=0.5)
    bare = wait_for(bare, ended, worker=live_worker)
    rows = BenchmarkResult.objects.filter(run=bare)
    kinds = {kind: rows.filter(error_kind=kind).count()
             for kind in ("rate_limit", "server_error", "timeout")}  # fmt: skip
    # Without retries every injected fault is exactly one failed call.
    assert kinds == {"rate_limit": no_retry_server.injected["429"],
                     "server_error": no_retry_server.injected["500"],
                     "timeout": no_retry_server.injected["timeout"]}  # fmt: skip
    errors = sum(kinds.values())
    assert errors > 0 and bare.errors == errors
    summaries = bare.summary["candidates"]
    assert sum(c["errors"] for c in summaries) == errors
    for c in summaries:
        assert c["error_rate"] == pytest.approx(c["errors"] / 40)
        failed = rows.filter(candidate__label=c["label"]).exclude(error="")
        assert c["errors"] == failed.count()

    retried = start(team, sc, concurrency=10, max_retries=3, timeout_seconds=0.5)
    retried = wait_for(retried, ended, worker=live_worker)
    assert retried.status == BenchmarkStatus.FINISHED
    assert retried.done == retried.total == 80
    # Each call got up to four attempts: far fewer calls fail than faults were injected.
    assert retried.errors < errors / 2


def test_cancel_stops_the_run_and_keeps_what_was_stored(team, user, demo_llm_factory,
                                                        live_worker):  # fmt: skip
    server = demo_llm_factory(latency_ms=80.0, jitter_ms=0.0)
    sc = scenario(team, user, server.base_url, items=100)
    run = start(team, sc, concurrency=2, chunk_size=10)
    run = wait_for(run, lambda r: r.done >= 4, worker=live_worker)
    assert benchmark_run_cancel(run=run) is True
    assert benchmark_run_cancel(run=run) is False  # already ended
    time.sleep(1.5)  # the running chunk stops at its next batch; later chunks are skipped
    run.refresh_from_db()
    stored = BenchmarkResult.objects.filter(run=run).count()
    time.sleep(1.0)
    assert BenchmarkResult.objects.filter(run=run).count() == stored < run.total
    assert run.status == BenchmarkStatus.CANCELLED and run.summary == {}
    assert "'skipped'" in "".join(live_worker.output)  # the chunks after the cancel


@pytest.fixture
def eager():
    """Chunks run in this process, when the run's transaction commits."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_final_aggregation_is_claimed_once(team, user, demo_llm_server, eager):
    sc = scenario(team, user, demo_llm_server, items=6)
    run = start(team, sc, chunk_size=3)
    run.refresh_from_db()
    assert run.status == BenchmarkStatus.FINISHED
    first = run.summary
    assert benchmarks.benchmark_run_finish_if_complete(run_id=run.pk) is False
    assert benchmarks.benchmark_chunk_run(run_id=run.pk, index=0).status == "skipped"
    run.refresh_from_db()
    assert run.summary == first
    assert benchmarks.benchmark_summary_compute(run) == first  # recomputable from the rows


@pytest.mark.django_db(transaction=False)
def test_chunks_run_by_the_caller_inside_its_transaction(team, user, demo_llm_factory, settings):
    # How the demo data runs its benchmark: no queue, its own simulated endpoint (a private
    # address the outgoing-address rule would refuse), inside the caller's transaction.
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = False
    server = demo_llm_factory()
    sc = scenario(team, user, "https://llm.example.com/v1", items=5)
    run = start(team, sc, chunk_size=2, enqueue=False)
    assert run.status == BenchmarkStatus.QUEUED
    for index in range(run.chunk_count):
        benchmarks.benchmark_chunk_run(
            run_id=run.pk, index=index, endpoints={sc.provider.pk: server.base_url}
        )
    run.refresh_from_db()
    assert run.status == BenchmarkStatus.FINISHED and run.done == 10 and run.errors == 0
