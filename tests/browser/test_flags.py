"""A newcomer sees the demo's switch flag on the dashboard and starts a decision from it."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from workloads.models import SwitchFlag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_flag_on_the_dashboard_leads_to_a_drafted_decision(live_server, page: Page, settings):
    settings.DEBUG = True  # seed_demo creates the demo/demo login only in development
    call_command("seed_demo")
    flag = SwitchFlag.objects.get(workload__slug="ticket-classifier", status="open")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()

    expect(page).to_have_title(re.compile("Dashboard"))
    row = page.get_by_role("row", name=re.compile("Support ticket classifier"))
    expect(row).to_contain_text(f"prompt → {flag.to_approach} · open")
    row.get_by_role("link", name=re.compile("prompt →")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Support ticket classifier")
    expect(page.get_by_text("format error rate", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Start a decision").click()

    expect(page.get_by_text("drafted from this flag")).to_be_visible()
    flag.refresh_from_db()
    decision = flag.decision
    assert flag.status == "acknowledged" and decision.status == "draft"
    assert decision.workload.slug == "ticket-classifier"
    assert decision.approach == flag.to_approach
    assert [link.assessment_id for link in decision.evidence_links.all()] == [flag.assessment_id]
    # The draft opens, ready to be completed, with the assessment as its evidence.
    expect(page).to_have_url(re.compile(f"/decisions/{decision.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(decision.title)
    expect(page.get_by_text("Support ticket classifier assessment of").first).to_be_visible()
