"""Push → flag latency: from POST /api/v1/usage to the flag in GET /api/v1/flags, real worker.

Sets up its own database, starts gunicorn (2 workers) and a Celery worker on Redis, then for
each of N workloads pushes one batch of usage that breaches the format-error SLA and polls the
flags API (every 10 ms) until the workload's open flag appears. Prints JSON (p50/p95/max).

    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/push_to_flag.py [--runs 40]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(__file__))
from ingest import ROOT, _drop, _manage, _recreate, _wait_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--port", type=int, default=8191)
    parser.add_argument("--database", default="cx_bench_flag")
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
    host, port = os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    admin_dsn = f"postgresql://{user}@{host}:{port}/postgres"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{args.database}",
        "CELERY_BROKER_URL": broker,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "API_TOKEN_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }
    _recreate(admin_dsn, args.database)
    processes: list[subprocess.Popen] = []
    try:
        _manage(env, "migrate", "--noinput", "-v0")
        token = _setup(env, args.runs)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b",
                 f"127.0.0.1:{args.port}", "--log-level", "warning"], cwd=ROOT, env=env,
            )
        )  # fmt: skip
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default",
                 "--concurrency", "2", "--loglevel", "WARNING", "--without-gossip",
                 "--without-mingle"], cwd=ROOT, env=env,
            )
        )  # fmt: skip
        _wait_for(args.port)
        time.sleep(3)  # let the worker connect to the broker
        latencies = [_one(args.port, token, f"w{n}") for n in range(args.runs)]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        _drop(admin_dsn, args.database)
    latencies.sort()
    print(
        json.dumps(
            {
                "benchmark": "push_to_flag",
                "broker": broker.split("@")[-1],
                "runs": len(latencies),
                "p50_s": round(statistics.median(latencies), 3),
                "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
                "max_s": round(latencies[-1], 3),
                "target_p95_s": 2.0,
            },
            indent=2,
        )
    )


def _setup(env: dict, runs: int) -> str:
    script = (
        "from teams.services import team_create, api_token_create\n"
        "from decisions.models import Workload\n"
        "team = team_create(slug='bench', name='Bench')\n"
        f"for n in range({runs}):\n"
        "    Workload.objects.create(team=team, slug=f'w{n}', name=f'W{n}', model='gpt-4o-mini',"
        " parameters={'prompt_overhead_tokens': 1500, 'user_tokens': 300, 'output_tokens': 100,"
        " 'monthly_requests': 1000, 'training_cost': 50})\n"
        "print(api_token_create(team=team, name='bench',"
        " scopes=['usage:write', 'decisions:read'])[1])\n"
    )
    return _manage(env, "shell", "-c", script).strip().splitlines()[-1]


def _one(port: int, token: str, slug: str) -> float:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    records = [
        {
            "workload": slug,
            "period_start": (start - timedelta(hours=h)).isoformat(),
            "period_end": (start - timedelta(hours=h - 1)).isoformat(),
            "requests": 1000,
            "input_tokens": 1_800_000,
            "output_tokens": 100_000,
            "latency_p99_ms": 450,
            "format_errors": 120,  # 12 % > the 5 % threshold
            "id": f"{slug}-{h}",
        }
        for h in range(24)
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    began = time.perf_counter()
    conn.request("POST", "/api/v1/usage", json.dumps({"records": records}), headers)
    response = conn.getresponse()
    assert response.status == 201, response.read()
    response.read()
    while time.perf_counter() - began < 30:
        conn.request("GET", f"/api/v1/flags?status=open&workload={slug}", headers=headers)
        answer = json.loads(conn.getresponse().read())
        if answer["results"]:
            return time.perf_counter() - began
        time.sleep(0.01)
    raise SystemExit(f"no flag for {slug} within 30 s")


if __name__ == "__main__":
    main()
