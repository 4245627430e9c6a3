from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from teams.models import ApiToken, Role, Team

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
SCOPED = "/api/v1/test-scoped"


def bearer(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


# Storage and the management command -------------------------------------------------------------


def test_token_is_stored_only_as_prefix_and_sha256(team, token_factory):
    token, raw = token_factory(team, "decisions:read")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored.prefix) and len(stored.prefix) < len(raw) // 2
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(raw in str(value) for value in row.values())


def test_create_api_token_command_prints_a_working_token_once(team, capsys):
    call_command(
        "create_api_token", "--team", "acme", "--name", "ci",
        "--scope", "usage:write", "--scope", "decisions:read",
    )  # fmt: skip
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(name="ci")
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.scopes == ["decisions:read", "usage:write"]
    assert bearer(raw).get(ME).json()["token"]["scopes"] == ["decisions:read", "usage:write"]


def test_create_api_token_with_unknown_scope_fails_and_creates_nothing(team):
    with pytest.raises(CommandError, match="Unknown scope\\(s\\): usage:delete"):
        call_command("create_api_token", "--team", "acme", "--name", "x", "--scope", "usage:delete")
    assert not ApiToken.objects.exists()


def test_create_api_token_for_unknown_team_fails(db):
    with pytest.raises(CommandError, match="No team with slug 'nope'"):
        call_command("create_api_token", "--team", "nope", "--name", "x", "--scope", "usage:write")


def test_create_team_command_makes_the_user_admin(user, capsys):
    call_command("create_team", "initech", "--admin", user.username)
    team = Team.objects.get(slug="initech")
    assert team.memberships.get().role == Role.ADMIN
    assert "Created team 'initech'" in capsys.readouterr().out


def test_create_team_with_duplicate_slug_fails_and_changes_nothing(team):
    with pytest.raises(CommandError, match="slug: A team with slug 'acme' already exists"):
        call_command("create_team", "acme")
    assert Team.objects.count() == 1


@pytest.mark.parametrize("slug", ["Has Spaces", "a/b", "ünï", ""])
def test_create_team_refuses_a_bad_slug(db, slug):
    with pytest.raises(CommandError, match="slug: Use lowercase letters"):
        call_command("create_team", slug)
    assert not Team.objects.exists()


def test_create_team_with_unknown_admin_fails(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_team", "initech", "--admin", "ghost")
    assert not Team.objects.exists()


# Authentication ---------------------------------------------------------------------------------


def test_valid_token_acts_for_its_team(team, token_factory):
    token, raw = token_factory(team, "usage:write", name="pusher")
    body = bearer(raw).get(ME).json()
    assert body == {
        "team": "acme",
        "token": {"name": "pusher", "prefix": token.prefix, "scopes": ["usage:write"]},
        "user": None,
        "role": None,
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer", "Malformed Authorization header"),
        ("Bearer a b", "Malformed Authorization header"),
        ("Bearer not-a-crossover-token-at-all", "Malformed API token"),
        ("Bearer cx_short", "Malformed API token"),
        ("Bearer cx_" + "A" * 43, "Invalid API token"),
    ],
)
def test_malformed_or_unknown_token_is_401_json(team, header, message):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    body = response.json()
    assert body["detail"].startswith(message)
    assert body["errors"] == [{"field": None, "message": body["detail"]}]


def test_missing_credentials_is_401(db):
    response = APIClient().get(ME)
    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."


def test_revoked_token_stops_working_immediately(team, token_factory):
    token, raw = token_factory(team, "usage:write")
    api = bearer(raw)
    assert api.get(ME).status_code == 200
    from teams.services import api_token_revoke

    api_token_revoke(token=token)
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["detail"] == "This API token has been revoked."


def test_last_used_at_is_recorded_at_most_once_a_minute(team, token_factory):
    token, raw = token_factory(team, "usage:write")
    assert token.last_used_at is None
    bearer(raw).get(ME)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    bearer(raw).get(ME)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    bearer(raw).get(ME)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


# Scopes, roles, throttling ----------------------------------------------------------------------


@pytest.mark.urls("tests.teams.api_test_urls")
def test_token_without_the_scope_gets_403(team, api_client_factory):
    response = api_client_factory(team, "usage:write").get(SCOPED)
    assert response.status_code == 403
    assert response.json()["detail"] == "This token lacks the 'decisions:read' scope."


