"""The API's JSON parser, for every endpoint (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

Beyond DRF's JSONParser (which already refuses NaN and Infinity) it refuses, with a 400 that
names the field, what would otherwise reach the database or the interpreter as a crash:

- nesting deeper than `MAX_DEPTH` (Python's parser would raise RecursionError at ~1,000 levels,
  and code walking the data later would too);
- NUL characters in any string or key (PostgreSQL text and jsonb cannot hold them);
- numbers that overflow to infinity (`1e400`) and integers beyond 64 bits (no column holds them);

and bodies larger than `settings.API_MAX_BODY_BYTES` with a 413. Request bodies are UTF-8
(RFC 8259); the charset check lives with the content-type check in teams.api.views.
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from rest_framework import exceptions, parsers

MAX_DEPTH = 64
INT64 = 2**63
NUL_MESSAGE = "NUL characters (\\u0000) are not allowed."


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


def too_large() -> RequestTooLarge:
    limit = settings.API_MAX_BODY_BYTES
    return RequestTooLarge(f"The request body exceeds {limit // 2**20} MiB ({limit:,} bytes).")


def read_limited(stream) -> bytes:
    """The whole body, or RequestTooLarge as soon as it passes the limit."""
    limit = settings.API_MAX_BODY_BYTES
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise too_large()
    return body


def _path(node) -> str:
    parts: list[str] = []
    while node is not None:
        node, key = node
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).lstrip(".")


def _field_error(node, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({_path(node) or "non_field_errors": [message]})


def check_json_value(data) -> None:
    """Raise ParseError or a field ValidationError for what the API never accepts (see above).

    Iterative, so that it cannot itself run out of stack; paths are built only on error.
    """
    stack = [(data, None, 0)]
    while stack:
        value, node, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise _field_error((node, key.replace("\x00", "\\u0000")), NUL_MESSAGE)
                stack.append((item, (node, key), depth + 1))
        elif isinstance(value, str):
            if "\x00" in value:
                raise _field_error(node, NUL_MESSAGE)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise _field_error(node, "This number is out of range.")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT64:
            raise _field_error(node, "This integer is out of range (64 bits at most).")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = read_limited(stream)
        try:
            data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        except RecursionError:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        check_json_value(data)
        return data


class RawJSONParser(parsers.BaseParser):
    """The body as bytes (within the size limit), for views that parse it themselves: usage
    ingestion in one fast pass, dataset imports to report errors per line. The base view still
    checks content type and charset (teams.api.views); the view checks NUL and depth."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return read_limited(stream)


def raw_body(request) -> bytes:
    """What RawJSONParser read; a request without a body has none (DRF gives `{}` then)."""
    data = request.data
    return data if isinstance(data, bytes) else b""
