from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from evaluations.models import DatasetItem, Provider
from evaluations.services.providers import provider_create
from tests.evaluations.conftest import demo_llm_server  # noqa: F401


@pytest.mark.browser
def test_a_provider_is_tested_in_place(logged_in_page, team, demo_llm_server, settings):  # noqa: F811
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    provider_create(team=team, name="Local demo", base_url=demo_llm_server)
    page = logged_in_page
    page.get_by_role("link", name="Providers").click()
    expect(page).to_have_title("Providers · Acme · Crossover")
    page.get_by_role("button", name="Test the connection to Local demo").click()
    row = page.get_by_role("row", name=re.compile("Local demo"))
    expect(row).to_contain_text("demo-fine-tuned, demo-hybrid, demo-prompted")
    expect(row).to_contain_text("simulated")
    assert Provider.objects.get().is_simulated


@pytest.mark.browser
def test_a_dataset_is_created_imported_checked_and_split(logged_in_page, team):
    page = logged_in_page
    page.get_by_role("link", name="Datasets").click()
    page.get_by_role("button", name="New dataset").click()
    page.get_by_label("Name").fill("Tickets")
    page.get_by_label("Task kind").select_option("classification")
    page.get_by_role("button", name="Create dataset").click()
    expect(page).to_have_title("Import items into Tickets · Acme · Crossover")

    good = [{"input": {"ticket": f"ticket {n}"}, "expected": "billing"} for n in range(9)]
    leaking = [
        {"input": {"ticket": "Charged twice!"}, "expected": "billing", "split": "train"},
        {"input": {"ticket": "charged TWICE"}, "expected": "billing", "split": "test"},
    ]
    lines = [json.dumps(item) for item in good + leaking]
    page.get_by_label("Or paste items").fill("\n".join([*lines, '{"input": {}}']))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported: 1 problem")
    assert not DatasetItem.objects.exists()

    page.get_by_label("Or paste items").fill("\n".join(lines))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("11 items imported.")).to_be_visible()
    expect(
        page.get_by_text(re.compile("Leakage: 1 text appears in more than one split"))
    ).to_be_visible()

    page.get_by_text("Split the dataset by ratio").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Split", exact=True).click()
    expect(page.get_by_text(re.compile(r"Split with seed 0: \d+ train"))).to_be_visible()
    expect(page.get_by_text("No leakage: no text appears in more than one split.")).to_be_visible()

    expect(page.locator("#dataset-items caption")).to_have_text("11 items")
    page.get_by_label("Split", exact=True).select_option("test")
    expect(page).to_have_url(re.compile(r"split=test"))
    tests = DatasetItem.objects.filter(split="test").count()
    expect(page.locator("#dataset-items caption")).to_have_text(f"{tests} item{'s' * (tests != 1)}")
