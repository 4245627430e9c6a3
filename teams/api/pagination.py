"""Limit/offset pagination that refuses what it cannot honour (DEFAULT_PAGINATION_CLASS).

DRF's LimitOffsetPagination quietly replaces a `limit` or `offset` it cannot read (`abc`, `-1`,
`1.5`) with its default, and passes any integer on to the database, where one past 64 bits is a
server error. Here both are range-checked and a bad one is a 400 naming the parameter; the
published parameters carry the same bounds.
"""

from __future__ import annotations

import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_LIMIT = 1_000
MAX_OFFSET = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,12}")


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return self._read(request, self.limit_query_param, self.default_limit, 1, MAX_LIMIT)

    def get_offset(self, request) -> int:
        return self._read(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    @staticmethod
    def _read(request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
            raise ValidationError({name: [f"Must be an integer from {low} to {high:,}."]})
        return int(raw)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        envelope = super().get_paginated_response_schema(schema)
        # All four keys are always there; next and previous are null at either end.
        envelope["required"] = ["count", "next", "previous", "results"]
        envelope["properties"]["count"]["minimum"] = 0
        return envelope

    def get_schema_operation_parameters(self, view) -> list[dict]:
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                           "default": self.default_limit}  # fmt: skip
        offset["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
        return [limit, offset]
