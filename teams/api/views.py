"""The bases of every API view: team-scoped (`TeamAPIView`) or stateless (`StatelessAPIView`).

Both check a request body before the handler runs, whether or not the handler reads it: a body
no parser of the view takes is a 415, a body in a charset other than UTF-8 too, a body over the
size limit a 413, and what teams.api.parsers refuses (depth, NUL, range) a 400, even when the
view brings its own parser.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.generics import GenericAPIView

from teams.api.auth import IsAuthenticatedCaller, TeamScopePermission, api_team
from teams.api.parsers import (
    MAX_DEPTH,
    JSONParser,
    RequestTooLarge,
    check_json_value,
    too_large,
)

UTF8 = {"utf-8", "utf8"}


class CheckedBodyMixin:
    """The body checks of the module docstring, run once the caller is authenticated."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling
        meta = request._request.META
        length = meta.get("CONTENT_LENGTH") or "0"
        has_body = (length.isdigit() and int(length) > 0) or "HTTP_TRANSFER_ENCODING" in meta
        if not has_body or request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
            raise too_large()
        parsers = self.get_parsers()
        parser = self.get_content_negotiator().select_parser(request, parsers)
        if parser is None:
            accepted = " or ".join(p.media_type for p in parsers)
            raise UnsupportedMediaType(request.content_type, detail=f"Send {accepted}.")
        charset = parse_header_parameters(request.content_type)[1].get("charset")
        if charset is not None and charset.lower() not in UTF8:
            raise UnsupportedMediaType(
                request.content_type, detail=f"Send UTF-8 JSON, not {charset}."
            )
        # Parse now, so that a hostile body is refused even by a handler that ignores it, and
        # check what a view's own parser let through as the API's parser would have.
        try:
            data = request.data
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        except RequestDataTooBig:
            # DRF reads JSON through request.body, which Django caps at
            # DATA_UPLOAD_MAX_MEMORY_SIZE: a 413 like any other body too large, not a 500.
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            raise RequestTooLarge(f"The request body exceeds {limit:,} bytes.") from None
        if not isinstance(parser, JSONParser):
            check_json_value(data)


class TeamAPIView(CheckedBodyMixin, GenericAPIView):
    """Subclasses set `read_scope`/`write_scope` and use `self.team` to scope every query.

    A subclass that sets `queryset` gets it filtered to `self.team` by `get_queryset()`, so
    `get_object()` answers 404 for another team's row.
    """

    permission_classes = [IsAuthenticatedCaller, TeamScopePermission]
    read_scope: str | None = None
    write_scope: str | None = None

    @property
    def team(self):
        self._resolve_team()
        return self._team

    @property
    def membership(self):
        """The caller's membership for a session request, None for a token."""
        self._resolve_team()
        return self._membership

    def _resolve_team(self) -> None:
        if not hasattr(self, "_team"):
            self._team, self._membership = api_team(self.request)

    @property
    def actor(self):
        """The user behind a session request, or None for a token."""
        user = self.request.user
        return user if user is not None and user.is_authenticated else None

    def get_queryset(self):
        return super().get_queryset().filter(team=self.team)


class StatelessAPIView(CheckedBodyMixin, GenericAPIView):
    """For endpoints that read and store no team data (pure computations such as the ROI
    engine): any valid token or session may call them, whatever its team or scopes."""

    permission_classes = [IsAuthenticatedCaller]
