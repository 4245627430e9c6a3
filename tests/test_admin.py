"""Django admin: every registered model's list and detail pages open for a superuser, with data."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.contrib import admin
from django.urls import reverse

from teams.management.commands.seed_demo import DEMO_APPS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, team, user):
    for app in DEMO_APPS:
        try:
            import_module(f"{app}.demo").seed(team, user)
        except ModuleNotFoundError:
            continue
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_every_registered_model_lists_and_opens_in_the_admin(superuser_client):
    opened = []
    for model in admin.site._registry:
        meta = model._meta
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        assert superuser_client.get(reverse(f"{prefix}_changelist")).status_code == 200, meta.label
        row = model._default_manager.first()
        if row is not None:
            page = reverse(f"{prefix}_change", args=[row.pk])
            assert superuser_client.get(page).status_code == 200, meta.label
            opened.append(meta.label)
    assert {"workloads.UsageRecord", "workloads.Assessment", "decisions.DecisionRecord"} <= set(
        opened
    )


def test_append_only_rows_cannot_be_added_or_changed_in_the_admin(superuser_client):
    for label in ("workloads_usagerecord", "workloads_assessment", "decisions_decisionrevision"):
        assert superuser_client.get(reverse(f"admin:{label}_add")).status_code == 403
