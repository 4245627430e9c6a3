"""Services a test needs from outside the process (PostgreSQL, Redis, Chromium): skipped
locally when missing, a failure in CI (CROSSOVER_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import os

import pytest

# CI sets this so that a test needing PostgreSQL/Redis/Chromium fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("CROSSOVER_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip locally, fail in CI, when an external service a test needs is not reachable."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a test that did not run: the run must not pass.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if REQUIRE_SERVICES and skipped and exitstatus == pytest.ExitCode.OK:
        reporter.write_line(f"CROSSOVER_REQUIRE_SERVICES=1: {len(skipped)} test(s) skipped")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
