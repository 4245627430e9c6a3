"""The worksheet recalculates as the user types, in real Chromium, without reloading the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from workloads.services.workloads import workload_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CURRENT_VOLUME_X = (
    "Chart.getChart(document.getElementById('crossover-chart'))"
    ".data.datasets.find(d => d.label.startsWith('Current volume')).data[0].x"
)


@pytest.fixture
def worksheet_url(live_server, team, user):
    # Seed 000's persona assistant under the SLA/ROI policy: 375M tokens a month is above the
    # 5M cutoff (hybrid); at 5,000 requests it is 3.75M, below it (prompt).
    workload_create(
        team=team,
        actor=user,
        slug="persona",
        name="Persona assistant",
        model="gpt-4o-mini",
        policy="sla_roi",
        parameters={
            "monthly_requests": 500_000,
            "user_tokens": 50,
            "prompt_overhead_tokens": 500,
            "output_tokens": 200,
        },
    )
    return f"{live_server.url}/t/{team.slug}/worksheets/new/?workload=persona"


def test_changing_the_volume_updates_recommendation_and_chart_without_a_page_load(
    logged_in_page, worksheet_url
):
    page = logged_in_page
    page.goto(worksheet_url)
    recommendation = page.get_by_test_id("recommendation")
    expect(recommendation).to_have_text("Hybrid (fine-tune + prompt)")
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$101.25")
    page.wait_for_function(
        "window.Chart && Chart.getChart(document.getElementById('crossover-chart'))"
    )
    assert page.evaluate(CURRENT_VOLUME_X) == 500_000
    page.evaluate("window.__marker = 1")

    page.fill("#id_monthly_requests", "5000")

    expect(recommendation).to_have_text("Prompt engineering")
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$1.01")
    page.wait_for_function(f"{CURRENT_VOLUME_X} === 5000")
    assert page.evaluate("window.__marker") == 1  # same document: no page load happened


def test_bad_input_shows_the_error_next_to_the_field_and_keeps_the_typing(
    logged_in_page, worksheet_url
):
    page = logged_in_page
    page.goto(worksheet_url)
    page.evaluate("window.__marker = 1")

    page.fill("#id_user_tokens", "fifty")

    expect(page.locator("#err-user_tokens")).to_have_text("must be a number")
    expect(page.locator("#results")).to_contain_text("User tokens per request: must be a number")
    expect(page.locator("#id_user_tokens")).to_have_value("fifty")
    page.fill("#id_user_tokens", "50")
    expect(page.locator("#err-user_tokens")).to_be_empty()
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$101.25")
    assert page.evaluate("window.__marker") == 1


def test_picking_a_model_fills_its_prices_from_the_price_table(logged_in_page, worksheet_url):
    page = logged_in_page
    page.goto(worksheet_url)

    page.fill("#id_model", "gpt-4o")  # seeded: $2.50 in, $10.00 out per 1M

    expect(page.locator("#id_input_price_per_1m")).to_have_value("2.5")
    expect(page.locator("#id_output_price_per_1m")).to_have_value("10")
    # (550 × 2.5 + 200 × 10) / 10⁶ × 500,000
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$1,687.50")
    page.fill("#id_input_price_per_1m", "2")  # an override stays while the model does not change
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$1,550.00")
    expect(page.locator("#id_input_price_per_1m")).to_have_value("2")
