"""Checks a running production server (DEBUG off) over real HTTP: pages and their static assets,
the API docs, error pages, /healthz and, with a token, an authenticated API round trip.

.ci/run uses it against gunicorn on PostgreSQL and Redis; tests/test_deployment.py against a
server built by replaying the Dockerfile. Only the standard library, so it runs anywhere:

    python -m tests.smoke http://127.0.0.1:8321 [--token cx_… --team SLUG] [--usage]

Exits 1 and lists every problem found.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
# ManifestStaticFilesStorage names: app.3f2a9c1b7d4e.css
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")
# TLS ends at the proxy in production; it says so with this header (SECURE_PROXY_SSL_HEADER).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(base: str, path: str, *, method: str = "GET", token: str | None = None, body=None):
    headers = dict(PROXY_HEADERS)
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers), exc.read())


def wait_until_up(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fetch(base, "/healthz")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Checks:
    def __init__(self, base: str) -> None:
        self.base = base
        self.problems: list[str] = []
        self.done: list[str] = []

    def expect(self, ok: bool, what: str) -> bool:
        (self.done if ok else self.problems).append(what)
        return ok

    def page(self, path: str, status: int, title: str) -> Reply:
        reply = fetch(self.base, path)
        self.expect(reply.status == status, f"GET {path} → {status} (got {reply.status})")
        self.expect(f"<title>{title}</title>" in reply.text, f"{path} has the title {title!r}")
        self.expect("Traceback" not in reply.text, f"{path} shows no traceback")
        self.assets(path, reply)
        return reply

    def assets(self, path: str, reply: Reply) -> None:
        found = ASSET.findall(reply.text)
        self.expect(bool(found), f"{path} links static assets")
        for asset in found:
            hashed = bool(HASHED.search(asset.split("?")[0]))
            self.expect(hashed, f"{path}: {asset} has a hashed (manifest) name")
            got = fetch(self.base, asset)
            self.expect(got.status == 200 and got.body, f"{asset} is served (got {got.status})")

    def api_error(self, path: str, status: int, *, token: str | None = None) -> None:
        reply = fetch(self.base, path, token=token)
        is_json = reply.headers.get("Content-Type", "").startswith("application/json")
        shaped = is_json and {"detail", "errors"} <= set(reply.json())
        self.expect(reply.status == status and shaped, f"GET {path} → JSON {status}")

    def pages(self) -> None:
        self.page("/login/", 200, "Log in · Crossover")
        self.page("/no/such/page", 404, "Page not found · Crossover")
        self.page("/api/docs/", 200, "Crossover API")
        script = fetch(self.base, "/api/docs/?script=")
        self.expect(
            script.status == 200 and b"SwaggerUIBundle" in script.body,
            "GET /api/docs/?script= serves the Swagger UI initializer",
        )
        schema = fetch(self.base, "/api/schema/?format=json")
        self.expect(schema.status == 200 and "paths" in schema.json(), "GET /api/schema/ → OpenAPI")
        self.api_error("/api/v1/no-such-endpoint", 404)
        self.api_error("/api/v1/me", 401)
        health = fetch(self.base, "/healthz")
        body = health.json() if health.status in (200, 503) else {}
        self.expect(health.status == 200 and body.get("status") == "ok", f"/healthz ok: {body}")

    def api(self, token: str, team: str) -> None:
        me = fetch(self.base, "/api/v1/me", token=token)
        self.expect(me.status == 200 and me.json()["team"] == team, f"GET /api/v1/me as {team}")

    def usage_round_trip(self, token: str) -> None:
        """Create a workload, push one record twice: stored once, then counted a duplicate."""
        slug = f"smoke-{int(time.time() * 1000)}"
        created = fetch(
            self.base,
            "/api/v1/workloads",
            method="POST",
            token=token,
            body={"slug": slug, "name": "Smoke test", "model": "gpt-4o-mini"},
        )
        self.expect(
            created.status == 201,
            f"POST /api/v1/workloads → 201 (got {created.status} {created.text[:200]})",
        )
        record = {
            "workload": slug,
            "period_start": "2026-01-01T00:00:00Z",
            "period_end": "2026-01-01T01:00:00Z",
            "requests": 10,
            "input_tokens": 1000,
            "output_tokens": 100,
            "id": f"{slug}-1",
        }
        for expected in ({"accepted": 1, "duplicates": 0}, {"accepted": 0, "duplicates": 1}):
            pushed = fetch(self.base, "/api/v1/usage", method="POST", token=token, body=record)
            got = pushed.json() if pushed.status == 201 else pushed.text[:200]
            self.expect(got == expected, f"POST /api/v1/usage → {expected} (got {got})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--token")
    parser.add_argument("--team")
    parser.add_argument("--usage", action="store_true", help="also push usage (write scopes)")
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    wait_until_up(base)
    checks = Checks(base)
    checks.pages()
    if args.token:
        checks.api(args.token, args.team)
        if args.usage:
            checks.usage_round_trip(args.token)
    for problem in checks.problems:
        print(f"smoke: FAILED {problem}", file=sys.stderr)
    total = len(checks.done) + len(checks.problems)
    if checks.problems:
        print(f"smoke: {len(checks.problems)} of {total} checks FAILED")
    else:
        print(f"smoke: all {total} checks passed")
    return 1 if checks.problems else 0


if __name__ == "__main__":
    sys.exit(main())
