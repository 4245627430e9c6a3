"""Shared fixtures: users, teams with roles, API clients with tokens, a local HTTP receiver and a
real Celery worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from teams.models import Membership, Role
from teams.services import api_token_create, team_create
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
# CI sets this so that a test needing PostgreSQL/Redis/Chromium fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("CROSSOVER_REQUIRE_SERVICES") == "1"
WORKER_QUEUES = "default,evaluations"
WORKER_START_TIMEOUT = 60


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


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # A deliberately slow hasher protects real passwords; tests only need a correct one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def team(db, user):
    return team_create(slug="acme", name="Acme", admin=user)


@pytest.fixture
def other_team(db):
    return team_create(slug="globex", name="Globex", admin=UserFactory())


@pytest.fixture
def member_factory(db):
    def make(team, role=Role.VIEWER, **kwargs):
        member = UserFactory(**kwargs)
        Membership.objects.create(team=team, user=member, role=role)
        return member

    return make


@pytest.fixture
def admin_client(client, user, team):
    client.force_login(user)
    return client


@pytest.fixture
def token_factory(db):
    def make(team, *scopes, name="test token"):
        token, raw = api_token_create(team=team, name=name, scopes=list(scopes))
        return token, raw

    return make


@pytest.fixture
def api_client_factory(token_factory):
    """An APIClient authenticated with a fresh token of `team` holding `scopes`."""

    def make(team, *scopes):
        _, raw = token_factory(team, *scopes)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return api

    return make


# A real HTTP server on 127.0.0.1 --------------------------------------------------------------


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every request; answers with the queued statuses, then `default_status`."""

    url: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0

    def respond_with(self, *statuses: int) -> None:
        self.statuses.extend(statuses)

    def wait_for(self, count: int, timeout: float = 30) -> list[ReceivedRequest]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.requests) >= count, f"got {len(self.requests)} of {count} requests"
        return self.requests


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A real local HTTP server (webhook receivers, fake upstreams) at `http_receiver.url`."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                receiver.requests.append(
                    ReceivedRequest(self.command, self.path, dict(self.headers), body, time.time())
                )
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
            time.sleep(receiver.delay)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 400 else b"nope")

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = HttpReceiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


# A real Celery worker process -----------------------------------------------------------------


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


@pytest.fixture
def live_worker(transactional_db, live_worker_env) -> Iterator[subprocess.Popen]:
    """`celery -A config worker` as a subprocess on the test database and the configured broker
    (Redis via CELERY_BROKER_URL in CI, the filesystem broker otherwise), ready when yielded.

    Tests using it need `@pytest.mark.django_db(transaction=True)`: the worker only sees
    committed rows.
    """
    from django.conf import settings
    from django.db import connection

    try:
        _purge_queues()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"Celery broker {settings.CELERY_BROKER_URL} unreachable: {exc}")
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
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
