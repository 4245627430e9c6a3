from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from teams.models import ApiToken


@pytest.mark.browser
def test_admin_creates_an_api_token_and_sees_it_only_once(page, log_in, user, team):
    log_in(user)
    expect(page).to_have_title(re.compile("Dashboard"))

    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_title("Members · Acme settings · Crossover")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("checkout service")
    page.get_by_label("usage:write").check()
    page.get_by_role("button", name="Create token").click()

    shown = page.get_by_test_id("show-once-value")
    expect(shown).to_be_visible()
    raw = shown.inner_text().strip()
    token = ApiToken.objects.get(name="checkout service")
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    expect(page.get_by_role("cell", name=f"{token.prefix}…")).to_be_visible()

    page.reload()
    expect(page.get_by_test_id("show-once-value")).to_have_count(0)
    assert raw not in page.content()
    expect(page.get_by_role("row", name=re.compile("checkout service"))).to_contain_text("active")


@pytest.mark.browser
def test_api_docs_render_under_the_content_security_policy(page):
    page.goto("/api/docs/")
    expect(page.get_by_text("Crossover API").first).to_be_visible()
    expect(page.locator(".opblock-summary-path[data-path='/api/v1/me']")).to_have_count(1)
