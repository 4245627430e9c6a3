"""A real Celery worker for the decisions tests (same contract as the project-wide fixture)."""

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

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]


def _database_url(settings_dict: dict) -> str:
    """The URL of the test database this test runs on, for the worker process."""
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(name).resolve()}"
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


@pytest.fixture
def live_worker(transactional_db) -> Iterator[subprocess.Popen]:
    """`celery -A config worker` on the test database and the configured broker, ready when
    yielded. The worker only sees committed rows: use `django_db(transaction=True)`."""
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("default")
    except Exception as exc:  # noqa: BLE001 - any broker failure means no worker
        service_missing(f"Celery broker {settings.CELERY_BROKER_URL} unreachable: {exc}")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DEBUG": "1" if settings.DEBUG else "0",
        "SECRET_KEY": settings.SECRET_KEY,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default",
        "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--hostname", f"decisions-test-{os.getpid()}@%h",
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
    deadline = time.monotonic() + 60
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("Celery worker did not start:\n" + "".join(output[-40:]))
    process.output = output
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
