from __future__ import annotations

import argparse
import signal

from django.core.management.base import BaseCommand, CommandError

from evaluations.demo_llm.server import DemoConfig, DemoServer, banner


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a share between 0 and 1")
    return rate


class Command(BaseCommand):
    help = (
        "Run the demo model endpoint: an OpenAI-compatible server with SIMULATED models "
        "(no real LLM), for trying Crossover without an API key and for tests and benchmarks."
    )

    def add_arguments(self, parser):
        defaults = DemoConfig()
        add = parser.add_argument
        add("--host", default=defaults.host)
        add("--port", type=int, default=defaults.port)
        add("--seed", type=int, default=defaults.seed, help="seed of every simulated choice")
        add("--latency-ms", type=float, default=defaults.latency_ms, help="base latency")
        add(
            "--latency-per-token-ms",
            type=float,
            default=defaults.latency_per_token_ms,
            help="added latency per prompt token",
        )
        add("--jitter-ms", type=float, default=defaults.jitter_ms, help="maximum added jitter")
        add("--rate-429", type=_rate, default=defaults.rate_429, help="share answered 429")
        add("--rate-500", type=_rate, default=defaults.rate_500, help="share answered 500")
        add(
            "--timeout-rate",
            type=_rate,
            default=defaults.timeout_rate,
            help="share of requests that hang without an answer",
        )
        add("--hang-seconds", type=float, default=defaults.hang_seconds)
        add(
            "--retry-after-ms",
            type=int,
            default=defaults.retry_after_ms,
            help="retry-after-ms sent with injected 429/500",
        )
        add(
            "--finetune-seconds",
            type=float,
            default=defaults.finetune_seconds,
            help="simulated duration of a fine-tuning job",
        )
        add("--quiet", action="store_true", help="no access log")

    def handle(self, *args, **options):
        fields = {name: options[name] for name in DemoConfig.__dataclass_fields__}
        try:
            config = DemoConfig(**fields)
        except ValueError:
            raise CommandError(
                "--rate-429 + --rate-500 + --timeout-rate must not exceed 1."
            ) from None
        try:
            server = DemoServer(config)
        except OSError as error:
            raise CommandError(f"Cannot listen on {config.host}:{config.port}: {error}") from None
        # SIGTERM (honcho, docker stop) ends the loop the same way as Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            self.stdout.write(banner(server))
            self.stdout.flush()
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.stopping.set()
            server.server_close()
        self.stdout.write("demo model endpoint stopped")
