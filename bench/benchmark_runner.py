"""The benchmark runner against promptfoo: 1,000 items × 2 candidates on the demo endpoint.

The demo endpoint runs in its own process at a fixed latency (no jitter, no per-token cost). A
run of two candidates (a few-shot and a minimal prompt on `demo-prompted`, whose latency is
exactly the configured one) over N ticket items is started with `benchmark_run_start` and
executed by real Celery worker processes (solo pool, `evaluations` queue) on the configured
broker and database, once with one worker and once with two; the total number of calls in
flight is the same both times (the per-chunk concurrency is the total ÷ workers). Wall time runs
from the start of the run to its `finished` status (the aggregation, with its bootstrap
intervals, included). Then bench/promptfoo_peer.py runs the same calls with promptfoo at the
same concurrency. Prints JSON: wall ÷ ideal per worker count, the aggregation's share, peak
worker RSS, promptfoo's figures, and the speed-up.

    DEBUG=1 SECRET_KEY=x DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://127.0.0.1:6379/N \\
      .venv/bin/python bench/benchmark_runner.py [--items 1000] [--concurrency 50] \\
      [--latency-ms 100] [--workers 1 2] [--port 8342] [--no-peer]

Uses the configured database (a team `bench-<time>` is created, then deleted) and broker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["ALLOW_PRIVATE_NETWORK_TARGETS"] = "1"  # the demo endpoint is on 127.0.0.1

import django  # noqa: E402

django.setup()

from demo_llm_load import TICKETS, cpu_seconds, start_server  # noqa: E402
from promptfoo_peer import PROMPTS  # noqa: E402

from evaluations.models import BenchmarkRun  # noqa: E402
from evaluations.services.benchmarks import CandidateSpec, benchmark_run_start  # noqa: E402
from evaluations.services.datasets import dataset_create, dataset_items_add  # noqa: E402
from evaluations.services.providers import provider_create  # noqa: E402
from prompts import services as prompt_services  # noqa: E402
from prompts.content import Content  # noqa: E402
from teams.models import Team  # noqa: E402
from teams.services import team_create  # noqa: E402

SCORERS = [{"name": "json_valid"}, {"name": "accuracy"}]


def setup(team: Team, base_url: str, items: int):
    provider = provider_create(team=team, name="demo", base_url=base_url, is_simulated=True)
    for slug, messages in zip(("few-shot", "minimal"), PROMPTS.values(), strict=True):
        template = prompt_services.prompt_template_create(team=team, slug=slug, name=slug)
        content = Content("chat", [messages[0], {"role": "user", "content": "{{ ticket }}"}],
                          "", "demo-prompted", {}, [])  # fmt: skip
        prompt_services.prompt_version_create(template=template, content=content)
    dataset = dataset_create(team=team, name="tickets", task_kind="classification")
    labels = ("billing", "incident", "question", "feature_request")
    dataset_items_add(dataset=dataset, items=[
        {"input": {"ticket": f"{TICKETS[n % len(TICKETS)]} (#{n})"}, "expected": labels[n % 4],
         "split": "test", "tags": [], "conversation": None}
        for n in range(items)
    ])  # fmt: skip
    candidates = [
        CandidateSpec(label=label, approach="prompt", provider=provider, model="demo-prompted",
                      prompt_slug=slug, prompt_number=1)
        for label, slug in zip(PROMPTS, ("few-shot", "minimal"), strict=True)
    ]  # fmt: skip
    return dataset, candidates


def start_worker(index: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "evaluations",
               "--pool", "solo", "--loglevel", "WARNING", "-n", f"bench{index}-{os.getpid()}@%h",
               "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    # No per-request INFO lines (the HTTP client logs each call): the worker's CPU is the figure.
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    ready = threading.Event()
    process.log = []

    def read() -> None:
        for line in process.stdout:
            process.log.append(line)
            if "ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    # --loglevel WARNING hides "ready."; a worker is ready once it answers a ping.
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ready.is_set():
        replies = app.control.ping(destination=[f"bench{index}-{os.getpid()}@{os.uname()[1]}"],
                                   timeout=0.5)  # fmt: skip
        if replies:
            return process
        if process.poll() is not None:
            raise SystemExit("worker died:\n" + "".join(process.log[-30:]))
    return process


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_once(team, dataset, candidates, *, workers: int, concurrency: int, items: int,
             latency_ms: float) -> dict:  # fmt: skip
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("evaluations")
    processes = [start_worker(i) for i in range(workers)]
    try:
        started = time.perf_counter()
        run = benchmark_run_start(
            team=team, name=f"bench {workers} worker(s)", dataset=dataset, split="test",
            candidates=candidates, scorers=SCORERS, concurrency=concurrency // workers,
            chunk_size=100, max_retries=2, timeout_seconds=30,
        )  # fmt: skip
        # A run that cannot finish (a worker failing every chunk) ends the benchmark, with the
        # workers' last lines, instead of waiting for the sweep that would re-send its chunks.
        deadline = started + max(
            120.0, 30 * items * len(candidates) / concurrency * latency_ms / 1000
        )
        while True:
            status = BenchmarkRun.objects.filter(pk=run.pk).values_list("status", flat=True)[0]
            if status not in ("queued", "running"):
                break
            if time.perf_counter() > deadline:
                logs = "".join(line for p in processes for line in p.log[-20:])
                raise SystemExit(
                    f"run {run.pk} still {status} after {deadline - started:.0f} s:\n{logs}"
                )
            time.sleep(0.02)
        wall = time.perf_counter() - started
        rss = [round(peak_rss_mb(p.pid), 1) for p in processes]
        cpu = [round(cpu_seconds(p.pid), 2) for p in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    run.refresh_from_db()
    calls = items * len(candidates)
    ideal = calls / concurrency * latency_ms / 1000
    aggregation = (run.finished_at - run.aggregated_at).total_seconds()
    return {
        "workers": workers,
        "concurrency_per_chunk": concurrency // workers,
        "status": run.status,
        "calls": run.done,
        "errors": run.errors,
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "wall_over_ideal": round(wall / ideal, 3),
        "aggregation_s": round(aggregation, 3),
        "peak_worker_rss_mb": rss,
        "worker_cpu_s": cpu,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "p50_ms": [c["latency_ms"]["p50"] for c in run.summary["candidates"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--port", type=int, default=8342)
    parser.add_argument("--no-peer", action="store_true", help="skip promptfoo")
    args = parser.parse_args()
    server = start_server(args.port, args.latency_ms)
    team = team_create(slug=f"bench-{int(time.time())}", name="bench")
    try:
        dataset, candidates = setup(team, f"http://127.0.0.1:{args.port}/v1", args.items)
        runs = [
            run_once(team, dataset, candidates, workers=n, concurrency=args.concurrency,
                     items=args.items, latency_ms=args.latency_ms)
            for n in args.workers
        ]  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=15)
        BenchmarkRun.objects.filter(team=team).delete()
        team.delete()
    result = {"benchmark": "benchmark_runner", "items": args.items, "candidates": 2,
              "concurrency": args.concurrency, "latency_ms": args.latency_ms, "runs": runs,
              "cpus": os.cpu_count(), "python": platform.python_version()}  # fmt: skip
    if not args.no_peer:
        peer = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "promptfoo_peer.py"), "--items",
             str(args.items), "--concurrency", str(args.concurrency), "--latency-ms",
             str(args.latency_ms), "--port", str(args.port + 1)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        result["promptfoo"] = json.loads(peer.stdout)
        best = min(run["wall_s"] for run in runs)
        result["speedup_vs_promptfoo"] = round(result["promptfoo"]["wall_s"] / best, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
