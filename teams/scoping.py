"""The one team-scoping mechanism for browser views.

Every team-scoped URL is `/t/<team_slug>/…`. Views are wrapped in `team_view`, which resolves the
team from the URL for a member (a non-member gets 404: existence is never leaked), puts it on
`request.team` / `request.membership`, and refuses unsafe methods below the required role.
Querysets are then scoped with `Model.objects.for_team(request.team)`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from teams.models import Membership, Role

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def membership_for(user, team_slug: str) -> Membership:
    try:
        return Membership.objects.select_related("team").get(team__slug=team_slug, user=user)
    except Membership.DoesNotExist:
        raise Http404("No such team") from None


def team_view(
    view: Callable | None = None, *, role: str = Role.VIEWER, write_role: str = Role.EDITOR
) -> Callable:
    """Decorate a view taking `team_slug`: members with `role` may read, `write_role` may write."""

    def decorator(func: Callable) -> Callable:
        @login_required
        @wraps(func)
        def wrapper(request: HttpRequest, team_slug: str, *args, **kwargs) -> HttpResponse:
            membership = membership_for(request.user, team_slug)
            needed = role if request.method in SAFE_METHODS else max_role(role, write_role)
            if not membership.has_role(needed):
                raise PermissionDenied(f"This needs the {needed} role in {membership.team.name}.")
            request.team = membership.team
            request.membership = membership
            return func(request, *args, **kwargs)

        wrapper.team_scoped = True
        return wrapper

    return decorator(view) if view is not None else decorator


def max_role(a: str, b: str) -> str:
    order = [Role.VIEWER, Role.EDITOR, Role.ADMIN]
    return order[max(order.index(a), order.index(b))]
