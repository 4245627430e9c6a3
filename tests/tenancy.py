"""URL-conf sweeps for team isolation. They walk every route, so routes added later are covered
without touching the tests.

Conventions they rely on: team pages live under `/t/<team_slug>/`; API URL kwargs are named
after the model field they look up (`slug`, `number`, `pk`/`id`, ...).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from teams.models import TeamOwned

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
DUMMY = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000001"}
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    route: str  # e.g. "t/<slug:team_slug>/settings/tokens/<int:pk>/revoke/"
    callback: object
    is_regex: bool

    @property
    def params(self) -> list[tuple[str, str]]:
        return [(m["name"], m["converter"] or "str") for m in PARAM.finditer(self.route)]

    def url(self, values: dict[str, str]) -> str:
        return "/" + PARAM.sub(lambda m: str(values[m["name"]]), self.route)


def all_routes(urlconf: str | None = None) -> list[Route]:
    def walk(patterns, prefix: str, regex: bool):
        for entry in patterns:
            is_regex = regex or not isinstance(entry.pattern, RoutePattern)
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route, is_regex)
            elif isinstance(entry, URLPattern):
                yield Route(route, entry.callback, is_regex)

    return list(walk(get_resolver(urlconf).url_patterns, "", False))


def dummy_values(route: Route, **known: str) -> dict[str, str]:
    return {name: known.get(name, DUMMY.get(conv, "x")) for name, conv in route.params}


def first_answer(client, url: str, **kwargs):
    """The response to the first method the route allows (GET, then POST, PUT, PATCH, DELETE)."""
    response = None
    for method in METHODS:
        response = getattr(client, method)(url, **kwargs)
        if response.status_code != 405:
            return response
    return response


def team_owned_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TeamOwned)]


def lookup_values(team, field_name: str, limit: int = 50) -> list[str]:
    """Values of `field_name` (pk for "pk"/"id") over every team-owned row of `team`, taken in
    turn from each model, so that every model's rows are among the first values whatever the
    number of models or the ids the database handed out."""
    columns: list[list[str]] = []
    for model in team_owned_models():
        name = "pk" if field_name in ("pk", "id") else field_name
        if name != "pk" and not any(f.name == name for f in model._meta.concrete_fields):
            continue
        rows = model.objects.for_team(team).values_list(name, flat=True)[:limit]
        columns.append([str(v) for v in rows if v not in (None, "")])
    in_turn = [value for row in itertools.zip_longest(*columns) for value in row if value]
    return list(dict.fromkeys(in_turn))[:limit]


def candidate_kwargs(route: Route, team, cap: int = 200) -> list[dict[str, str]]:
    names = [name for name, _ in route.params]
    choices = [lookup_values(team, name) for name in names]
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.islice(itertools.product(*choices), cap)
    ]


def fingerprints(team, other) -> set[str]:
    """Strings that identify `team`'s rows and appear nowhere in `other`'s."""

    def strings(t) -> set[str]:
        found: set[str] = set()
        for model in team_owned_models():
            text_fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField) and not f.choices
            ]
            for row in model.objects.for_team(t).values_list(*text_fields) if text_fields else []:
                found.update(v for v in row if isinstance(v, str) and len(v) >= 6)
        return found

    return strings(team) - strings(other)
