"""The base for every team-scoped API view."""

from __future__ import annotations

from rest_framework.generics import GenericAPIView

from teams.api.auth import IsAuthenticatedCaller, TeamScopePermission, api_team


class TeamAPIView(GenericAPIView):
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


class StatelessAPIView(GenericAPIView):
    """For endpoints that read and store no team data (pure computations such as the ROI
    engine): any valid token or session may call them, whatever its team or scopes."""

    permission_classes = [IsAuthenticatedCaller]
