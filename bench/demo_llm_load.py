"""The demo model endpoint alone under load: N chat completions at concurrency C, fixed latency.

Starts `manage.py demo_llm` as its own process (fixed latency, no jitter, no per-token cost),
sends N classification requests over C keep-alive connections from a lean asyncio client, and
prints JSON: wall time, ideal wall time (N ÷ C × latency), their ratio, throughput,
client-side latency percentiles and errors, for each concurrency asked for.

    .venv/bin/python bench/demo_llm_load.py [--requests 2000] [--concurrency 50 200]
                                            [--latency-ms 100] [--port 8340]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluations.stats import latency_percentiles  # noqa: E402

TICKETS = (
    "I was charged twice for my subscription this month",
    "The app has been down since 9am, every request times out",
    "How do I export my data to CSV?",
    "Feature request: dark mode please",
)


def start_server(port: int, latency_ms: float) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    command = [sys.executable, "manage.py", "demo_llm", "--port", str(port), "--quiet",
               "--latency-ms", str(latency_ms), "--jitter-ms", "0",
               "--latency-per-token-ms", "0"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the demo endpoint did not start") from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the demo endpoint did not start in 30 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def body(n: int) -> dict:
    return {
        "model": "demo-prompted",  # latency factor 1.0: the configured latency exactly
        "messages": [
            {"role": "system", "content": "Classify the ticket. Reply in JSON. "
             "Categories: question, incident, billing, feature_request"},
            {"role": "user", "content": f"{TICKETS[n % len(TICKETS)]} (#{n})"},
        ],
    }  # fmt: skip


def request_bytes(port: int, n: int) -> bytes:
    payload = json.dumps(body(n)).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one keep-alive HTTP/1.1 response; returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if
                  line.lower().startswith("content-length:"))  # fmt: skip
    await reader.readexactly(length)
    return status


async def run(port: int, requests: int, concurrency: int) -> dict:
    """`concurrency` keep-alive connections, each sending its next request as soon as the last
    answer arrived. The client is plain asyncio streams so that it costs little CPU: the
    figures are the server's, not a client library's."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    payloads = [request_bytes(port, n) for n in range(requests)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                payload = queue.get_nowait()
                started = time.perf_counter()
                try:
                    writer.write(payload)
                    status = await read_response(reader)
                    kind = None if status == 200 else str(status)
                except (OSError, asyncio.IncompleteReadError) as error:
                    kind = type(error).__name__
                latencies.append((time.perf_counter() - started) * 1000)
                if kind:
                    errors[kind] = errors.get(kind, 0) + 1
        finally:
            writer.close()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"wall_s": wall, "client_cpu_s": cpu, "latencies": latencies, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--port", type=int, default=8340)
    args = parser.parse_args()
    server = start_server(args.port, args.latency_ms)
    results = []
    try:
        asyncio.run(run(args.port, 50, 10))  # warm up: tokenizer loaded, threads started
        for concurrency in args.concurrency:
            cpu_before = cpu_seconds(server.pid)
            outcome = asyncio.run(run(args.port, args.requests, concurrency))
            server_cpu = cpu_seconds(server.pid) - cpu_before
            ideal = args.requests / concurrency * args.latency_ms / 1000
            percentiles = latency_percentiles(outcome["latencies"])
            results.append({
                "concurrency": concurrency,
                "requests": args.requests,
                "wall_s": round(outcome["wall_s"], 3),
                "ideal_s": round(ideal, 3),
                "wall_over_ideal": round(outcome["wall_s"] / ideal, 3),
                "requests_per_s": round(args.requests / outcome["wall_s"], 1),
                "latency_ms": {k: round(v, 1) for k, v in percentiles.items()},
                "errors": outcome["errors"],
                "client_cpu_s": round(outcome["client_cpu_s"], 3),
                "server_cpu_s": round(server_cpu, 3),
                "server_cpu_ms_per_request": round(server_cpu * 1000 / args.requests, 3),
            })  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(json.dumps({"benchmark": "demo_llm_load", "latency_ms": args.latency_ms,
                      "cpus": os.cpu_count(), "python": platform.python_version(),
                      "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
