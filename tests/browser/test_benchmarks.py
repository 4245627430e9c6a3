"""A benchmark run started from the browser, executed by a real Celery worker against the demo
endpoint, watched until its progress bar becomes the comparison table."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from evaluations.demo_llm import serve_in_thread
from evaluations.models import BenchmarkResult, BenchmarkRun
from tests.evaluations.benchmark_helpers import scenario
from tests.evaluations.conftest import TEST_CONFIG


@pytest.fixture
def slow_demo():
    """A demo endpoint slow enough (40 ms a call) for the progress bar to be seen."""
    with serve_in_thread(replace(TEST_CONFIG, latency_ms=40.0, jitter_ms=5.0)) as server:
        yield server.base_url


@pytest.fixture
def live_worker_env():
    return {"ALLOW_PRIVATE_NETWORK_TARGETS": "1"}


@pytest.mark.browser
def test_start_a_run_and_watch_it_finish(
    logged_in_page, team, user, slow_demo, live_worker, settings
):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    sc = scenario(team, user, slow_demo, items=40)
    page = logged_in_page
    page.get_by_role("link", name="Benchmarks").click()
    page.get_by_role("button", name="New benchmark run").click()
    page.get_by_label("Name").fill("Prompted vs fine-tuned")
    page.get_by_label("Split").select_option("test")
    page.get_by_label("Concurrency").fill("2")
    for i, (label, approach, model) in enumerate(
        [("prompted", "prompt", "demo-prompted"), ("fine-tuned", "fine-tune", "demo-fine-tuned")],
        start=1,
    ):
        page.get_by_label(f"Candidate {i} label").fill(label)
        page.get_by_label(f"Candidate {i} approach").select_option(approach)
        page.get_by_label(f"Candidate {i} model").fill(model)
        page.get_by_label(f"Candidate {i} prompt").select_option(f"{sc.prompt_slug}@1")
    page.get_by_role("button", name="Start run").click()

    expect(page).to_have_title(re.compile(r"Benchmark #\d+"))
    run = BenchmarkRun.objects.get()
    # While it runs: a progress bar that the page refreshes by itself.
    expect(page.get_by_test_id("run-progress")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("run-status")).to_have_text("Finished", timeout=60_000)
    table = page.get_by_test_id("comparison")
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader", name="fine-tuned")).to_be_visible()
    assert table.locator("td[data-best]").count() >= 1
    expect(page.locator("canvas#latency-distribution")).to_be_visible()
    run.refresh_from_db()
    assert run.done == run.total == 80 == BenchmarkResult.objects.filter(run=run).count()
    accuracy = run.summary["candidates"][1]["scores"]["accuracy"]
    expect(table.get_by_role("row", name=re.compile("^accuracy"))).to_contain_text(
        f"{accuracy['value']:.3f} ({accuracy['ci_low']:.3f}–{accuracy['ci_high']:.3f}, n=40)"
    )

    page.get_by_role("link", name="per item").click()
    items = page.get_by_test_id("items")
    expect(items.get_by_role("row")).to_have_count(21)  # a header and 20 items per page
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("items page 2 of 2")).to_be_visible()
