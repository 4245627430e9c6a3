"""`live_worker`: a real Celery worker process on the test database; `broker_down`: a broker
that refuses connections."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.plugins.services import service_missing

ROOT = Path(__file__).resolve().parents[2]
WORKER_QUEUES = "default,evaluations"
WORKER_START_TIMEOUT = 60


@pytest.fixture
def live_worker_env() -> dict[str, str]:
    """Extra environment for the `live_worker` process; override this fixture in a test module
    (e.g. {"ALLOW_PRIVATE_NETWORK_TARGETS": "1"}): settings overridden inside the test process do
    not reach the worker."""
    return {}


def _worker_database_url(settings_dict: dict) -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(name).resolve()}"
    configured = urlsplit(os.environ["DATABASE_URL"])
    return configured._replace(path=f"/{name}").geturl()


def _purge_queues() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        for queue in WORKER_QUEUES.split(","):
            conn.default_channel.queue_purge(queue)


def _worker_env(live_worker_env: dict[str, str]) -> dict[str, str]:
    from django.conf import settings
    from django.db import connection

    env = {
        **os.environ,
        "DATABASE_URL": _worker_database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DEBUG": "1" if settings.DEBUG else "0",
        "SECRET_KEY": settings.SECRET_KEY,
        # The worker must decrypt the provider keys this process encrypted.
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "ALLOW_PRIVATE_NETWORK_TARGETS": "1" if settings.ALLOW_PRIVATE_NETWORK_TARGETS else "0",
        **live_worker_env,
    }
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        queue_dir = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        env["CELERY_BROKER_DIR"] = str(queue_dir.parent)
    return env


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "-Q", WORKER_QUEUES, "--pool", "solo", "--loglevel", "INFO",
        "--hostname", f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            output.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("Celery worker did not start:\n" + "".join(output[-40:]))
    process.output = output  # the worker's log so far, for assertions and failure messages
    return process


def _stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _purged_or_missing() -> None:
    from django.conf import settings

    try:
        _purge_queues()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"Celery broker {settings.CELERY_BROKER_URL} unreachable: {exc}")


@pytest.fixture
def live_worker(transactional_db, live_worker_env) -> Iterator[subprocess.Popen]:
    """`celery -A config worker` as a subprocess on the test database and the configured broker
    (Redis via CELERY_BROKER_URL in CI, the filesystem broker otherwise), ready when yielded.

    Tests using it need `@pytest.mark.django_db(transaction=True)`: the worker only sees
    committed rows.
    """
    _purged_or_missing()
    process = _start_worker(_worker_env(live_worker_env))
    yield process
    _stop_worker(process)


@pytest.fixture
def live_worker_factory(transactional_db, live_worker_env):
    """`start()` another worker like `live_worker` (e.g. to restart one a test killed); every
    worker started is stopped at the end of the test. Queues are purged once, before the first."""
    _purged_or_missing()
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        started.append(_start_worker(_worker_env(live_worker_env)))
        return started[-1]

    yield start
    for process in started:
        _stop_worker(process)


@pytest.fixture
def broker_down(monkeypatch):
    """Point the Celery app at a port where nothing listens (a real refused connection), then
    restore it. Celery reads CELERY_BROKER_URL from the environment before its own config."""
    from config.celery import app

    conf = app.conf
    saved = conf.broker_url, conf.broker_transport_options
    _drop_broker_connections(app)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    conf.broker_url = "redis://127.0.0.1:1/0"
    conf.broker_transport_options = {"max_retries": 0}
    yield
    _drop_broker_connections(app)
    monkeypatch.undo()
    conf.broker_url, conf.broker_transport_options = saved


def _drop_broker_connections(app) -> None:
    # Forget the pools, so the next publish connects to the broker configured now. Not
    # `app.close()`: it also unregisters the app (task modules imported later would not register
    # their tasks with it) and keeps the producer pool, which would keep publishing to the
    # previous broker for the rest of the session. Closing the pools is not an option either:
    # kombu shares them process-wide by connection URL.
    app._pool = None
    app.amqp._producer_pool = None
