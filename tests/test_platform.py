"""Health check, JSON errors under /api/, OpenAPI and Swagger, custom error pages, seed_demo."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from teams.models import Membership, Team
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "broker", "cache")} == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "cache": "ok",
    }
    assert isinstance(body["cache_failures"], int)


def test_healthz_is_503_when_the_broker_is_down(client, broker_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["broker"].startswith("error: ")


def test_unknown_api_url_is_json_404(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Not found.",
        "errors": [{"field": None, "message": "Not found."}],
    }


def test_wrong_method_is_json_405(api_client_factory, team):
    response = api_client_factory(team, "usage:write").delete("/api/v1/me")
    assert response.status_code == 405
    assert response.json()["detail"] == 'Method "DELETE" not allowed.'


@pytest.mark.urls("tests.teams.api_test_urls")
def test_server_error_under_api_is_json_500(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/test-boom")
    assert response.status_code == 500
    assert response.json()["detail"] == "Server error."


def test_unknown_page_uses_the_custom_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page not found · Crossover</title>" in html


@pytest.mark.urls("tests.teams.api_test_urls")
def test_server_error_outside_the_api_is_the_custom_500_page(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/test-boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_openapi_schema_documents_bearer_auth(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert "/api/v1/me" in schema["paths"]


def test_swagger_ui_is_served_locally_without_inline_scripts(client):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "<script>" not in html and "<style>" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    initializer = client.get("/api/docs/?script=")
    assert initializer.status_code == 200 and "SwaggerUIBundle" in initializer.content.decode()


def test_pages_carry_the_content_security_policy(client):
    csp = client.get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    team = Team.objects.get(slug="demo")
    assert Membership.objects.filter(team=team, user__username="demo", role="admin").count() == 1
    from django.contrib.auth import authenticate

    assert authenticate(username="demo", password="demo") is not None


def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="needs DEBUG on or --force"):
        call_command("seed_demo")
    assert not Team.objects.exists()
    call_command("seed_demo", "--force")
    assert Team.objects.filter(slug="demo").exists()


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_production_settings_require_a_secret_key():
    result = run_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_nonsense_boolean_in_the_environment_fails_loudly():
    result = run_settings({"DEBUG": "maybe"})
    assert "DEBUG must be a boolean" in result.stderr


def test_production_settings_pass_the_deploy_checks():
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60 + "-production-like-secret-key",
        "ALLOWED_HOSTS": "crossover.example.com",
        "FIELD_ENCRYPTION_KEY": "cHJvZHVjdGlvbi1saWtlLWZpZWxkLWVuY3J5cHRpb24=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_favicon_ico_redirects_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
