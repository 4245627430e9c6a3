"""The prompt registry in real Chromium: two versions, their diff, production rolled back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from prompts.models import PromptLabel, PromptVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def save_version(page, system_text: str, message: str) -> None:
    page.get_by_label("Message 1 content").fill(system_text)
    page.get_by_label("Message 2 content").fill("Ticket: {{ ticket }}")
    # The live panel (htmx) lists the variable as it is typed.
    expect(page.locator("#analysis").get_by_text("ticket", exact=True)).to_be_visible()
    page.get_by_label("Commit message").fill(message)
    page.get_by_role("button", name="Save version").click()


def move_production(page, number: int) -> None:
    page.get_by_label("Version", exact=True).select_option(f"{number}")
    page.get_by_role("button", name="Move label").click()


def test_two_versions_a_diff_and_a_rollback_of_production(logged_in_page, team):
    page = logged_in_page
    page.goto(f"/t/{team.slug}/prompts/")
    expect(page).to_have_title(re.compile("^Prompts · Acme"))
    page.get_by_role("button", name="New prompt").click()
    page.get_by_label("Slug").fill("ticket-triage")
    page.get_by_label("Name").fill("Ticket triage")
    page.get_by_role("button", name="Create prompt").click()

    expect(page).to_have_title(re.compile("^New version of Ticket triage"))
    save_version(page, "You classify support tickets.", "First cut")
    expect(page.get_by_text("Saved as version 1.")).to_be_visible()
    page.get_by_role("link", name="Ticket triage").first.click()
    move_production(page, 1)
    expect(page.get_by_text("production moved to version 1.")).to_be_visible()

    page.get_by_role("button", name="New version").click()
    expect(page.get_by_text("Starting from version 1.")).to_be_visible()
    save_version(page, "You classify support tickets.\nAnswer with JSON only.", "Ask for JSON")
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    page.get_by_role("button", name="Changes from v1").click()
    expect(page).to_have_title(re.compile("^Ticket triage: v1 → v2"))
    added = page.locator("tr.diff-insert td.new", has_text="Answer with JSON only.")
    expect(added).to_be_visible()

    page.get_by_role("link", name="Ticket triage").click()
    move_production(page, 2)
    expect(page.get_by_text("production moved from version 1 to version 2.")).to_be_visible()
    # Roll back with the keyboard alone: focus the button and press Enter.
    page.get_by_role("button", name="Roll back production to v1").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("production moved from version 2 to version 1.")).to_be_visible()

    assert PromptVersion.objects.filter(template__slug="ticket-triage").count() == 2
    assert PromptLabel.objects.get(label="production").version.number == 1
    page.get_by_text("3 moves").click()
    expect(page.get_by_text("v2 → v1 — “Rolled back from v2”")).to_be_visible()
