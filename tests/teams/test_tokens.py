from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command

from teams.models import ApiToken


@pytest.mark.django_db
def test_token_is_stored_only_as_prefix_and_sha256(team, token_factory):
    token, raw = token_factory(team, "decisions:read")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored.prefix)
    assert raw not in {
        str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()
    }


@pytest.mark.django_db
def test_create_api_token_command_prints_a_working_token_once(team, capsys):
    call_command("create_api_token", "--team", "acme", "--name", "ci", "--scope", "usage:write")
    raw = capsys.readouterr().out.strip()
    assert ApiToken.objects.get(name="ci").token_hash == hashlib.sha256(raw.encode()).hexdigest()
