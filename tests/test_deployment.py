"""docker-compose.yml and the Dockerfile cannot run here, so check that they refer to real
things: modules, manage.py commands, the Celery app and its queues, files to copy."""

from __future__ import annotations

import importlib
import re
import shlex

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def commands_of(service: dict) -> list[list[str]]:
    """The command lines a service runs (`sh -c "a && b"` split into a and b)."""
    words = (
        shlex.split(service["command"])
        if isinstance(service["command"], str)
        else service["command"]
    )
    if words[:2] == ["sh", "-c"]:
        return [shlex.split(part.strip()) for part in re.split(r"&&|;", words[2])]
    return [words]


def check_command(words: list[str]) -> None:
    if words[0] == "exec":
        words = words[1:]
    program = words[0]
    if program == "python" and words[1] == "manage.py":
        assert words[2] in get_commands(), f"no manage.py command {words[2]}"
    elif program == "gunicorn":
        module, attr = words[1].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
    elif program == "celery":
        assert words[1:3] == ["-A", "config"]
        from config.celery import app

        assert app.main == "crossover"
        assert words[3] in {"worker", "beat"}
        if words[3] == "worker":
            queues = set(words[words.index("-Q") + 1].split(","))
            routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
            assert {settings.CELERY_TASK_DEFAULT_QUEUE, *routed} <= queues
    else:
        pytest.fail(f"unexpected program {program}")


def test_compose_runs_postgres_redis_web_worker_and_beat():
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat"}


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_service_commands_refer_to_things_that_exist(name):
    for words in commands_of(SERVICES[name]):
        check_command(words)


def test_web_migrates_before_serving_with_gunicorn():
    steps = [words[:3] for words in commands_of(SERVICES["web"])]
    assert steps[0] == ["python", "manage.py", "migrate"]
    assert steps[-1][:2] == ["exec", "gunicorn"]


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker"])
def test_services_have_health_checks(name):
    assert SERVICES[name]["healthcheck"]["test"]


def test_web_health_check_calls_healthz():
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_database_lives_on_a_named_volume():
    assert "pgdata" in COMPOSE["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


def test_app_services_wait_for_healthy_database_and_broker():
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        env = SERVICES[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["DEBUG"] == "0"


def test_dockerfile_copies_only_what_exists_and_starts_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    assert '"config.wsgi:application"' in dockerfile
