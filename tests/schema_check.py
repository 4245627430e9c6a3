"""Checks API responses against the published OpenAPI schema (`/api/schema/`).

`PublishedSchema.check(response)` finds the operation the response answered (its method and
path), and fails unless the schema documents the response's status for that operation, its
content type, and — for JSON — a body schema the body validates against. Bodies are checked
strictly: OpenAPI 3.0's `nullable` becomes JSON Schema's null type, and every object with
declared properties is closed, so an undocumented key fails as surely as a wrong type.

Any app's API test can use it the same way:

    @pytest.fixture(scope="module")
    def schema(django_db_blocker):
        return PublishedSchema.fetch(django_db_blocker)

    def test_…(schema, api):
        schema.check(api.get("/api/v1/…"))

`schema.checked` records each (method, path template, status) seen, so that a test can also
require that every operation of its app was exercised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import jsonschema
from django.test import Client

# OpenAPI keywords that JSON Schema does not have (or that say nothing about a response body).
_OPENAPI_ONLY = {"nullable", "readOnly", "writeOnly", "example", "discriminator", "xml",
                 "externalDocs", "deprecated"}  # fmt: skip
# Keywords whose value maps names to schemas (the names are not keywords).
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions"}


def json_schema(node: object) -> object:
    """An OpenAPI 3.0 schema object as a strict JSON Schema (2020-12)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _OPENAPI_ONLY:
            continue
        if key in _SCHEMA_MAPS:
            out[key] = {name: json_schema(schema) for name, schema in value.items()}
        else:
            out[key] = json_schema(value)
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


class PublishedSchema:
    def __init__(self, document: dict):
        self.document = document
        components = document.get("components", {}).get("schemas", {})
        self.components = {name: json_schema(schema) for name, schema in components.items()}
        self.checked: set[tuple[str, str, int]] = set()
        self._routes = sorted(
            ((self._pattern(path), path) for path in document["paths"]),
            key=lambda route: route[1].count("{"),  # literal segments win: /import before /{id}
        )

    @classmethod
    def fetch(cls, django_db_blocker=None) -> PublishedSchema:
        """The schema the running app serves at /api/schema/."""
        if django_db_blocker is None:
            response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
        else:
            with django_db_blocker.unblock():
                response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content[:500]
        return cls(response.json())

    @staticmethod
    def _pattern(path: str) -> re.Pattern:
        parts = re.split(r"(\{[^}/]+\})", path)
        regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        return re.compile(f"^{regex}$")

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        """(path template, operation object) of `METHOD path`."""
        for pattern, template in self._routes:
            if pattern.match(path):
                operations = self.document["paths"][template]
                assert method.lower() in operations, f"{method} {template} is not in the schema"
                return template, operations[method.lower()]
        raise AssertionError(f"{path} matches no path of the schema")

    def check(self, response) -> None:
        """Fail unless the schema describes `response` (a Django test client response)."""
        method, path = response.request["REQUEST_METHOD"], response.request["PATH_INFO"]
        template, operation = self.operation(method, path)
        where = f"{method} {template} → {response.status_code}"
        documented = operation.get("responses", {})
        described = documented.get(str(response.status_code)) or documented.get("default")
        assert described is not None, f"{where}: status not in the schema ({sorted(documented)})"
        self.checked.add((method, template, response.status_code))
        content = described.get("content") or {}
        body = response.content
        if not content:
            assert not body, f"{where}: the schema documents no body, the response has one"
            return
        media = response["Content-Type"].split(";")[0].strip()
        assert media in content, f"{where}: {media} is not documented ({sorted(content)})"
        if media.endswith("json"):
            self._validate(where, content[media].get("schema", {}), response.json())

    def _validate(self, where: str, schema: dict, body: object) -> None:
        root = {**json_schema(schema), "components": {"schemas": self.components}}
        validator = jsonschema.Draft202012Validator(
            root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        problems = [
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator.iter_errors(body)
        ]
        assert not problems, f"{where}: the body does not match the schema:\n" + "\n".join(
            problems[:20]
        )

    def operations(self, tag: str) -> Iterable[tuple[str, str, dict]]:
        """(METHOD, path template, operation) of every operation tagged `tag`."""
        for template, operations in self.document["paths"].items():
            for method, operation in operations.items():
                if tag in operation.get("tags", []):
                    yield method.upper(), template, operation
