"""Demo model endpoint fixtures: real HTTP servers on free ports, for tests that call a model."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace

import pytest

from evaluations.demo_llm import DemoConfig, DemoServer, serve_in_thread

# Fast and fault-free unless a test asks otherwise; latency stays non-zero so it is measurable.
TEST_CONFIG = DemoConfig(
    port=0,
    latency_ms=5.0,
    latency_per_token_ms=0.01,
    jitter_ms=2.0,
    retry_after_ms=10,
    hang_seconds=10.0,
    finetune_seconds=0.4,
    quiet=True,
)


@pytest.fixture(scope="session")
def demo_llm_server():
    """Base URL (`http://127.0.0.1:<port>/v1`) of a demo endpoint shared by the whole session."""
    with serve_in_thread(TEST_CONFIG) as server:
        yield server.base_url


@pytest.fixture
def demo_llm_factory():
    """Start demo endpoints with their own settings, e.g. `demo_llm_factory(rate_429=0.3)`.

    Returns the running `DemoServer` (`.base_url`, `.injected` fault counts); each is stopped
    at the end of the test.
    """
    with ExitStack() as stack:

        def start(**overrides) -> DemoServer:
            return stack.enter_context(serve_in_thread(replace(TEST_CONFIG, **overrides)))

        yield start
