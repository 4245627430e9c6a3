"""Degrade, never lose (SPEC §9). A cache outage turns throttling off (logged, counted) while
every API call, ingestion included, keeps working; /healthz says the cache is degraded.

Redis is taken "down" for real: the cache points at a port where nothing listens, so every call
meets a refused connection. The control cases run against the Redis of REDIS_URL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time

import pytest
from django.core.cache import cache

from config import cache as fail_open
from tests.plugins.services import service_missing

pytestmark = pytest.mark.django_db

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"
TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def use_redis(settings, url: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": url,
            "OPTIONS": TIMEOUTS,
        }
    }


@pytest.fixture
def cache_down(settings, monkeypatch):
    use_redis(settings, CLOSED_PORT_URL)
    monkeypatch.setattr(fail_open.failures, "_logged_at", float("-inf"))


@pytest.fixture
def cache_up(settings):
    url = os.environ.get("REDIS_URL")
    if not url:
        service_missing("REDIS_URL is not set: no Redis to compare with")
    use_redis(settings, url)
    try:
        cache.ping()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"Redis at {url} unreachable: {exc}")


@pytest.fixture
def low_token_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min"},
    }


def push_usage(api, slug: str, record_id: str):
    record = {
        "workload": slug,
        "period_start": "2026-01-01T00:00:00Z",
        "period_end": "2026-01-01T01:00:00Z",
        "requests": 10,
        "input_tokens": 1000,
        "output_tokens": 100,
        "id": record_id,
    }
    return api.post("/api/v1/usage", record, format="json")


def test_api_calls_answer_and_the_failure_is_logged_and_counted(
    cache_down, api_client_factory, team, caplog
):
    api = api_client_factory(team, "decisions:read")
    before = fail_open.failures.count
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        responses = [api.get("/api/v1/me") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert fail_open.failures.count > before
    assert "Cache unreachable (ConnectionError): failing open" in caplog.text
    # Logged once, not once per request.
    assert caplog.text.count("Cache unreachable") == 1


def test_usage_is_stored_while_the_cache_is_down(cache_down, api_client_factory, team):
    api = api_client_factory(team, "decisions:write", "usage:write")
    created = api.post(
        "/api/v1/workloads", {"slug": "classifier", "name": "C", "model": "gpt-4o-mini"}
    )
    assert created.status_code == 201, created.content
    first = push_usage(api, "classifier", "r-1")
    assert first.status_code == 201 and first.json() == {"accepted": 1, "duplicates": 0}
    # The same id again is a duplicate: the first push really was stored.
    again = push_usage(api, "classifier", "r-1")
    assert again.json() == {"accepted": 0, "duplicates": 1}


def test_throttling_fails_open_while_the_cache_is_down(
    cache_down, low_token_rate, api_client_factory, team
):
    api = api_client_factory(team, "decisions:read")
    assert {api.get("/api/v1/me").status_code for _ in range(6)} == {200}


def test_throttling_limits_while_the_cache_is_up(
    cache_up, low_token_rate, api_client_factory, team
):
    api = api_client_factory(team, "decisions:read")
    codes = [api.get("/api/v1/me").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_healthz_reports_the_cache_degraded_and_stays_in_service(cache_down, client):
    client.get("/healthz")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok" and body["broker"] == "ok"
    assert body["cache"] == "degraded: ConnectionError"
    assert body["cache_failures"] == fail_open.failures.count


def test_healthz_reports_a_reachable_cache_as_ok(cache_up, client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["cache"] == "ok"


def test_the_backend_answers_as_an_empty_cache_while_redis_is_down(cache_down):
    cache.set("k", 1)
    assert cache.get("k") is None and cache.get("k", "fallback") == "fallback"
    assert cache.add("k", 1) is False and cache.has_key("k") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set_many({"a": 1}) == ["a"]
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")
    assert cache.get_or_set("k", 5) == 5


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: Redis hanging, not refusing."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                accepted.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()
    for conn in accepted:
        conn.close()


def test_after_a_failure_a_hanging_redis_is_left_alone_for_a_while(settings, silent_server):
    port, accepted = silent_server
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }
    started = time.monotonic()
    assert cache.get("k", "miss") == "miss"  # waited for the timeout once
    assert time.monotonic() - started >= 0.3 and len(accepted) == 1
    started = time.monotonic()
    assert [cache.get("k", "miss") for _ in range(20)] == ["miss"] * 20
    assert time.monotonic() - started < 0.3 and len(accepted) == 1
