"""Resolve throughput and latency: GET /api/v1/prompts/{slug}/resolve under gunicorn.

Sets up its own PostgreSQL database, migrates it, creates a team with the demo prompts (the
ticket classifier: 12 few-shot examples, ~7 KB of JSON) and a prompts:read token, starts
gunicorn with 2 workers (DEBUG off), then runs 20 concurrent clients for each path — 200 (no
validator) and 304 (If-None-Match with the current ETag) — and prints JSON: requests/s and
latency percentiles as the clients saw them. Drops the database at the end.

The per-token throttle stays at its default (API_TOKEN_RATE, 1,200/min): the clients spread
their requests over --tokens tokens, as many services would, so that none is throttled.

    .venv/bin/python bench/prompt_resolve.py [--seconds 10] [--clients 20] [--worker-class sync]

The clients are asyncio coroutines on raw sockets in one process, on the same machine: they
use CPU that the server would otherwise have. The JSON also gives the server's and the
clients' CPU time per request (from /proc), which other load on the machine does not change,
and the load average before the run. Needs PostgreSQL at PGHOST/PGPORT/PGUSER.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from ingest import ROOT, _drop, _manage, _recreate, _wait_for  # noqa: E402

SLUG = "ticket-classifier"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per path, after warm-up")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="per worker, for gthread")
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--port", type=int, default=8192)
    parser.add_argument("--database", default="cx_bench_prompts")
    args = parser.parse_args()
    host, port = os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    admin_dsn = f"postgresql://{user}@{host}:{port}/postgres"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{args.database}",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    _recreate(admin_dsn, args.database)
    server = None
    try:
        _manage(env, "migrate", "--noinput", "-v0")
        tokens = _setup(env, args.tokens)
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(args.workers),
                   "-b", f"127.0.0.1:{args.port}", "--log-level", "warning",
                   "--worker-class", args.worker_class]  # fmt: skip
        if args.worker_class == "gthread":
            command += ["--threads", str(args.threads), "--keep-alive", "5"]
        server = subprocess.Popen(command, cwd=ROOT, env=env)
        _wait_for(args.port)
        etag = asyncio.run(_etag(args.port, tokens[0]))
        asyncio.run(_load(args.port, tokens, None, args.clients, 2.0))  # warm-up
        load_before = os.getloadavg()[0]
        fresh = _measured(server.pid, _load(args.port, tokens, None, args.clients, args.seconds))
        cached = _measured(server.pid, _load(args.port, tokens, etag, args.clients, args.seconds))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        _drop(admin_dsn, args.database)
    print(
        json.dumps(
            {
                "benchmark": "prompt_resolve",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "server": {"workers": args.workers, "worker_class": args.worker_class,
                           **({"threads": args.threads} if args.worker_class == "gthread" else {})},
                "load_average_before": round(load_before, 2),
                "clients": args.clients,
                "tokens": args.tokens,
                "seconds_per_path": args.seconds,
                "status_200": fresh,
                "status_304": cached,
            },
            indent=2,
        )
    )  # fmt: skip


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (from /proc), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def _measured(server_pid: int, run) -> dict:
    """Run one load phase; add the server's and the client's CPU per request, which do not
    depend on what else the machine is doing."""
    pids = [server_pid, *_children(server_pid)]
    server_before, client_before = _cpu_seconds(pids), time.process_time()
    result = asyncio.run(run)
    server_cpu = _cpu_seconds(pids) - server_before
    client_cpu = time.process_time() - client_before
    result["cpu_ms_per_request"] = {
        "server": round(server_cpu / result["requests"] * 1000, 3),
        "client": round(client_cpu / result["requests"] * 1000, 3),
    }
    return result


def _setup(env: dict, tokens: int) -> list[str]:
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from prompts import demo\n"
        "from teams.services import api_token_create, team_create\n"
        "user = get_user_model().objects.create(username='bench')\n"
        "team = team_create(slug='bench', name='Bench', admin=user)\n"
        "demo.seed(team, user)\n"
        f"for i in range({tokens}):\n"
        "    print(api_token_create(team=team, name=f'bench {i}', scopes=['prompts:read'])[1])\n"
    )
    return _manage(env, "shell", "-c", script).strip().splitlines()[-tokens:]


def _request(token: str, etag: str | None) -> bytes:
    lines = [
        f"GET /api/v1/prompts/{SLUG}/resolve HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Accept: application/json",
        "Connection: keep-alive",
    ]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _exchange(reader, writer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def _etag(port: int, token: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    status, headers, body = await _exchange(reader, writer, _request(token, None))
    writer.close()
    assert status == 200, (status, body[:300])
    return headers["etag"]


async def _load(port: int, tokens: list[str], etag: str | None, clients: int,
                seconds: float) -> dict:  # fmt: skip
    requests = [_request(token, etag) for token in tokens]
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def client(offset: int) -> None:
        reader = writer = None
        sent = offset
        while time.perf_counter() < deadline:
            request = requests[sent % len(requests)]
            sent += 1
            started = time.perf_counter()
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                status, headers, _ = await _exchange(reader, writer, request)
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                reader = writer = None  # the server closed an idle keep-alive: reconnect
                continue
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed),
        "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
                       "mean": round(statistics.fmean(latencies) * 1000, 2)},
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }  # fmt: skip


if __name__ == "__main__":
    main()
