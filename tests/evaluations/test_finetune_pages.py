"""The fine-tune pages: prepare shows the JSONL, validation and estimate before anything is sent,
launch creates the job, the job page (and its htmx partial) shows timeline, cost and events."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluations.models import FineTuneJob
from evaluations.services import finetunes
from tests.evaluations.finetune_helpers import MODEL, demo_provider, ticket_dataset, ticket_prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_llm_server(demo_llm_factory):
    """A demo endpoint of this test's own: the models its fine-tunes create must not appear in
    the model lists other tests read from the shared one."""
    return demo_llm_factory().base_url


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    settings.FINETUNE_POLL_BASE_MS = 50


@pytest.fixture
def setup(team, make_prompt, demo_llm_server):
    ticket_prompt(make_prompt, team)
    return ticket_dataset(team), demo_provider(team, demo_llm_server)


def form(dataset, provider, **extra):
    return {"dataset": dataset.pk, "prompt_version": "triage:1", "system_prompt": "minimal",
            "provider": provider.pk, "base_model": MODEL, "n_epochs": 3, "batch_size": 4,
            "learning_rate_multiplier": "1", "workload": "", **extra}  # fmt: skip


def test_preview_shows_jsonl_validation_and_estimate_and_sends_nothing(admin_client, team, setup):
    dataset, provider = setup
    url = reverse("evaluations:finetune_prepare", args=[team.slug])
    page = admin_client.get(url)
    assert page.status_code == 200 and "Preview" in page.text
    response = admin_client.post(url, {**form(dataset, provider), "action": "preview"})
    assert response.status_code == 200
    text = response.text
    assert "The training file is valid: 12 examples" in text
    assert "{&quot;role&quot;:&quot;system&quot;,&quot;content&quot;:&quot;You classify support" \
        " tickets.&quot;}" in text  # fmt: skip
    assert "Estimated training cost" in text and "50–100 curated" in text
    assert 'value="launch"' in text
    assert not FineTuneJob.objects.exists()


def test_an_invalid_dataset_shows_its_errors_and_no_launch_button(admin_client, team, setup):
    _, provider = setup
    small = ticket_dataset(team, train=3, name="Small")
    url = reverse("evaluations:finetune_prepare", args=[team.slug])
    response = admin_client.post(url, {**form(small, provider), "action": "preview"})
    assert "3 examples: the fine-tuning API needs at least 10" in response.text
    assert 'value="launch"' not in response.text
    response = admin_client.post(url, {**form(small, provider), "action": "launch"})
    assert response.status_code == 200 and not FineTuneJob.objects.exists()


def test_bad_hyperparameters_are_shown_on_their_field(admin_client, team, setup):
    dataset, provider = setup
    url = reverse("evaluations:finetune_prepare", args=[team.slug])
    response = admin_client.post(url, {**form(dataset, provider, n_epochs=99), "action": "preview"})
    assert "Ensure this value is less than or equal to 50." in response.text
    assert "Estimate" not in response.text


def test_launch_then_watch_the_job_page_until_it_succeeds(admin_client, team, setup):
    dataset, provider = setup
    url = reverse("evaluations:finetune_prepare", args=[team.slug])
    response = admin_client.post(url, {**form(dataset, provider), "action": "launch"})
    job = FineTuneJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    page = admin_client.get(job.get_absolute_url())
    assert 'hx-trigger="every 2s"' in page.text and "Cancel job" in page.text
    for _ in range(200):
        job.refresh_from_db()
        if job.is_terminal:
            break
        finetunes.finetune_step(job_id=job.pk, token=str(job.poll_token))
    partial = admin_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="job-status"')
    assert "hx-trigger" not in partial.text  # finished: polling stops
    assert job.fine_tuned_model in partial.text and 'data-status="succeeded"' in partial.text
    assert "<h2>Data</h2>" not in partial.text
    listing = admin_client.get(reverse("evaluations:finetune_list", args=[team.slug]))
    assert job.fine_tuned_model in listing.text


def test_cancel_from_the_page(admin_client, team, setup):
    dataset, provider = setup
    job = finetunes.finetune_create(team=team, dataset=dataset, version=setup_version(team),
                                    provider=provider, base_model=MODEL)  # fmt: skip
    response = admin_client.post(reverse("evaluations:finetune_cancel", args=[team.slug, job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    again = admin_client.post(reverse("evaluations:finetune_cancel", args=[team.slug, job.pk]),
                              follow=True)  # fmt: skip
    assert "Not cancelled: The job has already cancelled." in again.text


def test_viewers_cannot_launch_or_cancel(client, team, member_factory, setup):
    dataset, provider = setup
    viewer = member_factory(team)
    client.force_login(viewer)
    url = reverse("evaluations:finetune_prepare", args=[team.slug])
    assert client.post(url, {**form(dataset, provider), "action": "launch"}).status_code == 403
    assert not FineTuneJob.objects.exists()


def test_list_page_runs_a_fixed_number_of_queries(admin_client, team, setup,
                                                  django_assert_max_num_queries):  # fmt: skip
    dataset, provider = setup
    for _ in range(3):
        finetunes.finetune_create(team=team, dataset=dataset, version=setup_version(team),
                                  provider=provider, base_model=MODEL)  # fmt: skip
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("evaluations:finetune_list", args=[team.slug]))
    assert response.text.count('data-status="preparing"') == 3


def setup_version(team):
    from prompts.selectors import version_lookup

    return version_lookup(team=team, slug="triage", label="production")


def run_to_end(job):
    for _ in range(200):
        job.refresh_from_db()
        if job.is_terminal:
            return job
        finetunes.finetune_step(job_id=job.pk, token=str(job.poll_token))
    raise AssertionError(job.status)


# The runner stores results from its own threads: the rows must be committed.
@pytest.mark.django_db(transaction=True)
def test_one_click_benchmark_of_the_fine_tuned_model_against_the_production_prompt(
    admin_client, team, setup
):
    from evaluations.models import BenchmarkRun
    from evaluations.services.benchmarks import benchmark_chunk_run

    dataset, provider = setup
    job = finetunes.finetune_create(team=team, dataset=dataset, version=setup_version(team),
                                    provider=provider, base_model=MODEL,
                                    system_prompt_mode="minimal")  # fmt: skip
    url = reverse("evaluations:finetune_benchmark", args=[team.slug, job.pk])
    early = admin_client.post(url, follow=True)
    assert "Not started: Only a fine-tune that succeeded can be benchmarked." in early.text
    job = run_to_end(job)
    page = admin_client.get(job.get_absolute_url())
    assert "Benchmark against the production prompt" in page.text
    response = admin_client.post(url)
    assert response.status_code == 302
    run = BenchmarkRun.objects.get()
    job.refresh_from_db()
    assert job.benchmark_run == run and run.split == "test" and run.total == 2 * 3
    prompted, tuned = run.candidates.order_by("position")
    assert (prompted.approach, prompted.model, prompted.prompt_label) == (
        "prompt", MODEL, "production")  # fmt: skip
    assert prompted.prompt_version == setup_version(team)
    assert (tuned.approach, tuned.model) == ("fine-tune", job.fine_tuned_model)
    # The fine-tuned model is called with the minimal prompt it was trained with.
    assert tuned.prompt_version.template.slug == f"triage-ft{job.pk}"
    assert tuned.prompt_version.messages[0] == {
        "role": "system", "content": "You classify support tickets."
    }  # fmt: skip
    assert tuned.prompt_version.few_shot == []
    partial = {"HX-Request": "true", "HX-Target": "benchmark"}
    active = admin_client.get(job.get_absolute_url(), headers=partial)
    assert active.text.lstrip().startswith('<section id="benchmark"')
    assert 'hx-trigger="every 2s"' in active.text
    for index in range(run.chunk_count):
        benchmark_chunk_run(run_id=run.pk, index=index)
    done = admin_client.get(job.get_absolute_url(), headers=partial)
    assert 'data-status="finished"' in done.text and "hx-trigger" not in done.text
    assert "production prompt" in done.text and "fine-tuned" in done.text
    assert "accuracy" in done.text
    # Asking twice starts no second run.
    admin_client.post(url)
    assert BenchmarkRun.objects.count() == 1


def test_a_dataset_page_offers_to_fine_tune_from_it(admin_client, team, setup):
    dataset, _ = setup
    page = admin_client.get(reverse("evaluations:dataset_detail", args=[team.slug, dataset.pk]))
    link = f"/t/{team.slug}/fine-tunes/new/?dataset={dataset.pk}"
    assert link in page.text
    prepare = admin_client.get(link)
    assert f'<option value="{dataset.pk}" selected>' in prepare.text


def test_the_job_page_runs_a_fixed_number_of_queries(admin_client, team, setup,
                                                     django_assert_max_num_queries):  # fmt: skip
    dataset, provider = setup
    job = run_to_end(finetunes.finetune_create(team=team, dataset=dataset,
                     version=setup_version(team), provider=provider, base_model=MODEL))  # fmt: skip
    assert job.events.count() > 10
    with django_assert_max_num_queries(10):
        response = admin_client.get(job.get_absolute_url())
    assert response.status_code == 200
