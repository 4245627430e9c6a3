"""OpenAPI: how bearer tokens authenticate and that closed serializers refuse unknown keys
(extensions, imported by TeamsConfig.ready), and the error responses every operation can give
(a postprocessing hook)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "teams.api.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token created in Team settings → API tokens: `cx_…`.",
        }


class ClosedSerializerExtension(OpenApiSerializerExtension):
    """A request body of a closed serializer (teams.api.serializers) says that it takes no
    other keys, as the serializer enforces."""

    target_class = "teams.api.serializers._Closed"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a summary and one entry per problem (field null when the "
    "problem is not about one field).",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "required": ["detail", "errors"],
}
ERRORS = {
    "400": "Invalid input: the fields and reasons are listed.",
    "401": "No valid API token or session.",
    "403": "The token lacks the scope, or the member the role.",
    "404": "Not found, or not this team's.",
    "429": "Too many requests for this token: see Retry-After.",
    "503": "The database is unreachable: retry after Retry-After seconds.",
}
BODY_ERRORS = {
    "413": "The request body is too large.",
    "415": "The body is not UTF-8 JSON.",
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the error statuses the
    shared mechanisms can answer (teams.api.errors), with the one error body; responses a view
    documents itself are kept."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            statuses = dict(ERRORS)
            if "requestBody" in operation:
                statuses.update(BODY_ERRORS)
            responses = operation.setdefault("responses", {})
            for code, description in statuses.items():
                responses.setdefault(code, {"description": description, "content": ref})
    return result
