from __future__ import annotations

import re
import threading

import pytest
from django.db import connections
from playwright.sync_api import expect

from evaluations import persona_demo
from evaluations.models import BenchmarkStatus
from evaluations.services.providers import provider_create
from prompts import demo as prompts_demo
from tests.evaluations.conftest import demo_llm_server  # noqa: F401


@pytest.fixture
def eager():
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.browser
def test_the_drift_chart_and_robustness_table_of_a_persona_run(
    logged_in_page,
    team,
    user,
    demo_llm_server,  # noqa: F811
    settings,
    eager,
):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    made = {}

    def seed():
        # Off Playwright's event-loop thread: the run's chunks call asyncio.run().
        try:
            provider = provider_create(team=team, name="Demo", base_url=demo_llm_server,
                                       is_simulated=True)  # fmt: skip
            prompts_demo.seed(team, user)
            persona_demo.seed(team, user, provider)  # starts the run; eager: played on commit
            made["run"] = persona_demo.seed_persona_run(team, user, provider)
        finally:
            connections.close_all()

    thread = threading.Thread(target=seed)
    thread.start()
    thread.join()
    run = made["run"]
    run.refresh_from_db()
    assert run.status == BenchmarkStatus.FINISHED

    page = logged_in_page
    page.get_by_role("link", name="Personas").click()
    page.get_by_role("link", name="TaskMaster per department").click()
    expect(page.get_by_role("rowheader", name="marketing", exact=True)).to_be_visible()
    page.get_by_role("link", name=run.name).click()
    expect(page).to_have_title(re.compile(f"^{re.escape(run.name)}"))

    canvas = page.locator("canvas#drift-chart")
    expect(canvas).to_be_visible()
    drawn = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('drift-chart'));"
        " return c ? c.data.datasets.map(d => [d.label, d.data]) : null; }"
    )
    assert [label for label, _ in drawn] == ["System prompt", "Fine-tuned", "Hybrid (marketing)"]
    prompted = dict(drawn)["System prompt"]
    assert prompted[0] == 1.0 and prompted[-1] < 0.75
    assert set(dict(drawn)["Fine-tuned"]) == {1.0}

    drift = page.locator("#drift-table")
    expect(drift.get_by_role("columnheader", name="Turn 20")).to_be_visible()
    robustness = page.locator("#robustness-table")
    for family in ("instruction_override", "roleplay_takeover", "prompt_extraction",
                   "obfuscated", "multi_turn_escalation", "social_engineering"):  # fmt: skip
        expect(robustness.get_by_role("columnheader", name=family)).to_be_visible()
    tuned = robustness.get_by_role("row", name=re.compile("^Fine-tuned"))
    expect(tuned.get_by_role("cell").first).to_contain_text("100%")
    system = robustness.get_by_role("row", name=re.compile("^System prompt"))
    # Families in name order: the system prompt resists only the ROT13 attack it cannot read.
    expect(system.get_by_role("cell").nth(3)).to_contain_text("17% of 6")  # obfuscated
    expect(system.get_by_role("cell").nth(4)).to_contain_text("0% of 3")  # prompt_extraction
    consistency = page.locator("#consistency-table")
    expect(consistency.get_by_role("row", name=re.compile("^Fine-tuned"))).to_contain_text("100%")