@pytest.mark.urls("tests.teams.api_test_urls")
def test_read_scope_does_not_allow_writes(team, api_client_factory):
    api = api_client_factory(team, "decisions:read")
    assert api.get(SCOPED).status_code == 200
    response = api.post(SCOPED, {}, format="json")
    assert response.status_code == 403
    assert "decisions:write" in response.json()["detail"]
    assert api_client_factory(team, "decisions:write").post(SCOPED, {}).status_code == 201


@pytest.mark.urls("tests.teams.api_test_urls")
def test_team_api_view_queryset_is_scoped_to_the_callers_team(team, other_team, token_factory):
    token_factory(other_team, "usage:write")
    token_factory(other_team, "usage:write")
    _, raw = token_factory(team, "decisions:read")
    assert bearer(raw).get(SCOPED).json() == {"team": "acme", "tokens": 1}


@pytest.mark.urls("tests.teams.api_test_urls")
def test_session_viewer_reads_but_cannot_write(client, team, member_factory):
    client.force_login(member_factory(team, Role.VIEWER))
    assert client.get(SCOPED).json()["team"] == "acme"
    response = client.post(SCOPED, {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Viewers cannot write."


@pytest.mark.urls("tests.teams.api_test_urls")
def test_session_editor_can_write(client, team, member_factory):
    api = APIClient(enforce_csrf_checks=False)
    api.force_login(member_factory(team, Role.EDITOR))
    assert api.post(SCOPED, {}, format="json").status_code == 201


def test_session_user_of_another_team_gets_404(client, team, other_team, member_factory):
    client.force_login(member_factory(other_team, Role.ADMIN))
    response = client.get(ME, {"team": "acme"})
    assert response.status_code == 404
    assert response.json()["detail"] == "No such team."


def test_session_user_in_several_teams_must_choose(client, team, other_team, user):
    from teams.models import Membership

    Membership.objects.create(team=other_team, user=user, role=Role.VIEWER)
    client.force_login(user)
    response = client.get(ME)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "team"
    assert client.get(ME, {"team": "globex"}).json()["role"] == "viewer"


def test_each_token_is_throttled_separately(team, token_factory, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "2/min"},
    }
    _, raw = token_factory(team, "usage:write")
    _, other = token_factory(team, "usage:write")
    api = bearer(raw)
    assert [api.get(ME).status_code for _ in range(3)] == [200, 200, 429]
    throttled = api.get(ME)
    assert throttled.status_code == 429
    assert "throttled" in throttled.json()["detail"].lower()
    assert int(throttled["Retry-After"]) > 0
    assert bearer(other).get(ME).status_code == 200


# The tokens page --------------------------------------------------------------------------------


def test_token_created_in_the_ui_is_shown_once_and_works(admin_client, team):
    url = reverse("teams:tokens", args=[team.slug])
    response = admin_client.post(
        url, {"name": "checkout", "scopes": ["usage:write", "prompts:read"]}, follow=True
    )
    html = response.content.decode()
    token = ApiToken.objects.get(name="checkout")
    raw = html.split('data-testid="show-once-value">')[1].split("<")[0]
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in admin_client.get(url).content.decode()
    assert bearer(raw).get(ME).status_code == 200


def test_token_form_errors_keep_input_and_create_nothing(admin_client, team):
    url = reverse("teams:tokens", args=[team.slug])
    response = admin_client.post(url, {"name": "half", "scopes": ["usage:everything"]})
    assert response.status_code == 400
    assert "usage:everything" in response.context["form"].errors["scopes"][0]
    assert 'value="half"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_in_the_ui_marks_the_token_revoked(admin_client, team, token_factory):
    token, raw = token_factory(team, "usage:write")
    admin_client.post(reverse("teams:token_revoke", args=[team.slug, token.pk]))
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert bearer(raw).get(ME).status_code == 401


def test_editors_cannot_manage_tokens(client, team, member_factory):
    client.force_login(member_factory(team, Role.EDITOR))
    url = reverse("teams:tokens", args=[team.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x", "scopes": ["usage:write"]}).status_code == 403
    assert not ApiToken.objects.exists()


def test_token_list_has_no_n_plus_one(admin_client, team, token_factory, django_assert_num_queries):
    for n in range(4):
        token_factory(team, "usage:write", name=f"t{n}")
    # session, user, membership, tokens with their creators, team switcher
    with django_assert_num_queries(5):
        assert admin_client.get(reverse("teams:tokens", args=[team.slug])).status_code == 200
