from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from teams import services
from teams.models import Membership, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def members_url(team):
    return reverse("teams:members", args=[team.slug])


def test_admin_adds_an_existing_user_by_username_or_email(admin_client, team):
    UserFactory(username="ada", email="ada@lovelace.example")
    UserFactory(username="bob")
    admin_client.post(members_url(team), {"user": "ADA@lovelace.example", "role": "editor"})
    admin_client.post(members_url(team), {"user": "bob", "role": "viewer"})
    roles = dict(Membership.objects.filter(team=team).values_list("user__username", "role"))
    assert roles["ada"] == "editor" and roles["bob"] == "viewer"


@pytest.mark.parametrize(
    ("identifier", "message"),
    [("ghost", "No user with username or e-mail 'ghost'"), ("", "This field is required")],
)
def test_adding_an_unknown_user_shows_the_error_next_to_the_field(
    admin_client, team, identifier, message
):
    response = admin_client.post(members_url(team), {"user": identifier, "role": "viewer"})
    assert response.status_code == 400
    assert message in response.context["form"].errors["user"][0]
    assert Membership.objects.filter(team=team).count() == 1


def test_adding_a_member_twice_is_refused(team, user):
    with pytest.raises(ValidationError, match="already a member"):
        services.membership_add(team=team, identifier=user.username, role=Role.VIEWER)


def test_admin_changes_a_role(admin_client, team, member_factory):
    member = member_factory(team, Role.VIEWER)
    membership = Membership.objects.get(user=member)
    admin_client.post(
        reverse("teams:member_role", args=[team.slug, membership.pk]), {"role": "admin"}
    )
    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN


def test_the_last_admin_can_neither_be_demoted_nor_removed(admin_client, team, user):
    membership = Membership.objects.get(team=team, user=user)
    demote = admin_client.post(
        reverse("teams:member_role", args=[team.slug, membership.pk]),
        {"role": "viewer"},
        follow=True,
    )
    assert "at least one admin" in demote.content.decode()
    admin_client.post(reverse("teams:member_remove", args=[team.slug, membership.pk]))
    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN


def test_an_admin_can_leave_when_another_admin_remains(admin_client, team, user, member_factory):
    member_factory(team, Role.ADMIN)
    membership = Membership.objects.get(team=team, user=user)
    response = admin_client.post(reverse("teams:member_remove", args=[team.slug, membership.pk]))
    assert response.url == reverse("home")
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_membership_of_another_team_cannot_be_touched(admin_client, team, other_team):
    foreign = Membership.objects.get(team=other_team)
    response = admin_client.post(reverse("teams:member_remove", args=[team.slug, foreign.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_only_admins_see_the_settings(client, team, member_factory, role):
    client.force_login(member_factory(team, role))
    assert client.get(members_url(team)).status_code == 403
    assert client.post(members_url(team), {"user": "x", "role": "admin"}).status_code == 403


def test_viewer_can_read_team_pages_but_not_write(client, team, member_factory):
    client.force_login(member_factory(team, Role.VIEWER))
    dashboard = reverse("workloads:dashboard", args=[team.slug])
    assert client.get(dashboard).status_code == 200
    assert client.post(dashboard).status_code == 403


def test_member_list_has_no_n_plus_one(
    admin_client, team, member_factory, django_assert_num_queries
):
    for _ in range(5):
        member_factory(team, Role.VIEWER)
    # session, user, membership, members with their users, team switcher
    with django_assert_num_queries(5):
        assert admin_client.get(members_url(team)).status_code == 200


def test_team_switcher_lists_the_users_teams(admin_client, team, other_team, user):
    Membership.objects.create(team=other_team, user=user, role=Role.VIEWER)
    html = admin_client.get(members_url(team)).content.decode()
    assert reverse("workloads:dashboard", args=["globex"]) in html
    assert "Globex" in html


def test_login_and_logout(client, user, team):
    response = client.post(reverse("login"), {"username": user.username, "password": "pw-123456"})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("workloads:dashboard", args=[team.slug])
    client.post(reverse("logout"))
    assert client.get(reverse("home")).url == reverse("login")


def test_wrong_password_shows_an_error_and_keeps_the_username(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password" in html
    assert f'value="{user.username}"' in html


def test_user_without_a_team_is_told_how_to_get_one(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert "You are not in a team yet" in response.content.decode()
