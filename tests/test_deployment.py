"""docker-compose.yml and the Dockerfile cannot run here, so check that they refer to real
things (modules, manage.py commands, the Celery app and its queues, files to copy), and replay
the Dockerfile's steps to build and serve the image's /app in production mode."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

from tests import smoke
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
    assert '"-c", "config/gunicorn.py"' in dockerfile


def test_web_serves_with_the_gunicorn_settings_module():
    gunicorn = commands_of(SERVICES["web"])[-1][1:]
    assert gunicorn[gunicorn.index("-c") + 1] == "config/gunicorn.py"
    assert "--workers" not in gunicorn and "--bind" not in gunicorn  # from the environment


def test_gunicorn_settings_come_from_the_environment_and_freeze_the_collector(monkeypatch):
    import gc
    import importlib.util

    def load():
        spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "config/gunicorn.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "12")
    monkeypatch.setenv("GUNICORN_THREADS", "4")
    conf = load()
    assert (conf.workers, conf.timeout, conf.threads, conf.worker_class) == (5, 12, 4, "gthread")
    assert conf.preload_app is True
    monkeypatch.delenv("WEB_CONCURRENCY")
    monkeypatch.delenv("GUNICORN_THREADS")
    conf = load()
    assert conf.workers == 2 * os.cpu_count() + 1 and conf.worker_class == "sync"
    before, thresholds = gc.get_freeze_count(), gc.get_threshold()
    try:
        conf.pre_fork(None, None)
        assert gc.get_freeze_count() > before + 1000
        conf.post_fork(None, None)
        # A worker collects its young generation every 50,000 allocations, not every 700.
        assert gc.get_threshold() == (50_000, 20, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


# The Dockerfile, replayed -----------------------------------------------------------------------
# docker cannot run here, so the test builds the image's /app by hand: the files the Dockerfile
# copies, its collectstatic step with its environment, then docker-compose's web command
# (migrate, gunicorn) with production settings, and checks the server over HTTP.

# RUN steps that need root or the network; the test's interpreter already has the dependencies
# (test_pyproject_packages_every_local_app checks what `pip install .` would ship).
NOT_REPLAYED = ("pip install .", "useradd ", "chown ")


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def dockerfile_env(app_dir) -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            for name, value in (pair.split("=", 1) for pair in shlex.split(args)):
                env[name] = value.replace("/app", str(app_dir))
    return env


def replay_copies(app_dir) -> None:
    workdir = None
    for instruction, args in dockerfile_instructions():
        if instruction == "WORKDIR":
            workdir = args
        elif instruction == "COPY":
            *sources, dest = args.split()
            target = app_dir / dest.removeprefix("./") if dest != "./" else app_dir
            assert workdir == "/app" and not dest.startswith("/"), "COPY relative to /app"
            for source in sources:
                path = ROOT / source
                if path.is_dir():
                    shutil.copytree(
                        path, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                    )
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / path.name)


def run_steps() -> list[str]:
    steps = []
    for instruction, args in dockerfile_instructions():
        if instruction == "RUN":
            steps.extend(step.strip() for step in args.split("&&"))
    return steps


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command, *, cwd, env, shell=False) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, cwd=cwd, env=env, shell=shell, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """/app as the Dockerfile builds it, and the environment docker-compose gives it."""
    app_dir = tmp_path_factory.mktemp("image") / "app"
    app_dir.mkdir()
    replay_copies(app_dir)
    venv_bin = str(Path(sys.executable).parent)
    env = {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(app_dir), **dockerfile_env(app_dir)}
    for step in run_steps():
        if step.startswith(NOT_REPLAYED):
            continue
        assert "manage.py" in step, f"a Dockerfile step the test does not replay: {step}"
        run(step, cwd=app_dir, env=env, shell=True)
    compose = COMPOSE["x-app"]["environment"]
    runtime = {
        **env,
        "DEBUG": compose["DEBUG"],
        "SECRET_KEY": "image-test-" + "k" * 50,
        "FIELD_ENCRYPTION_KEY": "aW1hZ2UtdGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # as in docker-compose.yml: TLS ends at the proxy
        "DATABASE_URL": f"sqlite:///{app_dir / 'var' / 'crossover.sqlite3'}",
    }
    return app_dir, runtime


def test_the_image_collects_static_files_with_a_manifest(image):
    app_dir, env = image
    manifest = json.loads((app_dir / "var" / "staticfiles" / "staticfiles.json").read_text())
    for name in ("vendor/chart-4.6.1.umd.min.js", "css/app.css", "js/app.js"):
        assert manifest["paths"][name] != name
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest["paths"]


def test_every_app_of_the_image_is_loaded_from_the_image(image):
    # The development install points at this checkout: an app the Dockerfile forgot to copy
    # would still import from here. Every local app must come from /app.
    app_dir, env = image
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
        "django.setup(); from django.apps import apps; "
        "print('\\n'.join(a.path for a in apps.get_app_configs()))"
    )
    paths = run([sys.executable, "-c", code], cwd=app_dir, env=env).stdout.split()
    from_checkout = [
        p for p in paths if Path(p).is_relative_to(ROOT) and not Path(p).is_relative_to(sys.prefix)
    ]
    assert from_checkout == [], "not copied by the Dockerfile"
    assert any(Path(p).is_relative_to(app_dir) for p in paths)


def test_the_image_serves_pages_assets_and_the_api_under_gunicorn(image):
    app_dir, env = image
    web = commands_of(SERVICES["web"])
    port = free_port()
    for words in web[:-1]:
        run(words, cwd=app_dir, env=env)
    run(["python", "manage.py", "create_team", "image"], cwd=app_dir, env=env)
    token = run(
        ["python", "manage.py", "create_api_token", "--team", "image", "--name", "smoke"]
        + ["--scope", "decisions:write", "--scope", "decisions:read", "--scope", "usage:write"],
        cwd=app_dir,
        env=env,
    ).stdout.strip()
    gunicorn = web[-1][1:]  # without `exec`
    # config/gunicorn.py takes the address and the workers from the environment.
    served = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    server = subprocess.Popen(
        gunicorn, cwd=app_dir, env=served, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        smoke.wait_until_up(base)
        checks = smoke.Checks(base)
        checks.pages()
        checks.api(token, "image")
        checks.usage_round_trip(token)
        assert checks.problems == []
        assert len(checks.done) >= 30
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
    assert "Traceback" not in log, log


def test_pyproject_packages_every_local_app():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    local = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()]
    assert {f"{app}*" for app in [*local, "config"]} <= set(included)
