"""The peer: promptfoo running the same 1,000 items × 2 candidates against the demo endpoint.

Installs promptfoo 0.121 with npm into bench/.promptfoo/ (git-ignored; once, then reused),
starts the demo endpoint at a fixed latency (no jitter, no per-token cost), writes a promptfoo
config of two candidates (a few-shot and a minimal prompt on `demo-prompted`, whose latency is
exactly the configured one) over N ticket-classification items with an `is-json` assertion, runs
`promptfoo eval --no-cache -j C` with telemetry and update checks off and a temporary config
directory, and prints JSON: wall time, the ideal (calls ÷ concurrency × latency), their ratio,
and what promptfoo counted.

    .venv/bin/python bench/promptfoo_peer.py [--items 1000] [--concurrency 50]
                                            [--latency-ms 100] [--port 8341]

Needs Node 20 and npm (the npm registry is reached once, to install).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from demo_llm_load import TICKETS, cpu_seconds, start_server  # noqa: E402

PROMPTFOO_VERSION = "0.121"
INSTALL_DIR = ROOT / "bench" / ".promptfoo"
CATEGORIES = "question, incident, billing, feature_request"
PROMPTS = {
    "few-shot prompt": [
        {"role": "system", "content": f"Classify the support ticket. Reply in JSON with a "
         f"category. Categories: {CATEGORIES}\nExamples:\n'I was charged twice' -> "
         '{"category": "billing"}\n\'The app is down\' -> {"category": "incident"}'},
        {"role": "user", "content": "{{ticket}}"},
    ],
    "minimal prompt": [
        {"role": "system", "content": f"JSON category of the ticket. Categories: {CATEGORIES}"},
        {"role": "user", "content": "{{ticket}}"},
    ],
}  # fmt: skip


def install(install_dir: Path) -> Path:
    binary = install_dir / "node_modules" / ".bin" / "promptfoo"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is missing: install Node 20 and npm")
    install_dir.mkdir(parents=True, exist_ok=True)
    (install_dir / "package.json").write_text('{"private": true}\n')
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error",
         f"promptfoo@{PROMPTFOO_VERSION}"],
        cwd=install_dir, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return binary


def config(base_url: str, items: int) -> dict:
    provider = {
        "id": "openai:chat:demo-prompted",
        "label": "demo-prompted (simulated)",
        "config": {"apiBaseUrl": base_url, "apiKey": "demo"},
    }
    return {
        "description": "Crossover peer benchmark (simulated endpoint)",
        "prompts": [{"label": label, "raw": json.dumps(messages)}
                    for label, messages in PROMPTS.items()],
        "providers": [provider],
        "defaultTest": {"assert": [{"type": "is-json"}]},
        "tests": [{"vars": {"ticket": f"{TICKETS[n % len(TICKETS)]} (#{n})"}}
                  for n in range(items)],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--port", type=int, default=8341)
    parser.add_argument("--install-dir", type=Path, default=INSTALL_DIR)
    args = parser.parse_args()
    binary = install(args.install_dir)
    server = start_server(args.port, args.latency_ms)
    try:
        with tempfile.TemporaryDirectory(prefix="promptfoo-bench-") as work:
            work_dir = Path(work)
            config_file = work_dir / "promptfooconfig.json"
            config_file.write_text(json.dumps(config(f"http://127.0.0.1:{args.port}/v1",
                                                     args.items)))  # fmt: skip
            output = work_dir / "results.json"
            env = {
                **os.environ,
                "PROMPTFOO_DISABLE_TELEMETRY": "1",
                "PROMPTFOO_DISABLE_UPDATE": "1",
                "PROMPTFOO_CONFIG_DIR": str(work_dir / "config"),
                "OPENAI_API_KEY": "demo",
            }
            command = [str(binary), "eval", "-c", str(config_file), "--no-cache",
                       "-j", str(args.concurrency), "--no-table", "--no-progress-bar",
                       "-o", str(output)]  # fmt: skip
            server_cpu = cpu_seconds(server.pid)
            started = time.perf_counter()
            run = subprocess.run(command, cwd=work_dir, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - started
            server_cpu = cpu_seconds(server.pid) - server_cpu
            if not output.exists():
                raise SystemExit(f"promptfoo failed ({run.returncode}):\n{run.stderr[-3000:]}")
            stats = json.loads(output.read_text())["results"]["stats"]
    finally:
        server.terminate()
        server.wait(timeout=15)
    calls = args.items * len(PROMPTS)
    ideal = calls / args.concurrency * args.latency_ms / 1000
    print(json.dumps({
        "benchmark": "promptfoo_peer",
        "promptfoo": PROMPTFOO_VERSION,
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),  # noqa: E501
        "items": args.items,
        "candidates": len(PROMPTS),
        "calls": calls,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "wall_over_ideal": round(wall / ideal, 3),
        "demo_endpoint_cpu_s": round(server_cpu, 3),
        "promptfoo_stats": {k: stats.get(k) for k in ("successes", "failures", "errors")},
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
