"""Usage ingestion throughput through the API, against raw PostgreSQL COPY into the same table.

Sets up its own database, migrates it, creates a team, a workload and a token, starts gunicorn
(2 workers, DEBUG off), pushes 1,000-record batches over HTTP with one and with two client
streams, then COPYs the same number of rows straight into workloads_usagerecord on the same
machine, and prints JSON. Drops the database at the end.

    .venv/bin/python bench/ingest.py [--records 100000] [--port 8190]

Needs PostgreSQL at PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, postgres).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records per stream run")
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument("--database", default="cx_bench_ingest")
    args = parser.parse_args()
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    admin_dsn = f"postgresql://{user}@{host}:{port}/postgres"
    url = f"postgres://{user}@{host}:{port}/{args.database}"
    _recreate(admin_dsn, args.database)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "API_TOKEN_RATE": "1000000/min",  # measure ingestion, not the throttle
        "LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        _manage(env, "migrate", "--noinput", "-v0")
        token = _setup(env)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b",
             f"127.0.0.1:{args.port}", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        _wait_for(args.port)
        _push(args.port, token, "warmup", 5 * BATCH, streams=1)
        one = _push(args.port, token, "one", args.records, streams=1)
        two = _push(args.port, token, "two", args.records, streams=2)
        copy = _copy(url, args.records)
        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT count(*) FROM workloads_usagerecord").fetchone()[0]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        _drop(admin_dsn, args.database)
    expected = 5 * BATCH + 2 * args.records + args.records
    print(
        json.dumps(
            {
                "benchmark": "usage_ingest",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "batch_size": BATCH,
                "records_per_run": args.records,
                "api_one_stream_records_per_s": round(one),
                "api_two_streams_records_per_s": round(two),
                "copy_records_per_s": round(copy),
                "ratio_one_stream_to_copy": round(one / copy, 3),
                "ratio_two_streams_to_copy": round(two / copy, 3),
                "rows_stored": stored,
                "rows_expected": expected,
            },
            indent=2,
        )
    )


def _recreate(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(env: dict, *command: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout


def _setup(env: dict) -> str:
    script = (
        "from teams.services import team_create, api_token_create\n"
        "from decisions.models import Workload\n"
        "team = team_create(slug='bench', name='Bench')\n"
        "Workload.objects.create(team=team, slug='bench', name='Bench', model='gpt-4o-mini',"
        " parameters={'prompt_overhead_tokens': 500, 'user_tokens': 50, 'output_tokens': 100,"
        " 'monthly_requests': 1000})\n"
        "print(api_token_create(team=team, name='bench', scopes=['usage:write'])[1])\n"
    )
    return _manage(env, "shell", "-c", script).strip().splitlines()[-1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _batches(label: str, records: int, stream: int) -> list[bytes]:
    """Pre-encoded bodies, so the clients spend their time waiting on the server."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    bodies = []
    for b in range(records // BATCH):
        items = []
        for i in range(BATCH):
            n = b * BATCH + i
            period = start + timedelta(minutes=n)
            items.append(
                {
                    "workload": "bench",
                    "period_start": period.isoformat(),
                    "period_end": (period + timedelta(minutes=1)).isoformat(),
                    "requests": 100 + n % 50,
                    "input_tokens": 55_000 + n % 1000,
                    "output_tokens": 10_000,
                    "approach": "prompt",
                    "model": "gpt-4o-mini",
                    "latency_p50_ms": 210.5,
                    "latency_p99_ms": 640 + n % 100,
                    "format_errors": n % 7,
                    "cost_usd": 0.0143,
                    "id": f"{label}-{stream}-{n}",
                }
            )
        bodies.append(json.dumps({"records": items}).encode())
    return bodies


def _push(port: int, token: str, label: str, records: int, *, streams: int) -> float:
    per_stream = records // streams
    bodies = [_batches(label, per_stream, s) for s in range(streams)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    failures: list[str] = []

    def stream(payloads: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for payload in payloads:
            conn.request("POST", "/api/v1/usage", body=payload, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status != 201 or json.loads(answer)["accepted"] != BATCH:
                failures.append(f"{response.status} {answer[:200]!r}")

    threads = [threading.Thread(target=stream, args=(b,)) for b in bodies]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} failed pushes, e.g. {failures[0]}")
    return per_stream * streams / elapsed


def _copy(url: str, records: int) -> float:
    """Raw COPY of the same rows (same columns, same unique index) into the same table."""
    with psycopg.connect(url) as conn:
        team_id, workload_id = conn.execute(
            "SELECT team_id, id FROM workloads_workload WHERE slug = 'bench'"
        ).fetchone()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        now = datetime.now(UTC)
        rows = [
            (team_id, workload_id, f"copy-{n}", start + timedelta(minutes=n),
             start + timedelta(minutes=n + 1), 100 + n % 50, 55_000 + n % 1000, 10_000,
             "prompt", "gpt-4o-mini", 210.5, 640 + n % 100, n % 7, "0.0143", now)
            for n in range(records)
        ]  # fmt: skip
        columns = (
            "team_id, workload_id, client_id, period_start, period_end, requests, input_tokens, "
            "output_tokens, approach, model, latency_p50_ms, latency_p99_ms, format_errors, "
            "cost_usd, received_at"
        )
        began = time.perf_counter()
        statement = f"COPY workloads_usagerecord ({columns}) FROM STDIN"
        with conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return records / (time.perf_counter() - began)


if __name__ == "__main__":
    main()
