"""Hostile input never reaches a 500 (SPEC §9), swept over the URL conf so that endpoints added
later are covered without anyone listing them: for every API route and every method its view
implements, deep JSON, NUL characters, overflowing numbers, wrong content types and charsets,
oversized bodies and OPTIONS each get their 4xx, with the API's one error body."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from teams import services
from teams.models import Scope
from tests.tenancy import Route, all_routes, dummy_values

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
DEEP = 10_000


def api_routes() -> list[Route]:
    return [r for r in all_routes() if r.route.startswith("api/v1/")]


def methods(route: Route, candidates=("get", *WRITE_METHODS)) -> list[str]:
    view = route.callback.view_class
    return [m for m in candidates if hasattr(view, m) and m in view.http_method_names]


def parses(route: Route, content_type: str) -> bool:
    media = content_type.split(";")[0].strip()
    return any(parser.media_type == media for parser in route.callback.view_class.parser_classes)


def write_endpoints(
    content_type: str = "application/json", *, accepted: bool = True
) -> list[tuple[str, str]]:
    """(method, url) for every write method of every API route whose view parses
    `content_type` (or, with accepted=False, does not), with placeholder kwargs: the body is
    checked before any lookup, so no object needs to exist."""
    return [
        (method, route.url(dummy_values(route)))
        for route in api_routes()
        if parses(route, content_type) is accepted
        for method in methods(route, WRITE_METHODS)
    ]


def every_endpoint() -> list[tuple[str, str]]:
    return [
        (method, route.url(dummy_values(route)))
        for route in api_routes()
        for method in methods(route)
    ]


@pytest.fixture
def api(team) -> APIClient:
    _, raw = services.api_token_create(team=team, name="sweeper", scopes=list(Scope.values))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def send(api: APIClient, method: str, url: str, body: str | bytes, content_type: str):
    return getattr(api, method)(url, data=body, content_type=content_type)


def error_shape(response) -> list[str]:
    """Problems with an error response's body: JSON `{detail, errors: [{field, message}]}`."""
    if not response.get("Content-Type", "").startswith("application/json"):
        return [f"{response.status_code} is {response.get('Content-Type')}, not JSON"]
    body = response.json()
    ok = (
        isinstance(body, dict)
        and isinstance(body.get("detail"), str)
        and isinstance(body.get("errors"), list)
        and body["errors"]
        and all(isinstance(e, dict) and {"field", "message"} <= set(e) for e in body["errors"])
    )
    return [] if ok else [f"{response.status_code} body {body!r}"]


def sweep(api, endpoints, body, content_type, expected: int, field: str | None = None):
    problems = []
    for method, url in endpoints:
        response = send(api, method, url, body, content_type)
        if response.status_code != expected:
            problems.append(f"{method.upper()} {url} → {response.status_code}")
            continue
        problems.extend(f"{method.upper()} {url}: {p}" for p in error_shape(response))
        if field is not None and field not in {e["field"] for e in response.json()["errors"]}:
            problems.append(f"{method.upper()} {url}: {field} not named in {response.json()}")
    return problems


def test_the_sweep_reaches_every_write_endpoint():
    endpoints = write_endpoints()
    assert len(endpoints) >= 8
    assert ("post", "/api/v1/usage") in endpoints


def test_json_nested_ten_thousand_deep_is_a_400_everywhere(api):
    body = "[" * DEEP + "]" * DEEP
    assert sweep(api, write_endpoints(), body, "application/json", 400) == []


def test_deep_objects_are_a_400_with_the_limit_named(api):
    body = '{"a":' * DEEP + "1" + "}" * DEEP
    response = send(api, "post", "/api/v1/workloads", body, "application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "JSON nested deeper than 64 levels."


def test_nul_in_a_json_string_is_a_field_error_everywhere(api):
    body = '{"title": "a\\u0000b", "name": "ok"}'
    assert sweep(api, write_endpoints(), body, "application/json", 400, field="title") == []


def test_nul_in_a_nested_json_key_names_the_path(api):
    body = '{"considered_options": [{"title": "x", "k\\u0000": 1}]}'
    response = send(api, "post", "/api/v1/decisions", body, "application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "considered_options[0].k\\u0000",
            "message": "NUL characters (\\u0000) are not allowed.",
        }
    ]


