"""Prompt registry fixtures (`make_prompt` is in tests/conftest.py: other apps link prompts)."""

from __future__ import annotations

import pytest


@pytest.fixture
def api(api_client_factory, team):
    return api_client_factory(team, "prompts:read", "prompts:write")


@pytest.fixture
def reader(api_client_factory, team):
    return api_client_factory(team, "prompts:read")
