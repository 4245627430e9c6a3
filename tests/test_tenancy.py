"""Isolation sweeps (SPEC §9): every team route answers 404 to outsiders, found by walking the
URL conf, so that routes added later are covered automatically."""

from __future__ import annotations

from importlib import import_module

import pytest
from rest_framework.test import APIClient

from decisions.services import exports as decision_exports
from teams import services
from teams.api.views import StatelessAPIView, TeamAPIView
from teams.management.commands.seed_demo import DEMO_APPS
from teams.models import Role, Scope
from tests.tenancy import (
    Route,
    all_routes,
    candidate_kwargs,
    dummy_values,
    fingerprints,
    first_answer,
)

pytestmark = pytest.mark.django_db


def team_routes(urlconf=None) -> list[Route]:
    return [r for r in all_routes(urlconf) if "team_slug" in dict(r.params)]


def api_routes(urlconf=None) -> list[Route]:
    return [r for r in all_routes(urlconf) if r.route.startswith("api/v1/")]


def browser_leaks(client, team, urlconf=None) -> list[str]:
    leaks = []
    for route in team_routes(urlconf):
        url = route.url(dummy_values(route, team_slug=team.slug))
        response = first_answer(client, url)
        if response.status_code != 404:
            leaks.append(f"{route.route} → {response.status_code} for a non-member")
    return leaks


@pytest.fixture
def populated_team(team, user, settings):
    """`team` (acme) with every app's demo data plus tokens and webhook deliveries."""
    for app in DEMO_APPS:
        try:
            module = import_module(f"{app}.demo")
        except ModuleNotFoundError:
            continue
        module.seed(team, user)
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    services.api_token_create(team=team, name="acme-pusher-token", scopes=[Scope.USAGE_WRITE])
    services.webhook_create(team=team, url="http://127.0.0.1:9/acme-hook", events=["flag.raised"])
    services.webhook_emit(team=team, event="flag.raised", payload={"secret": "acme-payload"})
    export = decision_exports.decision_export_start(team=team, user=user)
    decision_exports.decision_export_build(export_id=export.pk)
    return team


def all_scopes_client(team) -> APIClient:
    _, raw = services.api_token_create(team=team, name="sweeper", scopes=list(Scope.values))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def api_leaks(populated, outsider, urlconf=None) -> list[str]:
    """Requests every /api/v1/ route with a token of `outsider` (a team with no data)."""
    owner_api, outsider_api = all_scopes_client(populated), all_scopes_client(outsider)
    marks = fingerprints(populated, outsider)
    problems = []
    for route in api_routes(urlconf):
        combos = candidate_kwargs(route, populated) if route.params else [{}]
        if not combos:
            problems.append(f"{route.route}: no object of the team matches its URL kwargs")
        for kwargs in combos:
            url = route.url(kwargs)
            response = first_answer(outsider_api, url, format="json")
            leaked = sorted(m for m in marks if m in response.content.decode(errors="replace"))
            if response.status_code >= 500:
                problems.append(f"{url} → {response.status_code}")
            elif leaked:
                problems.append(f"{url} → {response.status_code} shows {leaked[:3]}")
            elif route.params and response.status_code != 404:
                problems.append(f"{url} → {response.status_code}, expected 404")
            # A route that finds the owner's object proves the sweep reached a real row.
            if route.params and first_answer(owner_api, url, format="json").status_code != 404:
                break
        else:
            if route.params and combos:
                problems.append(f"{route.route}: the owner's token found none of its objects")
    return problems


# Browser pages -----------------------------------------------------------------------------------


def test_every_team_page_is_404_for_a_logged_in_non_member(
    client, team, other_team, member_factory
):
    client.force_login(member_factory(other_team, Role.ADMIN))
    routes = team_routes()
    assert len(routes) >= 15  # the sweep really walked the URL conf
    assert browser_leaks(client, team) == []


def test_team_pages_are_reachable_by_a_member(admin_client, team):
    # The control for the sweep above: the same URLs with no other kwargs answer a member.
    for route in team_routes():
        if list(dict(route.params)) == ["team_slug"]:
            response = first_answer(admin_client, route.url({"team_slug": team.slug}))
            assert response.status_code not in (404, 500), route.route


def test_team_routes_use_path_converters(team):
    assert [r.route for r in all_routes() if r.is_regex and "team_slug" in r.route] == []


def test_anonymous_visitors_are_sent_to_login(client, team):
    for route in team_routes():
        response = first_answer(client, route.url(dummy_values(route, team_slug=team.slug)))
        assert response.status_code == 302 and response.url.startswith("/login/"), route.route


@pytest.mark.urls("tests.tenancy_test_urls")
def test_browser_sweep_catches_a_page_without_team_view(client, team, other_team, member_factory):
    client.force_login(member_factory(other_team, Role.ADMIN))
    assert browser_leaks(client, team, "tests.tenancy_test_urls") == [
        "t/<slug:team_slug>/unguarded/ → 200 for a non-member"
    ]


# API ---------------------------------------------------------------------------------------------


def test_every_api_view_is_team_scoped_or_declared_stateless():
    # A stateless view (e.g. the ROI calculator) reads and stores no team data at all.
    offenders = [
        r.route
        for r in api_routes()
        if not issubclass(getattr(r.callback, "view_class", object), TeamAPIView | StatelessAPIView)
    ]
    assert offenders == []


def test_api_sweep_with_another_teams_token_finds_nothing_of_ours(populated_team, other_team):
    assert len(api_routes()) >= 1
    assert api_leaks(populated_team, other_team) == []


@pytest.mark.urls("tests.tenancy_test_urls")
def test_api_sweep_catches_an_unscoped_lookup(populated_team, other_team):
    problems = api_leaks(populated_team, other_team, "tests.tenancy_test_urls")
    assert problems and all("leaky-tokens" in p for p in problems)
    assert any("acme-pusher-token" in p or "expected 404" in p for p in problems)
