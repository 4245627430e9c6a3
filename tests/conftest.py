"""Shared fixtures: users, teams with roles and API clients with tokens. Infrastructure (a local
HTTP receiver, a real Celery worker, a dead broker, required services) lives in tests/plugins/."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from prompts import services as prompt_services
from prompts.content import Content
from teams.models import Membership, Role
from teams.services import api_token_create, team_create
from tests.factories import UserFactory

pytest_plugins = [
    "tests.plugins.services",
    "tests.plugins.http_receiver",
    "tests.plugins.celery_worker",
]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # A deliberately slow hasher protects real passwords; tests only need a correct one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def team(db, user):
    return team_create(slug="acme", name="Acme", admin=user)


@pytest.fixture
def other_team(db):
    return team_create(slug="globex", name="Globex", admin=UserFactory())


@pytest.fixture
def member_factory(db):
    def make(team, role=Role.VIEWER, **kwargs):
        member = UserFactory(**kwargs)
        Membership.objects.create(team=team, user=member, role=role)
        return member

    return make


@pytest.fixture
def admin_client(client, user, team):
    client.force_login(user)
    return client


@pytest.fixture
def token_factory(db):
    def make(team, *scopes, name="test token"):
        token, raw = api_token_create(team=team, name=name, scopes=list(scopes))
        return token, raw

    return make


@pytest.fixture
def api_client_factory(token_factory):
    """An APIClient authenticated with a fresh token of `team` holding `scopes`."""

    def make(team, *scopes):
        _, raw = token_factory(team, *scopes)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return api

    return make


@pytest.fixture
def make_prompt(user):
    """`make_prompt(team, "slug", content, content, …, labels={"production": 2})`."""

    def make(team, slug, *contents: Content, labels=None, protected=(), **fields):
        template = prompt_services.prompt_template_create(
            team=team,
            slug=slug,
            name=fields.pop("name", slug.title()),
            protected_labels=list(protected),
            actor=user,
            **fields,
        )
        for i, content in enumerate(contents, start=1):
            prompt_services.prompt_version_create(
                template=template, content=content, commit_message=f"v{i}", author=user
            )
        for label, number in (labels or {}).items():
            prompt_services.prompt_label_move(
                template=template, label=label, number=number, user=user, is_admin=True
            )
        return template

    return make
