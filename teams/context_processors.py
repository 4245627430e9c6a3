from __future__ import annotations

from django.http import HttpRequest


def team_nav(request: HttpRequest) -> dict:
    """The current team and the user's other teams, for the navigation and the team switcher."""
    team = getattr(request, "team", None)
    if team is None or not request.user.is_authenticated:
        return {"team": team}
    return {
        "team": team,
        "membership": getattr(request, "membership", None),
        "my_memberships": request.user.memberships.select_related("team"),
    }
