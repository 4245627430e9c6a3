"""One story per workload, in Chromium: a newcomer follows the demo's switch flag from the
dashboard to the workload, the flag and the decision drafted from it, and every page says the
same thing — the approach it runs on, what the evidence recommends, its monthly requests and its
crossover volume — and the draft reads as written for people (no raw floats)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from workloads import formatting
from workloads.models import Approach, SwitchFlag, Workload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A machine number: four or more digits without separators, or three or more decimals (money
# below a dollar excepted); dates, times and decision numbers (ADR-0004) are taken out first.
DATES = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\+00:00)?)?|ADR-\d+"
)
RAW_NUMBER = re.compile(r"(?<![\d,.])\d{4,}(?![\d,])|(?<![$\d])\d+\.\d{3,}")


def raw_numbers(text: str) -> list[str]:
    return RAW_NUMBER.findall(DATES.sub("", text))


def test_raw_number_detector_finds_what_it_must():
    assert raw_numbers("crossover monthly requests: 2746300.6594612114") != []
    assert raw_numbers("monthly requests: 2289868") == ["2289868"]
    assert raw_numbers("ADR-0004: 2,746,301 requests at $0.000321 on 2026-12-02 01:34 UTC") == []


def test_dashboard_workload_flag_and_draft_tell_one_story(live_server, page: Page, settings):
    settings.DEBUG = True  # seed_demo creates the demo/demo login only in development
    call_command("seed_demo")
    workload = Workload.objects.get(slug="ticket-classifier")
    assessment = workload.assessments.first()  # the latest
    flag = SwitchFlag.objects.get(workload=workload, status="open")
    approach = Approach(workload.current_approach).label
    recommendation = Approach(assessment.recommendation).label
    requests = formatting.count(assessment.inputs["monthly_requests"])
    crossover = formatting.count(assessment.outputs["crossover_monthly_requests"])
    assert flag.to_approach == assessment.recommendation != workload.current_approach

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()

    # The dashboard.
    expect(page).to_have_title(re.compile("Dashboard"))
    row = page.locator("tr[data-workload='ticket-classifier']")
    expect(row.get_by_test_id("current-approach")).to_have_text(approach)
    expect(row.get_by_test_id("recommendation")).to_have_text(recommendation)
    expect(row.get_by_test_id("monthly-requests")).to_have_text(requests)
    expect(row.get_by_test_id("crossover")).to_have_text(crossover)
    expect(row.get_by_test_id("flag")).to_have_text(f"→ {recommendation} · open")

    # The workload list says the same.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Workloads").click()
    row = page.locator("tr[data-workload='ticket-classifier']")
    expect(row.get_by_test_id("current-approach")).to_have_text(approach)
    expect(row.get_by_test_id("recommendation")).to_have_text(recommendation)
    expect(row.get_by_test_id("monthly-requests")).to_have_text(requests)
    expect(row.get_by_test_id("crossover")).to_have_text(crossover)

    # The workload page leads with the same headline, planned figures marked as such.
    row.get_by_role("link", name="Support ticket classifier").click()
    headline = page.get_by_test_id("headline")
    expect(headline.get_by_test_id("current-approach")).to_have_text(approach)
    expect(headline.get_by_test_id("recommendation")).to_have_text(recommendation)
    expect(headline.get_by_test_id("monthly-requests")).to_have_text(requests)
    expect(headline.get_by_test_id("crossover")).to_have_text(f"{crossover} requests/month")
    expect(headline.get_by_test_id("basis")).to_contain_text("From observed usage")
    expect(page.get_by_test_id("planned-observed")).to_contain_text("3,000,000")  # planned
    expect(page.get_by_test_id("planned-recommendation")).to_contain_text("Fine-tuned model")
    for raw in ("sla_roi", "(sla_roi)", "True"):
        expect(page.locator("main")).not_to_contain_text(raw)

    # The flag.
    headline.get_by_role("link", name="Review the flag").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"switch from {approach.lower()} to {recommendation.lower()}?"
    )
    figures = page.get_by_test_id("figures")
    expect(figures.get_by_role("row", name=re.compile("^Requests per month"))).to_contain_text(
        requests
    )
    expect(figures.get_by_role("row", name=re.compile("^Crossover volume"))).to_contain_text(
        f"{crossover} requests/month"
    )

    # The decision drafted from it.
    page.get_by_role("button", name="Start a decision").click()
    expect(page.get_by_text("drafted from this flag")).to_be_visible()
    flag.refresh_from_db()
    decision = flag.decision
    assert decision.approach == assessment.recommendation
    main = page.locator("main")
    expect(main).to_contain_text(f"{recommendation} for Support ticket classifier")
    expect(main).to_contain_text(f"Requests per month: {requests}")
    expect(main).to_contain_text(f"Crossover volume: {crossover} requests/month")
    # Lists are lists, not run-on paragraphs.
    figure_item = re.compile(r"^(Requests per month|Crossover volume):")
    expect(main.locator("li").filter(has_text=figure_item)).to_have_count(2)
    assert raw_numbers(main.inner_text()) == []
    # The export carries the same text.
    exported = page.request.get(
        f"{live_server.url}/t/demo/decisions/{decision.number}/export.md"
    ).text()
    assert f"- Crossover volume: {crossover} requests/month" in exported
    assert raw_numbers(exported.split("---", 2)[2]) == []  # the body, after the front matter
