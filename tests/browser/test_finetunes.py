from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from evaluations.models import FineTuneJob, ModelPrice
from tests.evaluations.conftest import demo_llm_factory  # noqa: F401
from tests.evaluations.finetune_helpers import demo_provider, ticket_dataset, ticket_prompt
from tests.factories import WorkloadFactory


@pytest.fixture
def live_worker_env():
    return {"ALLOW_PRIVATE_NETWORK_TARGETS": "1", "FINETUNE_POLL_BASE_MS": "200",
            "FINETUNE_POLL_CAP_SECONDS": "1"}  # fmt: skip


@pytest.mark.browser
def test_prepare_preview_launch_and_watch_a_fine_tune(
    logged_in_page,
    team,
    make_prompt,
    demo_llm_factory,  # noqa: F811
    live_worker,
    settings,
):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    server = demo_llm_factory(finetune_seconds=4)
    ticket_prompt(make_prompt, team)
    ticket_dataset(team)
    demo_provider(team, server.base_url)
    WorkloadFactory(team=team, slug="triage", name="Triage", model="demo-prompted")
    page = logged_in_page
    page.get_by_role("link", name="Fine-tunes").click()
    expect(page).to_have_title("Fine-tunes · Acme · Crossover")
    page.get_by_role("button", name="New fine-tune").click()
    page.get_by_label("Base model").fill("demo-prompted")
    page.get_by_label("Workload").select_option("triage")
    page.get_by_role("button", name="Preview").click()

    # Everything is shown before anything is sent.
    expect(page.get_by_test_id("validation-ok")).to_contain_text("The training file is valid: 12")
    expect(page.get_by_test_id("jsonl-preview")).to_contain_text(
        '{"role":"system","content":"You classify support tickets."}'
    )
    expect(page.get_by_test_id("estimate")).to_contain_text("Estimated training cost")
    expect(page.get_by_text(re.compile("start with 50–100 curated"))).to_be_visible()
    assert not FineTuneJob.objects.exists()

    page.get_by_role("button", name="Launch fine-tune").click()
    expect(page.get_by_text(re.compile(r"Fine-tune #\d+ launched"))).to_be_visible()
    # The page polls (htmx) until the worker has seen the job through.
    status = page.locator("#job-status [data-status]")
    expect(status).to_have_text("succeeded", timeout=60_000)
    job = FineTuneJob.objects.get()
    expect(page.get_by_test_id("fine-tuned-model")).to_have_text(job.fine_tuned_model)
    expect(page.get_by_test_id("timeline")).to_contain_text("running")
    cost = page.get_by_test_id("cost")
    expect(cost.get_by_role("row", name=re.compile("Actual"))).to_contain_text(
        str(job.trained_tokens)
    )
    expect(page.get_by_test_id("events")).to_contain_text("The job has successfully completed")
    assert ModelPrice.objects.filter(team=team, model=job.fine_tuned_model).exists()

    # One click: the fine-tuned model against the production prompt, on the test split.
    page.get_by_role("button", name="Benchmark against the production prompt").click()
    expect(
        page.get_by_text(re.compile(r"Benchmark run #\d+ started on the test split"))
    ).to_be_visible()
    expect(page.locator("#benchmark [data-status]")).to_have_text("finished", timeout=60_000)
    results = page.get_by_test_id("benchmark-results")
    expect(results.get_by_role("row", name=re.compile("production prompt"))).to_be_visible()
    expect(results.get_by_role("row", name=re.compile("fine-tuned"))).to_be_visible()
    expect(results).to_contain_text("accuracy")

    # The workload now prices the fine-tuned model with the measured training cost.
    page.get_by_role("link", name="Triage").click()
    expect(page.get_by_text(job.fine_tuned_model).first).to_be_visible()
