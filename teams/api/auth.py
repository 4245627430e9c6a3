"""API authentication (bearer tokens), scope permissions, per-token throttling, team resolution."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from teams.models import TOKEN_PREFIX, ApiToken, Membership, Role, Team, hash_token

LAST_USED_RESOLUTION = timedelta(seconds=60)


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer cx_…`. request.user is None; request.auth is the ApiToken."""

    keyword = b"bearer"

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected 'Bearer <token>'."
            )
        raw = parts[1].decode("latin-1")
        if not raw.startswith(TOKEN_PREFIX) or len(raw) < len(TOKEN_PREFIX) + 20:
            raise exceptions.AuthenticationFailed("Malformed API token.")
        token = ApiToken.objects.select_related("team").filter(token_hash=hash_token(raw)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid API token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This API token has been revoked.")
        self._touch(token)
        return (None, token)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    @staticmethod
    def _touch(token: ApiToken) -> None:
        # One write a minute at most, however busy the token is.
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def request_token(request: Request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def api_team(request: Request) -> tuple[Team, Membership | None]:
    """The team an API request acts for: the token's, or for a session the `team` parameter
    (or the user's only team). Unknown or foreign teams are 404."""
    token = request_token(request)
    if token is not None:
        return token.team, None
    user = request.user
    if user is None or not user.is_authenticated:
        raise exceptions.NotAuthenticated()
    slug = request.query_params.get("team") or request.headers.get("X-Team")
    memberships = Membership.objects.select_related("team").filter(user=user)
    if slug:
        memberships = memberships.filter(team__slug=slug)
    found = list(memberships[:2])
    if len(found) == 1:
        return found[0].team, found[0]
    if not found:
        raise exceptions.NotFound("No such team.")
    raise exceptions.ValidationError(
        {"team": ["You belong to several teams: pass ?team=<slug> or an X-Team header."]}
    )


class IsAuthenticatedCaller(BasePermission):
    """A valid token or a logged-in user."""

    def has_permission(self, request: Request, view) -> bool:
        if request_token(request) is not None:
            return True
        return bool(request.user and request.user.is_authenticated)


class TeamScopePermission(BasePermission):
    """Tokens need the view's scope for the method; session users need the matching role.

    Views declare `read_scope` and `write_scope` (e.g. "decisions:read" / "decisions:write").
    """

    message = "This token lacks the required scope."

    def has_permission(self, request: Request, view) -> bool:
        if request.method == "OPTIONS":
            # It describes the view, never the team's data (teams.api.metadata).
            return True
        write = request.method not in SAFE_METHODS
        scope = getattr(view, "write_scope" if write else "read_scope", None)
        token = request_token(request)
        if token is not None:
            if scope is None or not token.has_scope(scope):
                self.message = f"This token lacks the '{scope}' scope."
                return False
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        team, membership = api_team(request)
        request.team_membership = membership
        if write and not membership.has_role(Role.EDITOR):
            self.message = "Viewers cannot write."
            return False
        return True


class TokenRateThrottle(SimpleRateThrottle):
    """Per-token (or per-user) request rate; anonymous requests are rejected before this."""

    scope = "token"

    def get_rate(self) -> str:
        # Read at request time (not import time) so that a changed setting takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request: Request, view) -> str | None:
        token = request_token(request)
        if token is not None:
            ident = f"t{token.prefix}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"u{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
