"""With PostgreSQL unreachable, every request that needs it answers a clean 503 with Retry-After:
the API's error body under /api/, a plain page for browsers, never a traceback.

The database is down for real: a separate process runs the app in production mode (DEBUG off)
with DATABASE_URL pointing at a port where nothing listens, so psycopg meets a refused
connection on each request; Django's test client drives it in that process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = r"""
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from django.test import Client

client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "s" * 32  # a browser that was logged in: the session needs the db
token = {"HTTP_AUTHORIZATION": "Bearer cx_" + "t" * 43}
usage = json.dumps({"workload": "w", "period_start": "2026-01-01T00:00:00Z",
                    "period_end": "2026-01-01T01:00:00Z", "requests": 1,
                    "input_tokens": 1, "output_tokens": 1})
requests = {
    "GET /login/": lambda: client.get("/login/"),
    "POST /login/": lambda: client.post("/login/", {"username": "a", "password": "b"}),
    "GET /t/acme/": lambda: client.get("/t/acme/"),
    "GET /no/such/page": lambda: client.get("/no/such/page"),
    "GET /api/v1/me": lambda: client.get("/api/v1/me", **token),
    "POST /api/v1/usage": lambda: client.post(
        "/api/v1/usage", usage, content_type="application/json", **token),
    "GET /api/v1/decisions": lambda: client.get("/api/v1/decisions", **token),
    "GET /healthz": lambda: client.get("/healthz"),
}
out = {}
for name, call in requests.items():
    r = call()
    out[name] = {"status": r.status_code, "type": r.get("Content-Type", ""),
                 "retry_after": r.get("Retry-After"), "body": r.content.decode()}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict[str, dict]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "database-down-test-" + "k" * 40,
        "FIELD_ENCRYPTION_KEY": "ZGF0YWJhc2UtZG93bi10ZXN0LWZpZWxkLWtleS0xMjM=",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/crossover",
        # Production pages need the static manifest, which collectstatic writes.
        "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
    }
    for command in (
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        [sys.executable, "-c", SCRIPT],
    ):
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


PAGES = ["GET /login/", "POST /login/", "GET /t/acme/", "GET /no/such/page"]
API = ["GET /api/v1/me", "POST /api/v1/usage", "GET /api/v1/decisions"]


@pytest.mark.parametrize("request_line", PAGES + API)
def test_every_request_is_a_503_with_retry_after_and_no_traceback(answers, request_line):
    answer = answers[request_line]
    assert answer["status"] == 503
    assert answer["retry_after"] == "30"
    assert "Traceback" not in answer["body"] and "OperationalError" not in answer["body"]


@pytest.mark.parametrize("request_line", API)
def test_api_requests_get_the_error_body(answers, request_line):
    answer = answers[request_line]
    assert answer["type"] == "application/json"
    message = "The service is temporarily unavailable: try again shortly."
    assert json.loads(answer["body"]) == {
        "detail": message,
        "errors": [{"field": None, "message": message}],
    }


@pytest.mark.parametrize("request_line", PAGES)
def test_browsers_get_a_plain_page(answers, request_line):
    answer = answers[request_line]
    assert answer["type"].startswith("text/html")
    assert "<title>Temporarily unavailable · Crossover</title>" in answer["body"]


def test_healthz_says_the_database_is_down(answers):
    answer = answers["GET /healthz"]
    assert answer["status"] == 503
    assert json.loads(answer["body"])["database"] == "error: OperationalError"
