"""From a saved worksheet to an accepted decision, in real Chromium: the workload follows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from workloads import roi
from workloads.models import Workload
from workloads.services.workloads import workload_create
from workloads.services.worksheets import worksheet_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Seed 001's JSON classifier: p99 and format errors breach their SLAs and fine-tuning pays back
# within the horizon, so the SLA/ROI policy recommends fine-tuning.
INPUTS = {
    "monthly_requests": 2_000_000,
    "user_tokens": 300,
    "prompt_overhead_tokens": 1_800,
    "output_tokens": 60,
    "input_price_per_1m": 0.15,
    "output_price_per_1m": 0.60,
    "training_cost": 40,
    "dev_hours": 4,
    "latency_p99_ms": 1_200,
    "format_error_rate": 0.08,
}


@pytest.fixture
def worksheet(team, user):
    workload = workload_create(
        team=team,
        actor=user,
        slug="classifier",
        name="Ticket classifier",
        model="gpt-4o-mini",
    )
    inputs = roi.parse_inputs(INPUTS)
    assert roi.evaluate(inputs).recommendation == "fine-tune"
    return worksheet_create(
        team=team,
        workload=workload,
        inputs=inputs,
        justification="Format errors breach the SLA and fine-tuning pays back in weeks.",
        author=user,
    )


def test_decision_from_a_worksheet_is_proposed_accepted_and_switches_the_workload(
    logged_in_page, worksheet, team
):
    page = logged_in_page
    page.on("dialog", lambda dialog: dialog.accept())  # "Accepting sets … Accept?"
    page.goto(f"/t/{team.slug}/workloads/classifier/worksheets/{worksheet.version}/")
    expect(page.get_by_text("No decision cites this yet.")).to_be_visible()
    page.get_by_role("button", name="Create decision record").click()

    expect(page.get_by_text("drafted from the worksheet")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ADR-0001")
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_text("ADR-0001 is now proposed.")).to_be_visible()
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("ADR-0001 is now accepted.")).to_be_visible()

    assert Workload.objects.get(slug="classifier").current_approach == "fine-tune"
    page.goto(f"/t/{team.slug}/workloads/classifier/")
    expect(page.get_by_text("Fine-tuned model").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("ADR-0001")).first).to_be_visible()
    # The worksheet now shows the decision that cites it.
    page.goto(f"/t/{team.slug}/workloads/classifier/worksheets/{worksheet.version}/")
    expect(page.get_by_role("link", name=re.compile("ADR-0001"))).to_be_visible()