@pytest.mark.parametrize(
    ("number", "message"),
    [("1e400", "This number is out of range."), ("-1e999", "This number is out of range.")]
    + [(str(2**63), "This integer is out of range (64 bits at most).")],
)
def test_numbers_no_column_can_hold_are_a_field_error_everywhere(api, number, message):
    body = f'{{"threshold": {number}}}'
    assert sweep(api, write_endpoints(), body, "application/json", 400, field="threshold") == []


def test_nan_and_infinity_literals_are_refused(api):
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = f'{{"cost_usd": {literal}}}'
        assert sweep(api, write_endpoints(), body, "application/json", 400) == []


def test_invalid_utf8_is_a_400_everywhere(api):
    assert sweep(api, write_endpoints(), b'{"title": "\xff"}', "application/json", 400) == []


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    + ["application/xml"],
)
def test_a_body_in_another_content_type_is_a_415_everywhere(api, content_type):
    refusing = write_endpoints(content_type, accepted=False)
    assert sweep(api, refusing, "title=x", content_type, 415) == []


def test_a_json_body_is_a_415_where_the_view_takes_no_json(api):
    others = write_endpoints(accepted=False)
    assert ("post", "/api/v1/decisions/import") in others
    assert sweep(api, others, '{"title": "x"}', "application/json", 415) == []


def test_json_in_a_charset_other_than_utf8_is_a_415_everywhere(api):
    body = '{"title": "x"}'.encode("utf-16")
    content_type = "application/json; charset=utf-16"
    assert sweep(api, write_endpoints(), body, content_type, 415) == []


def test_a_body_over_the_limit_is_a_413_everywhere(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = '{"title": "' + "x" * 2000 + '"}'
    assert sweep(api, write_endpoints(), body, "application/json", 413) == []


def test_options_answers_every_api_route(api):
    problems = []
    for route in api_routes():
        url = route.url(dummy_values(route))
        response = api.options(url)
        if response.status_code != 200 or response.json()["name"] != (
            route.callback.view_class().get_view_name()
        ):
            problems.append(f"OPTIONS {url} → {response.status_code}")
        elif "OPTIONS" not in response["Allow"]:
            problems.append(f"OPTIONS {url}: Allow {response['Allow']}")
    assert problems == []


def test_nul_in_a_query_parameter_is_a_field_error_everywhere(api):
    problems = []
    for method, url in every_endpoint():
        response = getattr(api, method)(f"{url}?team=a%00b")
        if response.status_code != 400:
            problems.append(f"{method.upper()} {url} → {response.status_code}")
        elif response.json()["errors"][0]["field"] != "team":
            problems.append(f"{url}: {response.json()}")
    assert problems == []


def test_nul_in_a_header_is_refused(api):
    response = api.get("/api/v1/me", HTTP_X_TEAM="acme\x00")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "X-Team"


def test_nul_in_a_page_query_is_a_plain_400(admin_client, team):
    response = admin_client.get(f"/t/{team.slug}/?q=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "NUL characters" in response.content.decode()


def test_unauthenticated_and_unknown_calls_have_the_error_shape(client, api):
    problems = []
    for method, url in every_endpoint():
        response = getattr(client, method)(url)
        if response.status_code != 401:
            problems.append(f"anonymous {method.upper()} {url} → {response.status_code}")
        problems.extend(error_shape(response))
    for response in (api.get("/api/v1/nowhere"), api.delete("/api/v1/me")):
        problems.extend(error_shape(response))
    assert problems == []


def test_throttled_calls_have_the_error_shape_and_retry_after(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1/min"},
    }
    api.get("/api/v1/me")
    response = api.get("/api/v1/me")
    assert response.status_code == 429
    assert error_shape(response) == [] and int(response["Retry-After"]) > 0


def test_the_schema_documents_the_error_statuses_of_every_operation(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "errors"]
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "429", "503"}
            if "requestBody" in operation:
                expected |= {"413", "415"}
            missing.extend(
                f"{method.upper()} {path} {code}"
                for code in sorted(expected - set(operation["responses"]))
            )
    assert len(schema["paths"]) >= 10
    assert missing == []
